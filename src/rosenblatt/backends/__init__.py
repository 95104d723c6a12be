"""`torch.backends`: the flags programs set before training, answered for this machine.

Rosenblatt computes float32 matrix products in float32 (NumPy/CuPy), never TF32, and has no
cuDNN, MPS or MKL-DNN switches, so the flags are accepted and stored but change nothing;
`is_available()` says what is really there.
"""

from __future__ import annotations

from . import cpu, cuda, cudnn, mkldnn, mps

__all__ = ["cpu", "cuda", "cudnn", "mkldnn", "mps", "set_float32_matmul_precision",
           "get_float32_matmul_precision", "set_num_threads", "get_num_threads",
           "use_deterministic_algorithms", "are_deterministic_algorithms_enabled"]

_PRECISIONS = ("highest", "high", "medium")
_matmul_precision = "highest"
_deterministic = {"mode": False, "warn_only": False}


def set_float32_matmul_precision(precision: str) -> None:
    """Accepts 'highest', 'high', 'medium'; products stay full float32 whatever is set."""
    global _matmul_precision
    if precision not in _PRECISIONS:
        raise RuntimeError(f"invalid precision '{precision}': expected one of {_PRECISIONS}")
    _matmul_precision = precision


def get_float32_matmul_precision() -> str:
    """The precision last set ('highest' by default)."""
    return _matmul_precision


def set_num_threads(threads: int) -> None:
    """Use `threads` threads for the CPU work: the kernels' own pool (_backend/parallel.py)
    and the BLAS/OpenMP pools (threadpoolctl, when installed)."""
    if not isinstance(threads, int) or threads <= 0:
        raise RuntimeError(f"set_num_threads expects a positive integer, got {threads!r}")
    from .._backend.parallel import set_threads
    from ..utils.threads import limit_blas_threads

    set_threads(threads)
    limit_blas_threads(threads)


def get_num_threads() -> int:
    """The largest thread count of the BLAS/OpenMP pools (os.cpu_count() without
    threadpoolctl)."""
    import os

    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return os.cpu_count() or 1
    return max((int(pool["num_threads"]) for pool in threadpool_info()),
               default=os.cpu_count() or 1)


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Record the setting: every Rosenblatt op is deterministic already (NumPy on the CPU;
    CuPy scatter-adds on a GPU may reorder float sums)."""
    _deterministic.update(mode=bool(mode), warn_only=bool(warn_only))


def are_deterministic_algorithms_enabled() -> bool:
    """What use_deterministic_algorithms last set."""
    return _deterministic["mode"]
