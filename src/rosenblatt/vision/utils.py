"""`torchvision.utils` for Rosenblatt: make_grid (images tiled into one) and save_image (PNG)."""

from __future__ import annotations

import math
import os
from typing import Any, BinaryIO

from .._backend import CPU, np, to_device
from ..autograd.tensor import Tensor

__all__ = ["make_grid", "save_image"]


def _as_batch(tensor: Any) -> Any:
    """A tensor (or a list of image tensors) as a float CPU array (N, C, H, W), C 1 -> 3."""
    if isinstance(tensor, (list, tuple)):
        array = np.stack([to_device(t.detach()._data, CPU) for t in tensor])
    elif isinstance(tensor, Tensor):
        array = to_device(tensor.detach()._data, CPU)
    else:
        raise TypeError(f"tensor or list of tensors expected, got {type(tensor)}")
    if array.ndim == 2:
        array = array[None]
    if array.ndim == 3:
        array = np.concatenate([array] * 3) if array.shape[0] == 1 else array
        array = array[None]
    if array.ndim != 4:
        raise ValueError(f"make_grid: expected (H, W), (C, H, W) or (N, C, H, W), got "
                         f"{array.ndim} dimensions")
    if array.shape[1] == 1:
        array = np.concatenate([array] * 3, axis=1)
    return array


def _normalize(array: Any, value_range: Any, scale_each: bool) -> Any:
    """Shift and scale to [0, 1] by value_range, or by the min and max (each image's)."""
    def scaled(a: Any) -> Any:
        low, high = (float(a.min()), float(a.max())) if value_range is None else value_range
        return (np.clip(a, low, high) - low) / max(high - low, 1e-5)

    if scale_each:
        return np.stack([scaled(a) for a in array])
    return scaled(array)


def make_grid(tensor: Any, nrow: int = 8, padding: int = 2, normalize: bool = False,
              value_range: tuple[float, float] | None = None, scale_each: bool = False,
              pad_value: float = 0.0) -> Tensor:
    """Images (N, C, H, W) -> one image (3, rows*(H+p)+p, cols*(W+p)+p), nrow images a row."""
    array = _as_batch(tensor)
    if normalize:
        array = _normalize(array.astype(np.float32, copy=True), value_range, scale_each)
    if array.shape[0] == 1:
        return Tensor._make(np.ascontiguousarray(array[0]), False, None)
    n, c, h, w = array.shape
    cols = min(nrow, n)
    rows = int(math.ceil(n / cols))
    cell_h, cell_w = h + padding, w + padding
    grid = np.full((c, cell_h * rows + padding, cell_w * cols + padding), pad_value,
                   dtype=array.dtype)
    for k in range(n):
        y, x = divmod(k, cols)
        top, left = y * cell_h + padding, x * cell_w + padding
        grid[:, top:top + h, left:left + w] = array[k]
    return Tensor._make(grid, False, None)


def save_image(tensor: Any, fp: str | os.PathLike | BinaryIO, format: str | None = None,  # noqa: A002
               **kwargs: Any) -> None:
    """Save images in [0, 1] (N, C, H, W) as one grid picture (PNG unless format says);
    make_grid's options apply. Needs Pillow (the 'images' extra)."""
    from PIL import Image  # optional dependency, loaded on use

    grid = make_grid(tensor, **kwargs)._data
    pixels = np.clip(grid * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    Image.fromarray(np.ascontiguousarray(pixels)).save(fp, format=format)
