"""Grids, sets and searches: meshgrid (differentiable, from reshape/expand), and unique,
searchsorted, bucketize, histc, whose outputs are indices or counts (no gradient)."""

from __future__ import annotations

import warnings
from typing import Any

from .._backend import array_module
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._util import normalize_dim
from .elementwise import _no_grad_result
from .shape import expand, reshape


def meshgrid(*tensors: Any, indexing: str | None = None) -> tuple[Tensor, ...]:
    """Coordinate grids from N 1-D tensors: each output has shape (n1, ..., nN) ('ij')."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the "
                      "indexing argument.", UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", "
                           f"but received: {indexing}")
    if not tensors:
        raise RuntimeError("torch.meshgrid: expects a non-empty TensorList")
    for t in tensors:
        if t.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list "
                               f"but got: {t.ndim}D tensor")
        if t.dtype is not tensors[0].dtype:
            raise RuntimeError("torch.meshgrid: expects all tensors to have the same dtype")
    # 'xy' is 'ij' with the first two inputs (and so the first two output dims) swapped
    swap = indexing == "xy" and len(tensors) >= 2
    order = [1, 0, *range(2, len(tensors))] if swap else list(range(len(tensors)))
    flat = [reshape(tensors[i], -1) for i in order]
    sizes = tuple(t.shape[0] for t in flat)
    grids = []
    for axis, t in enumerate(flat):
        shape = [1] * len(flat)
        shape[axis] = sizes[axis]
        grids.append(expand(reshape(t, tuple(shape)), sizes))
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)


class Unique(Function):
    """The distinct values; like PyTorch, they stay in the graph but have no derivative."""

    @staticmethod
    def forward(ctx, x, values):
        return values

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError("the derivative for 'unique' is not implemented.")


def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
           return_counts: bool = False, dim: int | None = None) -> Any:
    """Distinct values (or slices along `dim`), sorted; optionally inverse indices and counts.

    `sorted=False` also returns them sorted, which PyTorch's contract allows."""
    xp = array_module(input._data)
    axis = None if dim is None else normalize_dim(dim, input.ndim)
    values, inverse, counts = xp.unique(input._data, return_inverse=True, return_counts=True,
                                        axis=axis)
    out = Unique.apply(input, values=values)
    inverse_shape = input.shape if axis is None else (input.shape[axis],)
    extras = []
    if return_inverse:
        extras.append(_no_grad_result(inverse.reshape(inverse_shape).astype(xp.int64)))
    if return_counts:
        extras.append(_no_grad_result(counts.astype(xp.int64)))
    return (out, *extras) if extras else out


def searchsorted(sorted_sequence: Tensor, input: Any, *, out_int32: bool = False,  # noqa: A002
                 right: bool = False, side: str | None = None,
                 sorter: Tensor | None = None) -> Tensor:
    """Indices where `input` would be inserted into the innermost dim of `sorted_sequence`."""
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but "
                               f"got {side}")
        if right and side == "left":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, "
                               "got side of left while right was True")
        right = side == "right"
    seq = sorted_sequence._data
    xp = array_module(seq)
    if sorter is not None:
        seq = xp.take_along_axis(seq, sorter._data, axis=-1)
    values = input._data if isinstance(input, Tensor) else xp.asarray(input, dtype=seq.dtype)
    how = "right" if right else "left"
    if seq.ndim == 1:
        found = xp.searchsorted(seq, values, side=how)
    else:
        if seq.shape[:-1] != values.shape[:-1]:
            raise RuntimeError(
                f"torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
                f"dimensions of boundaries tensor and input value tensor must match, but we got "
                f"boundaries tensor {list(seq.shape)} and input value tensor {list(values.shape)}")
        rows = seq.reshape(-1, seq.shape[-1])
        queries = values.reshape(len(rows), -1)
        found = xp.stack([xp.searchsorted(r, q, side=how) for r, q in zip(rows, queries)])
        found = found.reshape(values.shape)
    return _no_grad_result(found.astype(xp.int32 if out_int32 else xp.int64))


def bucketize(input: Any, boundaries: Tensor, *, out_int32: bool = False,  # noqa: A002
              right: bool = False) -> Tensor:
    """The bucket of each input value among 1-D `boundaries` (searchsorted on one sequence)."""
    if boundaries.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({boundaries.ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def histc(input: Tensor, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:  # noqa: A002
    """Counts in `bins` equal bins over [min, max] (the data's range when min == max)."""
    if not input.dtype.is_floating_point:
        raise NotImplementedError(f"\"histogram_cpu\" not implemented for '{input.dtype.name}'")
    if bins <= 0:
        raise RuntimeError(f"torch.histc: bins must be > 0, but got {bins} for dimension 0")
    data = input._data.reshape(-1)
    xp = array_module(data)
    lo, hi = float(min), float(max)
    if lo == hi and data.size:
        lo, hi = float(data.min()), float(data.max())
    if lo == hi:  # one value (or none): PyTorch widens the range by 1 on each side
        lo, hi = lo - 1, hi + 1
    if lo > hi:
        raise RuntimeError(f"torch.histc: max must be larger than min, but got min {lo} max {hi}")
    inside = data[(data >= lo) & (data <= hi)]
    index = ((inside - lo) * bins / (hi - lo)).astype(xp.int64)
    index = xp.minimum(index, bins - 1)  # the maximum itself counts in the last bin
    counts = xp.bincount(index, minlength=bins).astype(input._data.dtype)
    return _no_grad_result(counts)


