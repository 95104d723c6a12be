"""torchvision's v1 transforms that rosenblatt.transforms lacks: Resize, Pad, Grayscale,
RandomResizedCrop, ConvertImageDtype, PILToTensor, ToPILImage, RandomApply/Choice/Order.

As in rosenblatt.transforms, images are tensors (C, H, W) (or batches (N, C, H, W)); a PIL
image given to one of these is first made a float tensor in [0, 1] (ToTensor, in _as_batch),
so torchvision pipelines that start from PIL images keep working.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Callable, Sequence

from ... import random as rnd
from ..._backend import np
from ...autograd.tensor import Tensor
from ...transforms import InterpolationMode, Transform, _as_batch, _size2

__all__ = ["Resize", "Pad", "Grayscale", "RandomResizedCrop", "ConvertImageDtype",
           "PILToTensor", "ToPILImage", "RandomApply", "RandomChoice", "RandomOrder"]


def _filter_matrix(size_in: int, size_out: int, mode: str) -> Any:
    """(size_out, size_in) weights of PIL-style antialiased resampling along one axis.

    Each output pixel averages the input under a triangle (bilinear) or box (nearest)
    window stretched by the scale factor when shrinking, as torchvision's antialias=True.
    """
    scale = size_in / size_out
    support = max(scale, 1.0)
    centers = (np.arange(size_out) + 0.5) * scale
    offsets = (np.arange(size_in)[None, :] + 0.5 - centers[:, None]) / support
    if mode == InterpolationMode.NEAREST:
        index = np.minimum(np.floor(centers).astype(np.int64), size_in - 1)
        weights = np.zeros((size_out, size_in))
        weights[np.arange(size_out), index] = 1.0
        return weights
    weights = np.clip(1.0 - np.abs(offsets), 0.0, None)
    return weights / weights.sum(axis=1, keepdims=True)


def resized_shape(h: int, w: int, size: Any, max_size: int | None = None) -> tuple[int, int]:
    """torchvision's output size: an int sets the shorter edge, keeping the aspect ratio."""
    if isinstance(size, (list, tuple)) and len(size) == 2:
        return int(size[0]), int(size[1])
    short_target = int(size[0] if isinstance(size, (list, tuple)) else size)
    short, long = (h, w) if h <= w else (w, h)
    new_short, new_long = short_target, int(short_target * long / short)
    if max_size is not None and new_long > max_size:
        new_short, new_long = int(max_size * new_short / new_long), max_size
    return (new_short, new_long) if h <= w else (new_long, new_short)


class Resize(Transform):
    """Resize to `size` ((h, w), or an int for the shorter edge), antialiased bilinear."""

    def __init__(self, size: Any, interpolation: Any = InterpolationMode.BILINEAR,
                 max_size: int | None = None, antialias: bool | None = True) -> None:
        self.size = size
        self.interpolation = getattr(interpolation, "value", interpolation)
        self.max_size = max_size
        self.antialias = antialias

    def __call__(self, img: Any) -> Any:
        batch, restore = _as_batch(img)
        h, w = batch.shape[-2:]
        th, tw = resized_shape(h, w, self.size, self.max_size)
        if (th, tw) == (h, w):
            return restore(batch)
        rows = _filter_matrix(h, th, self.interpolation).astype(np.float64)
        cols = _filter_matrix(w, tw, self.interpolation).astype(np.float64)
        out = np.einsum("ih,nchw,jw->ncij", rows, batch.astype(np.float64), cols)
        if batch.dtype == np.uint8:
            return restore(np.clip(np.round(out), 0, 255).astype(np.uint8))
        return restore(out.astype(batch.dtype))


class Pad(Transform):
    """Pad each border: an int for all, (left/right, top/bottom), or (left, top, right, bottom)."""

    def __init__(self, padding: Any, fill: float = 0, padding_mode: str = "constant") -> None:
        if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
            raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
        self.padding, self.fill, self.padding_mode = padding, fill, padding_mode

    def __call__(self, img: Any) -> Any:
        batch, restore = _as_batch(img)
        p = self.padding
        if isinstance(p, numbers.Number):
            left = top = right = bottom = int(p)  # type: ignore[call-overload]
        elif len(p) == 1:
            left = top = right = bottom = int(p[0])
        elif len(p) == 2:
            (left, top), (right, bottom) = (int(p[0]), int(p[1])), (int(p[0]), int(p[1]))
        else:
            left, top, right, bottom = (int(v) for v in p)
        widths = ((0, 0), (0, 0), (top, bottom), (left, right))
        if self.padding_mode == "constant":
            return restore(np.pad(batch, widths, mode="constant", constant_values=self.fill))
        return restore(np.pad(batch, widths, mode=self.padding_mode))


class Grayscale(Transform):
    """RGB (3, H, W) -> luma (ITU-R 601-2: 0.299 R + 0.587 G + 0.114 B), 1 or 3 channels."""

    def __init__(self, num_output_channels: int = 1) -> None:
        if num_output_channels not in (1, 3):
            raise ValueError("num_output_channels should be either 1 or 3")
        self.num_output_channels = num_output_channels

    def __call__(self, img: Any) -> Any:
        batch, restore = _as_batch(img)
        if batch.shape[1] == 1:
            gray = batch
        elif batch.shape[1] == 3:
            weights = np.array([0.299, 0.587, 0.114]).reshape(1, 3, 1, 1)
            gray = (batch * weights).sum(axis=1, keepdims=True).astype(batch.dtype)
        else:
            raise TypeError(f"Input image tensor permitted channel values are 1 or 3, but "
                            f"found {batch.shape[1]}")
        return restore(np.repeat(gray, self.num_output_channels, axis=1))


