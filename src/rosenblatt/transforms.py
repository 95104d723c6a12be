"""Image transforms with torchvision's names: Compose, ToTensor, Normalize, Lambda and random
augmentations (rotation, affine, crop, flips, Gaussian noise).

Every transform takes an image tensor (C, H, W) (or (H, W)) or a batch (N, C, H, W); on a
batch the random ones draw separate parameters for each image, so augmenting a whole
batch is one call (the DataLoader does that for the data sets of rosenblatt.datasets:
transforms here are marked `batched`). Random draws come from the generator behind
`rb.manual_seed`, so a seeded run augments the same way each time. Rotations and affine
maps use scipy.ndimage.affine_transform, imported on first use.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Callable, Sequence

from . import random as rnd
from ._backend import CPU, device_of, np, to_device
from .autograd.tensor import Tensor
from .ops.creation import tensor as make_tensor

__all__ = [
    "Compose", "ToTensor", "Normalize", "Lambda", "InterpolationMode", "RandomRotation",
    "RandomAffine", "RandomCrop", "CenterCrop", "RandomHorizontalFlip", "RandomVerticalFlip",
    "GaussianNoise", "AddGaussianNoise",
]


class InterpolationMode:
    """How pixels between grid points are sampled (torchvision's names)."""

    NEAREST = "nearest"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"


_ORDERS = {"nearest": 0, "bilinear": 1, "bicubic": 3}


class Transform:
    """Base class: `batched` says the transform handles (N, C, H, W) batches image by image."""

    batched = True

    def __call__(self, img: Any) -> Any:
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({args})"


class Compose(Transform):
    """Apply transforms one after another."""

    def __init__(self, transforms: Sequence[Callable]) -> None:
        self.transforms = list(transforms)

    @property
    def batched(self) -> bool:  # type: ignore[override]
        """True when every step handles batches."""
        return all(getattr(t, "batched", False) for t in self.transforms)

    def __call__(self, img: Any) -> Any:
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self) -> str:
        body = "".join(f"\n    {t}" for t in self.transforms)
        return f"Compose({body}\n)"


class Lambda(Transform):
    """Apply a user function (not assumed to handle batches)."""

    batched = False

    def __init__(self, lambd: Callable) -> None:
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got {type(lambd).__name__!r}")
        self.lambd = lambd

    def __call__(self, img: Any) -> Any:
        return self.lambd(img)


class ToTensor(Transform):
    """PIL image or (H, W[, C]) array -> float tensor (C, H, W); uint8 scaled to [0, 1].

    A tensor is returned unchanged (the data sets here already give float tensors), so
    torchvision-style `Compose([ToTensor(), Normalize(...)])` pipelines work as they are.
    """

    def __call__(self, pic: Any) -> Tensor:
        if isinstance(pic, Tensor):
            return pic
        if not isinstance(pic, np.ndarray):
            if not hasattr(pic, "mode"):  # a PIL image has .mode; anything else is an error
                raise TypeError(f"pic should be PIL Image or ndarray. Got {type(pic)}")
            pic = np.asarray(pic)
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        array = pic[:, :, None] if pic.ndim == 2 else pic
        array = np.ascontiguousarray(array.transpose(2, 0, 1))
        if array.dtype == np.uint8:
            array = array.astype(np.float32) / np.float32(255)
        elif array.dtype == np.bool_:
            array = array.astype(np.float32)
        return make_tensor(array)


class Normalize(Transform):
    """(x - mean[c]) / std[c] per channel of a float tensor (..., C, H, W); differentiable."""

    def __init__(self, mean: Sequence[float], std: Sequence[float], inplace: bool = False) -> None:
        self.mean = list(mean) if isinstance(mean, (list, tuple)) else [float(mean)]
        self.std = list(std) if isinstance(std, (list, tuple)) else [float(std)]
        self.inplace = inplace

    def __call__(self, x: Tensor) -> Tensor:
        if not isinstance(x, Tensor):
            raise TypeError(f"img should be Tensor Image. Got {type(x)}")
        if not x.is_floating_point():
            raise TypeError(f"Input tensor should be a float tensor. Got {x.dtype}.")
        if x.ndim < 3:
            raise ValueError("Expected tensor to be a tensor image of size (..., C, H, W). "
                             f"Got tensor.size() = {tuple(x.shape)}")
        mean = make_tensor(self.mean, dtype=x.dtype, device=x.device).reshape(-1, 1, 1)
        std = make_tensor(self.std, dtype=x.dtype, device=x.device).reshape(-1, 1, 1)
        if (std == 0).any():
            raise ValueError(f"std evaluated to zero after conversion to {x.dtype}, "
                             "leading to division by zero.")
        if self.inplace:
            return x.sub_(mean).div_(std)
        return (x - mean) / std


