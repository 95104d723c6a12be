"""`torch.accelerator`: which accelerator this process can use - CUDA through CuPy, or none."""

from __future__ import annotations

from typing import Any

from . import cuda
from ._backend import Device
from ._backend import device as make_device

__all__ = ["is_available", "current_accelerator", "device_count", "current_device_index",
           "set_device_index", "synchronize", "empty_cache"]


def is_available() -> bool:
    """True when a CUDA device is usable (CuPy installed and a GPU seen)."""
    return cuda.is_available()


def current_accelerator(check_available: bool = False) -> Device | None:
    """device('cuda') when CUDA is usable, else None (the CPU is not an accelerator)."""
    return make_device("cuda") if cuda.is_available() else None


def device_count() -> int:
    """Number of accelerator devices (0 without one)."""
    return cuda.device_count()


def current_device_index() -> int:
    """Index of the current accelerator device."""
    return cuda.current_device()


current_device_idx = current_device_index


def set_device_index(device: Any) -> None:
    """Make an accelerator device current."""
    cuda.set_device(device)


set_device_idx = set_device_index


def synchronize(device: Any = None) -> None:
    """Wait for the accelerator's queued work."""
    cuda.synchronize(device)


def empty_cache() -> None:
    """Free the accelerator's cached, unused memory."""
    cuda.empty_cache()
