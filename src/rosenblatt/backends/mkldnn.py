"""`torch.backends.mkldnn`: Rosenblatt does not use oneDNN; `enabled` is stored only."""

from __future__ import annotations

enabled = True


def is_available() -> bool:
    """False: NumPy's BLAS does the CPU work, not oneDNN."""
    return False
