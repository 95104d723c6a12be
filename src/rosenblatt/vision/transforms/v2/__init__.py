"""`torchvision.transforms.v2`: the v1 transforms under their v2 names, plus ToImage, ToDtype and
ToPureTensor (images are plain tensors here, so there are no tv_tensors wrappers)."""

from __future__ import annotations

from typing import Any

from ....autograd.tensor import Tensor
from ... import transforms as _v1
from ...transforms import *  # noqa: F403
from .. import functional
from ..transforms import PILToTensor, Transform

__all__ = [*_v1.__all__, "ToImage", "ToDtype", "ToPureTensor", "functional"]


class ToImage(Transform):
    """PIL image or (H, W, C) array -> tensor (C, H, W) with its values as they are (uint8 stays
    uint8); a tensor is returned unchanged."""

    batched = False

    def __call__(self, inpt: Any) -> Tensor:
        if isinstance(inpt, Tensor):
            return inpt
        return PILToTensor()(inpt)


class ToDtype(Transform):
    """Convert to dtype; with scale=True, uint8 0-255 <-> float 0-1 as ConvertImageDtype."""

    def __init__(self, dtype: Any, scale: bool = False) -> None:
        self.dtype, self.scale = dtype, scale

    def __call__(self, inpt: Tensor) -> Tensor:
        if self.scale:
            return _v1.ConvertImageDtype(self.dtype)(inpt)
        return inpt.to(self.dtype)


class ToPureTensor(Transform):
    """The identity: images here are already plain tensors."""

    def __call__(self, inpt: Any) -> Any:
        return inpt