# ------------------------------------------------------------------ batch plumbing
def _as_batch(img: Any) -> tuple[Any, Callable[[Any], Any]]:
    """img as a CPU array (N, C, H, W) and a function that gives a result back img's form.

    A PIL image is first made a float tensor (C, H, W) in [0, 1] (ToTensor), and the result
    stays a tensor: torchvision pipelines that start from PIL images keep working.
    """
    if hasattr(img, "mode") and hasattr(img, "getbands"):  # a PIL image
        img = ToTensor()(img)
    is_tensor = isinstance(img, Tensor)
    array = img._data if is_tensor else np.asarray(img)
    where = device_of(array)
    array = to_device(array, CPU)
    shape = array.shape
    if array.ndim < 2 or array.ndim > 4:
        raise ValueError(f"expected an image (H, W), (C, H, W) or a batch (N, C, H, W), "
                         f"got shape {list(shape)}")
    batch = array if array.ndim == 4 else array.reshape((1, -1) + shape[-2:])

    def restore(out: Any) -> Any:
        if len(shape) < 4:  # (1, C, h, w) back to (C, h, w) or (h, w)
            out = out.reshape(shape[:-2] + out.shape[-2:])
        out = to_device(out, where)
        return Tensor._make(out, False, None) if is_tensor else out

    return batch, restore


def _pair(value: Any, name: str, symmetric: bool = True) -> tuple[float, float]:
    """A number d -> (-d, d) (d >= 0); a pair -> itself."""
    if isinstance(value, numbers.Number):
        if value < 0:  # type: ignore[operator]
            raise ValueError(f"If {name} is a single number, it must be positive.")
        v = float(value)  # type: ignore[arg-type]
        return (-v, v) if symmetric else (v, v)
    if len(value) != 2:
        raise ValueError(f"If {name} is a sequence, it must be of len 2.")
    return float(value[0]), float(value[1])


def _order(interpolation: Any) -> int:
    mode = getattr(interpolation, "value", interpolation)
    if mode not in _ORDERS:
        raise ValueError(f"interpolation must be one of {sorted(_ORDERS)}, got {interpolation!r}")
    return _ORDERS[mode]


def affine_images(batch: Any, angles: Any, translations: Any, scales: Any, shears: Any,
                  order: int = 0, fill: float = 0.0, center: Any = None) -> Any:
    """Warp each image n of batch (N, C, H, W) by rotation angles[n] (degrees, counter-
    clockwise as displayed), translations[n] (dx, dy pixels), scales[n], shears[n] (x, y
    degrees) about the image center; pixels from outside are `fill`."""
    from scipy import ndimage  # heavy: loaded on first use only

    n, c, h, w = batch.shape
    work = batch if batch.dtype.kind == "f" else batch.astype(np.float32)
    out = np.empty_like(work)
    cx, cy = ((w - 1) / 2, (h - 1) / 2) if center is None else center
    params = zip(*(np.asarray(v, dtype=np.float64).tolist()
                   for v in (angles, scales, shears, translations)))
    for i, (angle, scale, shear, move) in enumerate(params):
        matrix, offset = _inverse_map(math.radians(angle), scale, shear, move, cx, cy)
        for ch in range(c):
            ndimage.affine_transform(work[i, ch], matrix, offset, output=out[i, ch],
                                     order=order, mode="constant", cval=fill)
    if batch.dtype.kind != "f":
        out = np.rint(out).astype(batch.dtype)
    return out


