"""`torch.backends.cpu`: what the CPU path uses."""

from __future__ import annotations


def get_cpu_capability() -> str:
    """'DEFAULT': Rosenblatt has no CPU-specific kernels of its own (NumPy picks its own)."""
    return "DEFAULT"