class RandomResizedCrop(Transform):
    """A random area (scale) and aspect ratio (ratio) crop, resized to `size` (Inception)."""

    def __init__(self, size: Any, scale: Sequence[float] = (0.08, 1.0),
                 ratio: Sequence[float] = (3.0 / 4.0, 4.0 / 3.0),
                 interpolation: Any = InterpolationMode.BILINEAR,
                 antialias: bool | None = True) -> None:
        self.size = _size2(size)
        self.scale, self.ratio = tuple(scale), tuple(ratio)
        self.resize = Resize(self.size, interpolation, antialias=antialias)

    def window(self, h: int, w: int) -> tuple[int, int, int, int]:
        """(top, left, height, width) drawn as torchvision draws it (10 tries, then centre)."""
        rng, area = rnd.gen(), h * w
        log_ratio = (math.log(self.ratio[0]), math.log(self.ratio[1]))
        for _ in range(10):
            target = area * rng.uniform(self.scale[0], self.scale[1])
            aspect = math.exp(rng.uniform(*log_ratio))
            cw, ch = int(round(math.sqrt(target * aspect))), int(round(math.sqrt(target / aspect)))
            if 0 < cw <= w and 0 < ch <= h:
                return int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1)), ch, cw
        in_ratio = w / h
        if in_ratio < min(self.ratio):
            cw, ch = w, int(round(w / min(self.ratio)))
        elif in_ratio > max(self.ratio):
            ch, cw = h, int(round(h * max(self.ratio)))
        else:
            cw, ch = w, h
        return (h - ch) // 2, (w - cw) // 2, ch, cw

    def __call__(self, img: Any) -> Any:
        batch, restore = _as_batch(img)
        out = []
        for image in batch:
            top, left, ch, cw = self.window(*image.shape[-2:])
            out.append(self.resize(image[None, :, top:top + ch, left:left + cw])[0])
        return restore(np.stack(out))


class ConvertImageDtype(Transform):
    """Convert a tensor image's dtype, rescaling values (uint8 0-255 <-> float 0-1)."""

    def __init__(self, dtype: Any) -> None:
        self.dtype = dtype

    def __call__(self, image: Tensor) -> Tensor:
        if image.dtype == self.dtype:
            return image
        if image.is_floating_point() and not self.dtype.is_floating_point:
            return (image * 255.0 + 0.5).clamp(0, 255).to(self.dtype)
        if not image.is_floating_point() and self.dtype.is_floating_point:
            return image.to(self.dtype) / 255.0
        return image.to(self.dtype)


class PILToTensor(Transform):
    """PIL image -> uint8 tensor (C, H, W), values unscaled."""

    batched = False

    def __call__(self, pic: Any) -> Tensor:
        from ...ops.creation import tensor as make_tensor

        array = np.asarray(pic)
        array = array[:, :, None] if array.ndim == 2 else array
        return make_tensor(np.ascontiguousarray(array.transpose(2, 0, 1)))


class ToPILImage(Transform):
    """Tensor (C, H, W) or array (H, W, C) -> PIL image (floats are scaled by 255); Pillow."""

    batched = False

    def __init__(self, mode: str | None = None) -> None:
        self.mode = mode

    def __call__(self, pic: Any) -> Any:
        from PIL import Image  # optional extra 'images'

        if isinstance(pic, Tensor):
            array = pic.detach().cpu().numpy()
            array = array[None] if array.ndim == 2 else array
            if array.dtype.kind == "f":
                array = (array * 255).astype(np.uint8)  # torchvision: pic.mul(255).byte()
            array = array.transpose(1, 2, 0)
        else:
            array = np.asarray(pic)
        if array.ndim == 3 and array.shape[2] == 1:
            array = array[:, :, 0]
        return Image.fromarray(array, mode=self.mode)


class RandomApply(Transform):
    """Apply the listed transforms, in order, with probability p (one draw for all)."""

    batched = False

    def __init__(self, transforms: Sequence[Callable], p: float = 0.5) -> None:
        self.transforms, self.p = list(transforms), p

    def __call__(self, img: Any) -> Any:
        if rnd.gen().random() >= self.p:
            return img
        for t in self.transforms:
            img = t(img)
        return img


class RandomChoice(Transform):
    """Apply one of the transforms, picked at random (with optional weights p)."""

    batched = False

    def __init__(self, transforms: Sequence[Callable], p: Sequence[float] | None = None) -> None:
        self.transforms = list(transforms)
        self.p = None if p is None else [v / sum(p) for v in p]

    def __call__(self, img: Any) -> Any:
        return self.transforms[int(rnd.gen().choice(len(self.transforms), p=self.p))](img)


class RandomOrder(Transform):
    """Apply the transforms in a random order."""

    batched = False

    def __init__(self, transforms: Sequence[Callable]) -> None:
        self.transforms = list(transforms)

    def __call__(self, img: Any) -> Any:
        for i in rnd.gen().permutation(len(self.transforms)):
            img = self.transforms[int(i)](img)
        return img
