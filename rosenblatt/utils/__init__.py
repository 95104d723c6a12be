"""Utilities with PyTorch's import paths: `rosenblatt.utils.data` (datasets and loaders)."""

from . import data

__all__ = ["data"]
