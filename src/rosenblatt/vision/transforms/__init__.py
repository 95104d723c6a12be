"""`torchvision.transforms` (v1 names) for Rosenblatt: rosenblatt.transforms plus Resize, Pad,
Grayscale, RandomResizedCrop, dtype conversions and the random combinators."""

from ...transforms import *  # noqa: F403
from ...transforms import __all__ as _base_names
from . import functional
from .color import *  # noqa: F403
from .color import __all__ as _color_names
from .transforms import *  # noqa: F403
from .transforms import __all__ as _added_names

__all__ = [*_base_names, *_added_names, *_color_names]
