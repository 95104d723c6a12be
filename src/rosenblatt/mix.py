"""Batch augmentations that mix pairs of examples: MixUp (Zhang et al., 2018) and CutMix
(Yun et al., 2019), with soft targets for `F.cross_entropy`'s probability targets.

Both draw one weight lam ~ Beta(alpha, alpha) per batch and pair each example with the one
a random permutation puts beside it (torchvision.transforms.v2.MixUp/CutMix do the same).
MixUp blends whole images; CutMix pastes a box of the partner image, and its lam is the
fraction of pixels that stay the example's own. Targets mix with the same lam:
lam * one_hot(y) + (1 - lam) * one_hot(y[perm]). Random draws come from
`rosenblatt.random.gen(generator)`, so `rb.manual_seed` (or a Generator) reproduces them.
"""

from __future__ import annotations

import math
from typing import Any

from . import random as rnd
from .autograd.tensor import Tensor

__all__ = ["mixup", "cutmix", "MixUp", "CutMix"]


def _check(name: str, x: Tensor, y: Tensor, alpha: float, num_classes: int) -> None:
    if not isinstance(x, Tensor) or not isinstance(y, Tensor):
        raise TypeError(f"{name}: expected tensors x and y, got {type(x).__name__} and "
                        f"{type(y).__name__}")
    if not alpha > 0 or not math.isfinite(alpha):
        raise ValueError(f"{name}: alpha must be a positive number, got {alpha}")
    if x.ndim < 1 or x.shape[0] < 1:
        raise ValueError(f"{name}: expected a batch x of shape (N, ...), got {tuple(x.shape)}")
    if not x.is_floating_point():
        raise TypeError(f"{name}: expected floating-point inputs, got {x.dtype}")
    n = x.shape[0]
    if y.is_floating_point():
        if tuple(y.shape) != (n, num_classes):
            raise ValueError(f"{name}: soft targets must have shape ({n}, {num_classes}), got "
                             f"{tuple(y.shape)}")
    elif tuple(y.shape) != (n,):
        raise ValueError(f"{name}: expected class indices of shape ({n},) for x of shape "
                         f"{tuple(x.shape)}, got {tuple(y.shape)}")


def _soft(y: Tensor, num_classes: int, dtype: Any) -> Any:
    """Class indices (N,) or probabilities (N, C) -> probabilities (N, C) as an array."""
    xp = y.device.xp
    if y.is_floating_point():
        return y._data.astype(dtype)
    labels = y._data.astype(xp.int64)
    if labels.size and (int(labels.min()) < 0 or int(labels.max()) >= num_classes):
        raise ValueError(f"class indices must be in [0, {num_classes}), got values from "
                         f"{int(labels.min())} to {int(labels.max())}")
    return xp.eye(num_classes, dtype=dtype)[labels]


def _draw(n: int, alpha: float, generator: Any) -> tuple[float, Any]:
    """lam ~ Beta(alpha, alpha) and a permutation of the batch (NumPy, from the generator)."""
    rng = rnd.gen(generator)
    lam = float(rng.beta(alpha, alpha))
    return lam, rng.permutation(n)


def _mix_targets(y: Tensor, num_classes: int, lam: float, perm: Any, dtype: Any) -> Tensor:
    soft = _soft(y, num_classes, dtype)
    perm = y.device.xp.asarray(perm)
    return Tensor._make((lam * soft + (1.0 - lam) * soft[perm]).astype(dtype), False, None)


def mixup(x: Tensor, y: Tensor, alpha: float = 1.0, num_classes: int = 10,
          generator: Any = None) -> tuple[Tensor, Tensor]:
    """(N, ...) inputs and (N,) labels (or (N, C) probabilities) -> mixed inputs (N, ...) and
    soft targets (N, C): lam * x + (1 - lam) * x[perm], lam ~ Beta(alpha, alpha)."""
    _check("mixup", x, y, alpha, num_classes)
    lam, perm = _draw(x.shape[0], alpha, generator)
    data = x._data
    mixed = lam * data + (1.0 - lam) * data[x.device.xp.asarray(perm)]
    return (Tensor._make(mixed.astype(data.dtype), False, None),
            _mix_targets(y, num_classes, lam, perm, data.dtype))


def cut_box(height: int, width: int, lam: float, rng: Any) -> tuple[int, int, int, int]:
    """A box (top, bottom, left, right) of about (1 - lam) of the image, centred at random
    and clipped to the image (torchvision's rule)."""
    cy, cx = int(rng.integers(height)), int(rng.integers(width))
    r = 0.5 * math.sqrt(1.0 - lam)
    half_h, half_w = int(r * height), int(r * width)
    top, bottom = max(cy - half_h, 0), min(cy + half_h, height)
    left, right = max(cx - half_w, 0), min(cx + half_w, width)
    return top, bottom, left, right


def cutmix(x: Tensor, y: Tensor, alpha: float = 1.0, num_classes: int = 10,
           generator: Any = None) -> tuple[Tensor, Tensor]:
    """(N, C, H, W) images and (N,) labels (or (N, C) probabilities) -> images with a box
    pasted from x[perm] and soft targets (N, C) weighted by the pixels each image keeps."""
    _check("cutmix", x, y, alpha, num_classes)
    if x.ndim != 4:
        raise ValueError(f"cutmix: expected images of shape (N, C, H, W), got {tuple(x.shape)}")
    lam, perm = _draw(x.shape[0], alpha, generator)
    height, width = x.shape[2], x.shape[3]
    top, bottom, left, right = cut_box(height, width, lam, rnd.gen(generator))
    data = x._data
    mixed = data.copy()
    partner = data[x.device.xp.asarray(perm)]
    mixed[:, :, top:bottom, left:right] = partner[:, :, top:bottom, left:right]
    kept = 1.0 - (bottom - top) * (right - left) / (height * width)  # the clipped box's area
    return (Tensor._make(mixed, False, None),
            _mix_targets(y, num_classes, kept, perm, data.dtype))


class MixUp:
    """torchvision.transforms.v2.MixUp: `MixUp(alpha, num_classes)(images, labels)`."""

    def __init__(self, *, alpha: float = 1.0, num_classes: int = 10,
                 generator: Any = None) -> None:
        self.alpha, self.num_classes, self.generator = float(alpha), num_classes, generator

    def __call__(self, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        return mixup(x, y, self.alpha, self.num_classes, self.generator)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(alpha={self.alpha}, num_classes={self.num_classes})"


class CutMix(MixUp):
    """torchvision.transforms.v2.CutMix: `CutMix(alpha, num_classes)(images, labels)`."""

    def __call__(self, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        return cutmix(x, y, self.alpha, self.num_classes, self.generator)
