"""`torch.mps`: Apple's Metal backend, which Rosenblatt does not have (queries answer so)."""

from __future__ import annotations

from .random import manual_seed as _manual_seed


def is_available() -> bool:
    """False: Rosenblatt has no Metal (MPS) backend."""
    return False


def device_count() -> int:
    """0: no MPS device is usable from Rosenblatt."""
    return 0


def manual_seed(seed: int) -> None:
    """Seed the one shared generator."""
    _manual_seed(seed)


def synchronize() -> None:
    """Raises: there is no MPS device to wait for."""
    raise RuntimeError("Rosenblatt has no MPS (Metal) backend: torch.mps.synchronize() "
                       "has no device to wait for")


def empty_cache() -> None:
    """Nothing to free: no MPS device."""