def _inverse_map(angle: float, scale: float, shear: Any, move: Any, cx: float,
                 cy: float) -> tuple[Any, Any]:
    """scipy's (matrix, offset) taking output (row, col) to input (row, col) for the forward
    map p -> A (p - c) + c + move in (x right, y down) pixels, A = scale * R(angle) @ Shear."""
    cos, sin = math.cos(angle), math.sin(angle)
    shx, shy = math.tan(math.radians(shear[0])), math.tan(math.radians(shear[1]))
    # R = [[cos, sin], [-sin, cos]] turns counter-clockwise as displayed (y points down);
    # Shear = [[1, shx], [shy, 1 + shx * shy]]; det(R @ Shear) = 1, a.. below are R @ Shear
    a00, a01 = cos + sin * shy, cos * shx + sin * (1 + shx * shy)
    a10, a11 = -sin + cos * shy, -sin * shx + cos * (1 + shx * shy)
    k = 1.0 / scale
    i00, i01, i10, i11 = a11 * k, -a01 * k, -a10 * k, a00 * k  # inverse of (R @ Shear) / scale
    px, py = cx + move[0], cy + move[1]
    sx, sy = cx - (i00 * px + i01 * py), cy - (i10 * px + i11 * py)
    # scipy indexes (row, col) = (y, x): swap both axes of the map
    return np.array([[i11, i10], [i01, i00]]), np.array([sy, sx])


class RandomRotation(Transform):
    """Rotate each image by an angle drawn uniformly from `degrees` (counter-clockwise)."""

    def __init__(self, degrees: Any, interpolation: Any = InterpolationMode.NEAREST,
                 expand: bool = False, center: Sequence[float] | None = None,
                 fill: float = 0) -> None:
        if expand:
            raise NotImplementedError("RandomRotation(expand=True) is not supported: the "
                                      "images of a batch must keep one size")
        self.degrees = _pair(degrees, "degrees")
        self.interpolation = interpolation
        self.center = center
        self.fill = fill
        self._order = _order(interpolation)

    def __call__(self, img: Any) -> Any:
        batch, restore = _as_batch(img)
        n = batch.shape[0]
        angles = rnd.gen().uniform(self.degrees[0], self.degrees[1], n)
        out = affine_images(batch, angles, np.zeros((n, 2)), np.ones(n), np.zeros((n, 2)),
                            self._order, float(self.fill), self.center)
        return restore(out)


class RandomAffine(Transform):
    """Random rotation, translation (fractions of width/height), scale and shear per image."""

    def __init__(self, degrees: Any, translate: Sequence[float] | None = None,
                 scale: Sequence[float] | None = None, shear: Any = None,
                 interpolation: Any = InterpolationMode.NEAREST, fill: float = 0,
                 center: Sequence[float] | None = None) -> None:
        self.degrees = _pair(degrees, "degrees")
        if translate is not None:
            if len(translate) != 2 or not all(0.0 <= t <= 1.0 for t in translate):
                raise ValueError("translate should be a sequence of two values between 0 and 1")
        if scale is not None:
            if len(scale) != 2 or any(s <= 0 for s in scale):
                raise ValueError("scale values should be positive")
        self.translate = translate
        self.scale = scale
        self.shear = self._shear_ranges(shear)
        self.interpolation = interpolation
        self.fill = fill
        self.center = center
        self._order = _order(interpolation)

    @staticmethod
    def _shear_ranges(shear: Any) -> tuple[float, float, float, float] | None:
        if shear is None:
            return None
        if isinstance(shear, numbers.Number):
            return (*_pair(shear, "shear"), 0.0, 0.0)
        if len(shear) == 2:
            return (float(shear[0]), float(shear[1]), 0.0, 0.0)
        if len(shear) == 4:
            return tuple(float(s) for s in shear)  # type: ignore[return-value]
        raise ValueError("shear should be a number or a sequence of 2 or 4 values")

    def __call__(self, img: Any) -> Any:
        batch, restore = _as_batch(img)
        n, _, h, w = batch.shape
        rng = rnd.gen()
        angles = rng.uniform(self.degrees[0], self.degrees[1], n)
        moves = np.zeros((n, 2))
        if self.translate is not None:  # whole pixels, as torchvision
            moves[:, 0] = np.rint(rng.uniform(-1, 1, n) * self.translate[0] * w)
            moves[:, 1] = np.rint(rng.uniform(-1, 1, n) * self.translate[1] * h)
        scales = np.ones(n) if self.scale is None else rng.uniform(*self.scale, n)
        shears = np.zeros((n, 2))
        if self.shear is not None:
            shears[:, 0] = rng.uniform(self.shear[0], self.shear[1], n)
            shears[:, 1] = rng.uniform(self.shear[2], self.shear[3], n)
        out = affine_images(batch, angles, moves, scales, shears, self._order,
                            float(self.fill), self.center)
        return restore(out)


