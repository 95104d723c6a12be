"""`torchvision.transforms.functional`: the transforms as functions of one image (tensor
(C, H, W) or batch; a PIL image is made a float tensor first, as the classes do)."""

from __future__ import annotations

from typing import Any, Sequence

from ..._backend import np
from ...autograd.tensor import Tensor
from ...transforms import CenterCrop, InterpolationMode, Normalize, ToTensor, _as_batch
from .transforms import Grayscale, Pad, PILToTensor, Resize, ToPILImage

__all__ = ["to_tensor", "pil_to_tensor", "to_pil_image", "normalize", "resize", "center_crop",
           "crop", "pad", "hflip", "vflip", "rgb_to_grayscale", "to_grayscale",
           "InterpolationMode"]


def to_tensor(pic: Any) -> Tensor:
    """PIL image or (H, W, C) array -> float tensor (C, H, W), uint8 scaled to [0, 1]."""
    return ToTensor()(pic)


def pil_to_tensor(pic: Any) -> Tensor:
    """PIL image -> uint8 tensor (C, H, W)."""
    return PILToTensor()(pic)


def to_pil_image(pic: Any, mode: str | None = None) -> Any:
    """Tensor (C, H, W) or array (H, W, C) -> PIL image."""
    return ToPILImage(mode)(pic)


def normalize(tensor: Tensor, mean: Sequence[float], std: Sequence[float],
              inplace: bool = False) -> Tensor:
    """(x - mean[c]) / std[c] per channel."""
    return Normalize(mean, std, inplace)(tensor)


def resize(img: Any, size: Any, interpolation: Any = InterpolationMode.BILINEAR,
           max_size: int | None = None, antialias: bool | None = True) -> Any:
    """Resize to size ((h, w), or an int for the shorter edge)."""
    return Resize(size, interpolation, max_size, antialias)(img)


def center_crop(img: Any, output_size: Any) -> Any:
    """The central output_size window."""
    return CenterCrop(output_size)(img)


def crop(img: Any, top: int, left: int, height: int, width: int) -> Any:
    """The (height, width) window at (top, left); zero-padded where it leaves the image."""
    batch, restore = _as_batch(img)
    h, w = batch.shape[-2:]
    pads = (max(0, -top), max(0, top + height - h), max(0, -left), max(0, left + width - w))
    if any(pads):
        batch = np.pad(batch, ((0, 0), (0, 0), pads[:2], pads[2:]))
        top, left = top + pads[0], left + pads[2]
    return restore(np.ascontiguousarray(batch[:, :, top:top + height, left:left + width]))


def pad(img: Any, padding: Any, fill: float = 0, padding_mode: str = "constant") -> Any:
    """Pad each border (an int, (lr, tb) or (left, top, right, bottom))."""
    return Pad(padding, fill, padding_mode)(img)


def hflip(img: Any) -> Any:
    """Mirror left-right."""
    batch, restore = _as_batch(img)
    return restore(np.ascontiguousarray(batch[..., ::-1]))


def vflip(img: Any) -> Any:
    """Mirror top-bottom."""
    batch, restore = _as_batch(img)
    return restore(np.ascontiguousarray(batch[..., ::-1, :]))


def rgb_to_grayscale(img: Any, num_output_channels: int = 1) -> Any:
    """RGB -> luma, 1 or 3 channels."""
    return Grayscale(num_output_channels)(img)


to_grayscale = rgb_to_grayscale
