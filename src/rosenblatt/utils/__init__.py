"""Utilities with PyTorch's import paths: `rosenblatt.utils.data` (datasets and loaders),
`utils.checkpoint`, `utils.tensorboard` (the last two load on first use)."""

from __future__ import annotations

import importlib
from typing import Any

from . import data

__all__ = ["data", "checkpoint", "tensorboard"]
_LAZY = {"checkpoint", "tensorboard"}


def __getattr__(name: str) -> Any:
    """Load a submodule on first use."""
    if name in _LAZY:
        return importlib.import_module(f"rosenblatt.utils.{name}")
    raise AttributeError(f"module 'rosenblatt.utils' has no attribute '{name}'")
