"""`torch.cuda` for Rosenblatt: truthful device queries, through CuPy where it is installed.

Without CuPy or without a GPU, `is_available()` is False and `device_count()` 0, and the
calls that need a device raise as PyTorch's CPU build does. Seeding seeds the one shared
generator (Rosenblatt draws every random number on the host).
"""

from __future__ import annotations

from typing import Any

from .._backend import _load_cupy, cuda_is_available
from ..random import manual_seed as _manual_seed
from ..random import seed as _seed
from . import amp

__all__ = ["is_available", "device_count", "current_device", "set_device", "get_device_name",
           "get_device_capability", "synchronize", "empty_cache", "memory_allocated",
           "max_memory_allocated", "memory_reserved", "reset_peak_memory_stats",
           "is_bf16_supported", "manual_seed", "manual_seed_all", "seed", "seed_all", "amp"]

is_available = cuda_is_available


def _cupy() -> Any:
    """CuPy, when a CUDA device is there to use; PyTorch's CPU-build error otherwise."""
    if not cuda_is_available():
        raise RuntimeError("CUDA is not available: Rosenblatt runs on CUDA through CuPy, and "
                           "CuPy is not installed or sees no GPU (pip install 'rosenblatt[gpu]')")
    return _load_cupy()


def device_count() -> int:
    """How many CUDA devices CuPy sees (0 without CuPy or a GPU)."""
    return int(_cupy().cuda.runtime.getDeviceCount()) if cuda_is_available() else 0


def current_device() -> int:
    """Index of the current CUDA device."""
    return int(_cupy().cuda.runtime.getDevice())


def set_device(device: Any) -> None:
    """Make a CUDA device current (an index, 'cuda:i' or a device)."""
    index = device if isinstance(device, int) else getattr(device, "index", None)
    if isinstance(device, str):
        index = int(device.partition(":")[2] or 0)
    _cupy().cuda.runtime.setDevice(int(index or 0))


def _properties(device: Any = None) -> dict:
    index = current_device() if device is None else (
        device if isinstance(device, int) else int(getattr(device, "index", 0) or 0))
    return _cupy().cuda.runtime.getDeviceProperties(index)


def get_device_name(device: Any = None) -> str:
    """The GPU's name, e.g. 'NVIDIA H100 80GB HBM3'."""
    name = _properties(device)["name"]
    return name.decode() if isinstance(name, bytes) else str(name)


def get_device_capability(device: Any = None) -> tuple[int, int]:
    """(major, minor) compute capability."""
    props = _properties(device)
    return int(props["major"]), int(props["minor"])


def is_bf16_supported(including_emulation: bool = True) -> bool:
    """False: Rosenblatt computes in float16/32/64, not bfloat16."""
    return False


def synchronize(device: Any = None) -> None:
    """Wait for the GPU's queued work to finish."""
    _cupy().cuda.Device().synchronize()


def empty_cache() -> None:
    """Return CuPy's cached, unused GPU blocks to the driver (nothing to do without a GPU)."""
    if cuda_is_available():
        _cupy().get_default_memory_pool().free_all_blocks()


def memory_allocated(device: Any = None) -> int:
    """Bytes held by live GPU arrays (0 without a GPU)."""
    return int(_cupy().get_default_memory_pool().used_bytes()) if cuda_is_available() else 0


def memory_reserved(device: Any = None) -> int:
    """Bytes CuPy's pool holds from the driver (0 without a GPU)."""
    return int(_cupy().get_default_memory_pool().total_bytes()) if cuda_is_available() else 0


def max_memory_allocated(device: Any = None) -> int:
    """CuPy keeps no peak: the pool's current total, an upper bound of what is in use."""
    return memory_reserved(device)


def reset_peak_memory_stats(device: Any = None) -> None:
    """Nothing to reset: no peak is tracked (see max_memory_allocated)."""


def manual_seed(seed: int) -> None:
    """Seed the one shared generator (all random numbers are drawn on the host)."""
    _manual_seed(seed)


manual_seed_all = manual_seed


def seed() -> None:
    """Seed the shared generator from a non-deterministic source."""
    _seed()


seed_all = seed
