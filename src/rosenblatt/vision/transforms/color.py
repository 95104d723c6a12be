"""Colour and occlusion augmentations with torchvision's names and formulas: ColorJitter,
RandomGrayscale, GaussianBlur, RandomErasing. Images are float tensors (C, H, W) in [0, 1]
or batches (each image draws its own parameters)."""

from __future__ import annotations

import math
import numbers
from typing import Any, Sequence

from ... import random as rnd
from ..._backend import np
from ...transforms import Transform, _as_batch

__all__ = ["ColorJitter", "RandomGrayscale", "GaussianBlur", "RandomErasing"]

_LUMA = np.array([0.299, 0.587, 0.114]).reshape(3, 1, 1)


def _gray(image: Any) -> Any:
    """(3, H, W) -> (1, H, W) luma (ITU-R 601-2), or a 1-channel image itself."""
    return image if image.shape[0] == 1 else (image * _LUMA).sum(axis=0, keepdims=True)


def _blend(image: Any, other: Any, ratio: float) -> Any:
    return np.clip(ratio * image + (1.0 - ratio) * other, 0.0, 1.0)


def _shift_hue(image: Any, shift: float) -> Any:
    """Rotate the hue of an RGB image by shift (a fraction of the colour circle)."""
    r, g, b = image
    top, bottom = image.max(axis=0), image.min(axis=0)
    chroma = top - bottom
    safe = np.where(chroma == 0, 1.0, chroma)
    hue = np.where(top == r, ((g - b) / safe) % 6, np.where(top == g, (b - r) / safe + 2,
                                                             (r - g) / safe + 4)) / 6.0
    hue = np.where(chroma == 0, 0.0, hue)
    hue = (hue + shift) % 1.0
    sat = np.where(top == 0, 0.0, chroma / np.where(top == 0, 1.0, top))
    h6 = hue * 6.0
    sector = np.floor(h6).astype(np.int64) % 6
    f = h6 - np.floor(h6)
    p, q, t = top * (1 - sat), top * (1 - sat * f), top * (1 - sat * (1 - f))
    choices = [(top, t, p), (q, top, p), (p, top, t), (p, q, top), (t, p, top), (top, p, q)]
    out = [np.choose(sector, [c[k] for c in choices]) for k in range(3)]
    return np.stack(out).astype(image.dtype)


def _range(value: Any, name: str, center: float = 1.0, bound: tuple = (0, float("inf")),
           clip_first: bool = True) -> tuple[float, float] | None:
    if isinstance(value, numbers.Number):
        if value < 0:  # type: ignore[operator]
            raise ValueError(f"If {name} is a single number, it must be non negative.")
        value = [center - float(value), center + float(value)]  # type: ignore[arg-type]
        if clip_first:
            value[0] = max(value[0], 0.0)
    low, high = float(value[0]), float(value[1])
    if not bound[0] <= low <= high <= bound[1]:
        raise ValueError(f"{name} values should be between {bound}, but got {[low, high]}.")
    return None if low == high == center else (low, high)


class ColorJitter(Transform):
    """Random brightness, contrast, saturation and hue changes, in a random order."""

    def __init__(self, brightness: Any = 0, contrast: Any = 0, saturation: Any = 0,
                 hue: Any = 0) -> None:
        self.brightness = _range(brightness, "brightness")
        self.contrast = _range(contrast, "contrast")
        self.saturation = _range(saturation, "saturation")
        self.hue = _range(hue, "hue", center=0, bound=(-0.5, 0.5), clip_first=False)

    def _jitter(self, image: Any, rng: Any) -> Any:
        for k in rng.permutation(4):
            if k == 0 and self.brightness:
                image = np.clip(image * rng.uniform(*self.brightness), 0.0, 1.0)
            elif k == 1 and self.contrast:
                image = _blend(image, _gray(image).mean(), rng.uniform(*self.contrast))
            elif k == 2 and self.saturation and image.shape[0] == 3:
                image = _blend(image, _gray(image), rng.uniform(*self.saturation))
            elif k == 3 and self.hue and image.shape[0] == 3:
                image = _shift_hue(image, rng.uniform(*self.hue))
        return image

    def __call__(self, img: Any) -> Any:
        batch, restore = _as_batch(img)
        rng = rnd.gen()
        return restore(np.stack([self._jitter(image, rng) for image in batch]
                                ).astype(batch.dtype))