def _size2(size: Any) -> tuple[int, int]:
    if isinstance(size, numbers.Number):
        return int(size), int(size)  # type: ignore[call-overload]
    if len(size) == 1:
        return int(size[0]), int(size[0])
    return int(size[0]), int(size[1])


class RandomCrop(Transform):
    """Pad (optionally), then cut a size (h, w) window at a random place in each image."""

    def __init__(self, size: Any, padding: Any = None, pad_if_needed: bool = False,
                 fill: float = 0, padding_mode: str = "constant") -> None:
        if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
            raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
        self.size = _size2(size)
        self.padding = padding
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        self.padding_mode = padding_mode

    def _pad(self, batch: Any) -> Any:
        p = self.padding
        if p is None:
            left = top = right = bottom = 0
        elif isinstance(p, numbers.Number):
            left = top = right = bottom = int(p)  # type: ignore[call-overload]
        elif len(p) == 2:
            left = right = int(p[0])
            top = bottom = int(p[1])
        else:
            left, top, right, bottom = (int(v) for v in p)
        h, w = batch.shape[-2] + top + bottom, batch.shape[-1] + left + right
        th, tw = self.size
        if self.pad_if_needed:
            extra_w, extra_h = max(tw - w, 0), max(th - h, 0)
            left, right, top, bottom = left + extra_w, right + extra_w, top + extra_h, \
                bottom + extra_h
        widths = ((0, 0), (0, 0), (top, bottom), (left, right))
        if not (top or bottom or left or right):
            return batch
        if self.padding_mode == "constant":
            return np.pad(batch, widths, mode="constant", constant_values=self.fill)
        return np.pad(batch, widths, mode=self.padding_mode)

    def __call__(self, img: Any) -> Any:
        batch, restore = _as_batch(img)
        batch = self._pad(batch)
        n, _, h, w = batch.shape
        th, tw = self.size
        if h < th or w < tw:
            raise ValueError(f"Required crop size {(th, tw)} is larger than input image size "
                             f"{(h, w)}")
        rng = rnd.gen()
        top = rng.integers(0, h - th + 1, n)
        left = rng.integers(0, w - tw + 1, n)
        windows = np.lib.stride_tricks.sliding_window_view(batch, (th, tw), axis=(2, 3))
        return restore(np.ascontiguousarray(windows[np.arange(n), :, top, left]))


class CenterCrop(Transform):
    """Cut the central (h, w) window of each image."""

    def __init__(self, size: Any) -> None:
        self.size = _size2(size)

    def __call__(self, img: Any) -> Any:
        batch, restore = _as_batch(img)
        h, w = batch.shape[-2:]
        th, tw = self.size
        if h < th or w < tw:
            raise ValueError(f"Required crop size {(th, tw)} is larger than input image size "
                             f"{(h, w)}")
        top, left = int(round((h - th) / 2.0)), int(round((w - tw) / 2.0))
        return restore(np.ascontiguousarray(batch[:, :, top:top + th, left:left + tw]))


class RandomHorizontalFlip(Transform):
    """Mirror each image left-right with probability p."""

    axis = -1

    def __init__(self, p: float = 0.5) -> None:
        self.p = p

    def __call__(self, img: Any) -> Any:
        batch, restore = _as_batch(img)
        flip = rnd.gen().random(batch.shape[0]) < self.p
        out = batch.copy()
        out[flip] = np.flip(batch[flip], axis=self.axis)
        return restore(out)


class RandomVerticalFlip(RandomHorizontalFlip):
    """Mirror each image top-bottom with probability p."""

    axis = -2


class GaussianNoise(Transform):
    """Add Gaussian noise N(mean, std^2) to every pixel; clip to [0, 1] when clip=True."""

    def __init__(self, std: float = 0.1, mean: float = 0.0, clip: bool = False, *,
                 sigma: float | None = None) -> None:
        self.std = float(std if sigma is None else sigma)
        self.mean = float(mean)
        self.clip = clip

    def __call__(self, x: Any) -> Any:
        batch, restore = _as_batch(x)
        if batch.dtype.kind != "f":
            raise TypeError(f"GaussianNoise needs a float image, got {batch.dtype}")
        noise = rnd.gen().normal(self.mean, self.std, batch.shape).astype(batch.dtype)
        out = batch + noise
        if self.clip:
            np.clip(out, 0.0, 1.0, out=out)
        return restore(out)


AddGaussianNoise = GaussianNoise
