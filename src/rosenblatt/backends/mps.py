"""`torch.backends.mps`: Rosenblatt has no Metal (MPS) backend."""

from __future__ import annotations


def is_available() -> bool:
    """False: no MPS backend."""
    return False


def is_built() -> bool:
    """False: no MPS backend."""
    return False