class RandomGrayscale(Transform):
    """Make each image grey (keeping its channel count) with probability p."""

    def __init__(self, p: float = 0.1) -> None:
        self.p = p

    def __call__(self, img: Any) -> Any:
        batch, restore = _as_batch(img)
        out = batch.copy()
        for i in np.flatnonzero(rnd.gen().random(len(batch)) < self.p):
            out[i] = np.broadcast_to(_gray(batch[i]), batch[i].shape)
        return restore(out)


class GaussianBlur(Transform):
    """Blur with a Gaussian of sigma drawn from [sigma_min, sigma_max], reflect padding."""

    def __init__(self, kernel_size: int | Sequence[int],
                 sigma: float | Sequence[float] = (0.1, 2.0)) -> None:
        sizes = (kernel_size, kernel_size) if isinstance(kernel_size, int) else tuple(kernel_size)
        if any(k <= 0 or k % 2 == 0 for k in sizes):
            raise ValueError("Kernel size value should be an odd and positive number.")
        sigmas = (sigma, sigma) if isinstance(sigma, numbers.Number) else tuple(sigma)
        if not 0 < sigmas[0] <= sigmas[1]:
            raise ValueError("sigma values should be positive and of the form (min, max).")
        self.kernel_size, self.sigma = sizes, (float(sigmas[0]), float(sigmas[1]))

    @staticmethod
    def _kernel(size: int, sigma: float) -> Any:
        x = np.arange(size) - (size - 1) / 2
        k = np.exp(-0.5 * (x / sigma) ** 2)
        return k / k.sum()

    def __call__(self, img: Any) -> Any:
        batch, restore = _as_batch(img)
        (kh, kw), rng = self.kernel_size, rnd.gen()
        out = np.empty_like(batch)
        for i, image in enumerate(batch):
            sigma = rng.uniform(*self.sigma)
            padded = np.pad(image, ((0, 0), (kh // 2, kh // 2), (kw // 2, kw // 2)),
                            mode="reflect")
            rows = np.lib.stride_tricks.sliding_window_view(padded, kh, axis=1)
            image = rows @ self._kernel(kh, sigma)
            cols = np.lib.stride_tricks.sliding_window_view(image, kw, axis=2)
            out[i] = cols @ self._kernel(kw, sigma)
        return restore(out)


class RandomErasing(Transform):
    """With probability p, fill a random rectangle (area scale, aspect ratio) of each image
    with value (a number, per-channel values, or 'random' normal noise)."""

    def __init__(self, p: float = 0.5, scale: Sequence[float] = (0.02, 0.33),
                 ratio: Sequence[float] = (0.3, 3.3), value: Any = 0,
                 inplace: bool = False) -> None:
        if not 0 <= p <= 1:
            raise ValueError("Random erasing probability should be between 0 and 1")
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            raise ValueError("Scale and ratio should be of kind (min, max)")
        self.p, self.scale, self.ratio, self.value = p, tuple(scale), tuple(ratio), value

    def _erase(self, image: Any, rng: Any) -> None:
        c, h, w = image.shape
        area, log_ratio = h * w, (math.log(self.ratio[0]), math.log(self.ratio[1]))
        for _ in range(10):
            target = area * rng.uniform(*self.scale)
            aspect = math.exp(rng.uniform(*log_ratio))
            eh, ew = int(round(math.sqrt(target * aspect))), int(round(math.sqrt(target / aspect)))
            if eh < h and ew < w:
                top, left = int(rng.integers(0, h - eh + 1)), int(rng.integers(0, w - ew + 1))
                if self.value == "random":
                    fill = rng.standard_normal((c, eh, ew))
                else:
                    fill = np.asarray(self.value, dtype=image.dtype).reshape(-1, 1, 1)
                image[:, top:top + eh, left:left + ew] = fill
                return

    def __call__(self, img: Any) -> Any:
        batch, restore = _as_batch(img)
        out, rng = batch.copy(), rnd.gen()
        for i in range(len(out)):
            if rng.random() < self.p:
                self._erase(out[i], rng)
        return restore(out)
