"""`rosenblatt.vision`: a torchvision subset with torchvision's names (`import torchvision`
under `rosenblatt run`): datasets, transforms, models and utils (save_image, make_grid).

Submodules load on first use, as in `rosenblatt` itself.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"
_SUBMODULES = {"datasets", "transforms", "models", "utils", "io"}


def __getattr__(name: str) -> Any:
    """Load a submodule on first use."""
    if name in _SUBMODULES:
        return importlib.import_module(f"rosenblatt.vision.{name}")
    raise AttributeError(f"module 'rosenblatt.vision' has no attribute '{name}'")
