"""`torch.backends.cudnn`: Rosenblatt has no cuDNN; the flags are stored and change nothing."""

from __future__ import annotations

enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    """False: Rosenblatt's convolutions do not use cuDNN."""
    return False


def version() -> None:
    """None, as PyTorch answers without cuDNN."""
    return None
