"""`torch.backends`: the flags programs set before training, answered for this machine.

Rosenblatt computes float32 matrix products in float32 (NumPy/CuPy), never TF32, and has no
cuDNN, MPS or MKL-DNN switches, so the flags are accepted and stored but change nothing;
`is_available()` says what is really there.
"""

from __future__ import annotations

from . import cpu, cuda, cudnn, mkldnn, mps

__all__ = ["cpu", "cuda", "cudnn", "mkldnn", "mps", "set_float32_matmul_precision",
           "get_float32_matmul_precision"]

_PRECISIONS = ("highest", "high", "medium")
_matmul_precision = "highest"


def set_float32_matmul_precision(precision: str) -> None:
    """Accepts 'highest', 'high', 'medium'; products stay full float32 whatever is set."""
    global _matmul_precision
    if precision not in _PRECISIONS:
        raise RuntimeError(f"invalid precision '{precision}': expected one of {_PRECISIONS}")
    _matmul_precision = precision


def get_float32_matmul_precision() -> str:
    """The precision last set ('highest' by default)."""
    return _matmul_precision
