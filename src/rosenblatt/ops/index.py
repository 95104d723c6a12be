"""Indexing ops: x[key], x[key] = v, masked_fill, gather/scatter, index_select, tril/triu,
sort/topk, one_hot."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from .. import dtypes
from .._backend import array_module, np, overlaps_itself, parallel
from ..autograd.function import Function
from ..autograd.grad_mode import state
from ..autograd.tensor import (
    Tensor,
    refuse_self_overlap,
    same_place,
    self_overlap_error,
    write_changed,
)
from ._util import normalize_dim, scalar_as_vector, unbroadcast
from .elementwise import _no_grad_result, cast, constant, where
from .reduce import values_indices
from .shape import clone, contiguous_format, row_major


def _convert_key(key: Any, xp: Any) -> tuple[Any, bool]:
    """Turn tensors and lists in an index into arrays; also say if it has integer arrays."""
    parts = key if isinstance(key, tuple) else (key,)
    out, has_int_array = [], False
    for k in parts:
        if isinstance(k, Tensor):
            k = k._data
            if k.ndim == 0 and k.dtype.kind in "iu":
                k = int(k)
        elif isinstance(k, list):
            k = xp.asarray(k)
        if hasattr(k, "dtype") and getattr(k, "ndim", 0) >= 0 and not isinstance(k, int):
            if k.dtype.kind in "iu":
                has_int_array = True
            elif k.dtype.kind != "b":
                raise IndexError(
                    "tensors used as indices must be long, int, byte or bool tensors"
                )
        out.append(k)
    return tuple(out), has_int_array


def _overwritten(grad: Any, key: Any) -> Any:
    """The gradient of a tensor whose elements at `key` an op overwrote: none reaches them."""
    out = grad.copy()
    out[key] = 0
    return out


class _WriteAt(Function):
    """A copy of x with a value written at a key: in place of what was there (setitem,
    scatter, index_copy, index_fill) or, in `adds` ops, added to it (scatter_add, index_add).
    forward writes with `_write_at`; backward passes x the gradient of what it kept and the
    value its gradient from the op's `value_grad`."""

    adds = False
    value_grad: Any  # (ctx, grad) -> the gradient of the written value

    @staticmethod
    def backward(ctx, grad):
        need = ctx.needs_input_grad  # x, (index,) value
        grad_x = None
        if need[0]:
            grad_x = grad if ctx.adds else _overwritten(grad, ctx.key)
        grad_value = ctx.value_grad(ctx, grad) if need[-1] else None
        return (grad_x,) + (None,) * (len(need) - 2) + (grad_value,)


def _write_at(ctx: Any, x: Any, key: Any, value: Any) -> Any:
    """x's copy with value written (or added) at key, which is kept for backward."""
    ctx.key = key
    out = x.copy()
    if ctx.adds:  # add.at, not out[key] += value: a repeated index must add every copy
        ctx.xp.add.at(out, key, value)
    else:
        out[key] = value
    return out


def _advanced(key: Any) -> bool:
    """Whether an index (as _convert_key returns it) has arrays: NumPy's advanced indexing."""
    return any(getattr(k, "ndim", None) is not None for k in key) if isinstance(key, tuple) \
        else getattr(key, "ndim", None) is not None


class GetItem(Function):
    view = True

    @staticmethod
    def forward(ctx, x, key, accumulate):
        ctx.shape, ctx.key, ctx.accumulate = x.shape, key, accumulate
        out = x[key]
        if not isinstance(out, ctx.xp.ndarray):  # NumPy gives a copied scalar for one element;
            out = x[(key if isinstance(key, tuple) else (key,)) + (Ellipsis,)]  # a 0-d view
        elif not out.flags.c_contiguous and _advanced(key):
            # NumPy puts x[:, idx]'s indexed dims first in memory; PyTorch's copy is row-major
            out = ctx.xp.ascontiguousarray(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        out = ctx.xp.zeros(ctx.shape, dtype=grad.dtype)
        if ctx.accumulate:  # an index may repeat: add every copy's gradient
            ctx.xp.add.at(out, ctx.key, grad)
        else:
            out[ctx.key] = grad
        return out


class SetItem(_WriteAt):
    """x with x[key] replaced by value: the graph version of `x[key] = value`."""

    once = True  # PyTorch's CopySlices frees the op it wraps: a second backward raises

    @staticmethod
    def forward(ctx, x, value, key):
        ctx.value_shape = value.shape
        return _write_at(ctx, x, key, value)

    @staticmethod
    def value_grad(ctx, grad):
        return unbroadcast(grad[ctx.key], ctx.value_shape)


def getitem(x: Tensor, key: Any) -> Tensor:
    """x[key] with ints, slices, None, Ellipsis, integer tensors/lists and boolean masks."""
    xp = array_module(x._data)
    converted, has_int_array = _convert_key(key, xp)
    try:
        return GetItem.apply(x, key=converted, accumulate=has_int_array)
    except IndexError as e:
        if x._data.size == 0 and has_int_array:  # PyTorch checks no index of an empty
            # tensor along a dim that has elements: the values don't matter, 0 fits
            zeroed = tuple(xp.zeros_like(k) if getattr(k, "dtype", None) is not None
                           and k.dtype.kind in "iu" else k for k in converted)
            try:
                return GetItem.apply(x, key=zeroed, accumulate=True)
            except IndexError:
                pass
        raise IndexError(f"index {key!r} is out of range for a tensor of shape "
                         f"{list(x.shape)}: {e}") from None


class CopySlices(Function):
    """base with the region a view op selects replaced by value: the graph of an in-place op
    on a view (PyTorch's CopySlices). `view` is the view's Function class, `params` its
    arguments; replaying its forward on a copy of base finds the region again."""

    once = True  # PyTorch's CopySlices frees the op it wraps: a second backward raises

    @staticmethod
    def forward(ctx, base, value, view, params):
        ctx.view, ctx.params, ctx.value_shape = view, params, value.shape
        out = base.copy()
        region = view.forward(SimpleNamespace(xp=ctx.xp), out, **params)
        ctx.overlaps = overlaps_itself(region)
        if ctx.overlaps:  # an expanded view (fill_ wrote it): many elements share one place
            write_changed(region, ctx.xp.broadcast_to(value, region.shape))
        else:
            region[...] = value
        return out

    @staticmethod
    def backward(ctx, grad):
        if ctx.overlaps:  # PyTorch's backward of such a write refuses too
            raise self_overlap_error()
        grad_base = grad.copy()
        region = ctx.view.forward(SimpleNamespace(xp=ctx.xp), grad_base, **ctx.params)
        grad_value = unbroadcast(region.copy(), ctx.value_shape)
        region[...] = 0  # the old values there were overwritten: no gradient reaches them
        return grad_base, grad_value


def setitem(x: Tensor, key: Any, value: Any) -> None:
    """x[key] = value; tracked by autograd when x or value requires grad."""
    converted, _ = _convert_key(key, array_module(x._data))
    if not isinstance(value, Tensor):
        value = constant(value, x)
    elif value._data.dtype != x._data.dtype:
        value = cast(value, x.dtype)
    if not _advanced(converted):
        # basic indexing writes one view: PyTorch refuses it if its elements share memory
        # (advanced indexing is index_put_, which PyTorch lets into an expanded tensor)
        region = x._data[converted if Ellipsis in converted else converted + (Ellipsis,)]
        source = value._data  # (broadcast first, as PyTorch does: v.expand(2, 3)[...] = v)
        if source.shape != region.shape and source.ndim <= region.ndim:
            source = array_module(source).broadcast_to(source, region.shape)
        if not same_place(region, source):
            refuse_self_overlap(region)
    tracked = state.enabled and (x.requires_grad or value.requires_grad)
    if not tracked:
        x._data[converted] = value._data
        x._version_box[0] += 1
        return
    x._inplace(lambda: SetItem.apply(x, value, key=converted), whole=False)


class MaskedFill(Function):
    @staticmethod
    def forward(ctx, x, mask, value):
        ctx.save_for_backward(mask)
        ctx.shape = x.shape
        # row-major whatever x's layout, as PyTorch's (it fills a contiguous clone of x)
        return row_major(_where(ctx.xp)(mask, x.dtype.type(value), x))

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved_tensors
        return unbroadcast(_where(ctx.xp)(mask, grad.dtype.type(0), grad), ctx.shape), None


def _where(xp: Any) -> Any:
    """xp.where; NumPy's split over the kernel threads when large."""
    return parallel.where if xp is np else xp.where


def masked_fill(x: Tensor, mask: Tensor, value: Any) -> Tensor:
    """`value` where mask is True, x elsewhere; mask broadcasts to x's shape."""
    if mask.dtype is not dtypes.bool:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{mask.dtype.name}")
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError("masked_fill_ only supports a 0-dimensional value tensor, but got "
                               f"tensor with {value.ndim} dimension(s).")
        if value.requires_grad and state.enabled:  # the filled places' gradient goes to value
            _refuse_grad_into(x)
            return clone(where(mask, cast(value, x.dtype), x), memory_format=contiguous_format)
        value = value.item()
    kind = x._data.dtype.kind
    if kind in "iu" and isinstance(value, float):  # truncated, as PyTorch, if it fits
        info = array_module(x._data).iinfo(x._data.dtype)
        if not info.min <= value <= info.max:  # (nan and inf fail too)
            raise RuntimeError(f"value cannot be converted to type {x.dtype.name} without "
                               "overflow")
        value = int(value)
    return MaskedFill.apply(x, mask, value=value)


def _refuse_grad_into(x: Tensor) -> None:
    """A fill value that requires grad can't go into a tensor of a dtype without gradients."""
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"Autograd not support dtype: {dtypes.scalar_type_name(x.dtype)}")


def masked_select(x: Tensor, mask: Tensor) -> Tensor:
    """The elements of x where mask is True, as a 1-D tensor."""
    from .shape import expand

    shape = tuple(_broadcast_shape(x.shape, mask.shape))
    return getitem(expand(x, shape), expand(mask, shape))


def _broadcast_shape(a: tuple, b: tuple) -> tuple:
    from .._backend import np

    return np.broadcast_shapes(a, b)


def _along_axis_index(xp: Any, index: Any, axis: int) -> tuple:
    """The full advanced index that addresses `index` values along `axis` of a tensor."""
    parts = []
    for d, n in enumerate(index.shape):
        if d == axis:
            parts.append(index)
        else:
            shape = [1] * index.ndim
            shape[d] = n
            parts.append(xp.arange(n).reshape(shape))
    return tuple(parts)


def _check_index(x: Tensor, index: Tensor, dim: int, op: str) -> int:
    axis = normalize_dim(dim, x.ndim)
    if index._data.dtype.kind not in "iu":
        raise RuntimeError(f"{op}(): Expected dtype int64 for index")
    if index.ndim != x.ndim and x.ndim:
        raise RuntimeError(f"Index tensor must have the same number of dimensions as input "
                           f"tensor ({op}: index {list(index.shape)}, input {list(x.shape)})")
    if index._data.size and x._data.size and (int(index._data.max()) >= x.shape[axis] or
                                              int(index._data.min()) < -x.shape[axis]):
        raise RuntimeError(f"{op}(): index {int(index._data.max())} is out of bounds for "
                           f"dimension {axis} with size {x.shape[axis]}")
    return axis


class Gather(Function):
    @staticmethod
    def forward(ctx, x, index, axis):
        ctx.shape, ctx.axis = x.shape, axis
        ctx.full_index = _along_axis_index(ctx.xp, index, axis)
        return x[ctx.full_index]

    @staticmethod
    def backward(ctx, grad):
        out = ctx.xp.zeros(ctx.shape, dtype=grad.dtype)
        ctx.xp.add.at(out, ctx.full_index, grad)
        return out, None


def gather(x: Tensor, dim: int, index: Tensor) -> Tensor:
    """`out[i][j] = x[index[i][j]][j]` (for dim 0): pick values along `dim` by index."""
    axis = _check_index(x, index, dim, "gather")
    return Gather.apply(x, index, axis=axis)


class ScatterAdd(_WriteAt):
    adds = True

    @staticmethod
    def forward(ctx, x, index, src, axis):
        ctx.src_shape, ctx.index_shape = src.shape, index.shape
        return _write_at(ctx, x, _along_axis_index(ctx.xp, index, axis),
                         src[tuple(slice(0, n) for n in index.shape)])

    @staticmethod
    def value_grad(ctx, grad):
        grad_src = ctx.xp.zeros(ctx.src_shape, dtype=grad.dtype)
        grad_src[tuple(slice(0, n) for n in ctx.index_shape)] = grad[ctx.key]
        return grad_src


class Scatter(_WriteAt):
    @staticmethod
    def forward(ctx, x, index, src, axis):
        ctx.src_shape = src.shape
        return _write_at(ctx, x, _along_axis_index(ctx.xp, index, axis),
                         src[tuple(slice(0, n) for n in index.shape)] if src.ndim else src)

    @staticmethod
    def value_grad(ctx, grad):
        grad_src = ctx.xp.zeros(ctx.src_shape, dtype=grad.dtype)
        picked = grad[ctx.key]
        if not grad_src.ndim:
            return picked.sum()
        grad_src[tuple(slice(0, n) for n in picked.shape)] = picked
        return grad_src


def scatter_add(x: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """A copy of x with src added at `index` along `dim` (repeated indices add up)."""
    axis = _check_index(x, index, dim, "scatter_add")
    _check_src_dtype(x, src)
    return ScatterAdd.apply(x, index, src, axis=axis)


def _check_src_dtype(x: Tensor, src: Tensor,
                     message: str = "scatter(): Expected self.dtype to be equal to src.dtype",
                     ) -> None:
    """Raise the op's RuntimeError unless src has x's dtype ({self} and {source} in the
    message name the two)."""
    if src._data.dtype != x._data.dtype:
        raise RuntimeError(message.format(self=dtypes.scalar_type_name(x.dtype),
                                          source=dtypes.scalar_type_name(src.dtype)))


def scatter(x: Tensor, dim: int, index: Tensor, src: Any = None, value: Any = None) -> Tensor:
    """A copy of x with src (or a number) written at `index` along `dim`."""
    axis = _check_index(x, index, dim, "scatter")
    src = value if src is None else src
    if isinstance(src, Tensor):
        _check_src_dtype(x, src)
    src = cast(src, x.dtype) if isinstance(src, Tensor) else constant(src, x)
    return Scatter.apply(x, index, src, axis=axis)


class IndexSelect(Function):
    @staticmethod
    def forward(ctx, x, index, axis):
        ctx.shape, ctx.axis = x.shape, axis
        ctx.save_for_backward(index)
        return ctx.xp.take(x, index, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        (index,) = ctx.saved_tensors
        out = ctx.xp.zeros(ctx.shape, dtype=grad.dtype)
        ctx.xp.add.at(out, (slice(None),) * ctx.axis + (index,), grad)
        return out, None


def index_select(x: Tensor, dim: int, index: Tensor) -> Tensor:
    """The slices of x at positions `index` (1-D) along `dim`."""
    axis = normalize_dim(dim, x.ndim)
    if index.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    if index._data.size and int(index._data.max()) >= x.shape[axis]:
        raise IndexError(f"index out of range in self: index {int(index._data.max())} for "
                         f"dimension {axis} of size {x.shape[axis]}")
    return IndexSelect.apply(x, index.reshape(-1), axis=axis)


class Triangle(Function):
    @staticmethod
    def forward(ctx, x, diagonal, upper):
        ctx.diagonal, ctx.upper = diagonal, upper
        return (ctx.xp.triu if upper else ctx.xp.tril)(x, diagonal)

    @staticmethod
    def backward(ctx, grad):
        return (ctx.xp.triu if ctx.upper else ctx.xp.tril)(grad, ctx.diagonal)


def tril(x: Tensor, diagonal: int = 0) -> Tensor:
    """The lower triangle of the last two dimensions (zeros above `diagonal`)."""
    if x.ndim < 2:
        raise RuntimeError("tril: input tensor must have at least 2 dimensions")
    return Triangle.apply(x, diagonal=diagonal, upper=False)


def triu(x: Tensor, diagonal: int = 0) -> Tensor:
    """The upper triangle of the last two dimensions (zeros below `diagonal`)."""
    if x.ndim < 2:
        raise RuntimeError("triu: input tensor must have at least 2 dimensions")
    return Triangle.apply(x, diagonal=diagonal, upper=True)


def one_hot(labels: Tensor, num_classes: int = -1) -> Tensor:
    """(...) int64 labels -> (..., num_classes) int64 one-hot rows."""
    if labels._data.dtype.kind not in "iu":
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    xp = array_module(labels._data)
    data = labels._data
    if num_classes == -1:
        num_classes = int(data.max()) + 1 if data.size else 0
    if data.size and (int(data.min()) < 0 or int(data.max()) >= num_classes):
        raise RuntimeError(f"Class values must be smaller than num_classes ({num_classes}) "
                           "and non-negative.")
    out = (data[..., None] == xp.arange(num_classes)).astype(xp.int64)
    return _no_grad_result(out)


def nonzero(x: Tensor, as_tuple: bool = False) -> Any:
    """Indices of nonzero elements: (N, ndim) int64, or one index tensor per dimension."""
    xp = array_module(x._data)
    if x.ndim == 0:  # PyTorch: (1 or 0, 0) indices; as a tuple, those of x as one element
        if as_tuple:
            return nonzero(x.reshape(1), as_tuple=True)
        return _no_grad_result(xp.zeros((int(bool(x._data)), 0), dtype=xp.int64))
    found = xp.nonzero(x._data)
    if as_tuple:
        return tuple(_no_grad_result(i.astype(xp.int64)) for i in found)
    return _no_grad_result(xp.stack(found, axis=1).astype(xp.int64) if found else
                           xp.zeros((0, 0), dtype=xp.int64))


@scalar_as_vector
def sort(x: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Any:
    """(values, indices) sorted along `dim`."""
    indices = argsort(x, dim, descending, stable)
    return values_indices(gather(x, normalize_dim(dim, max(x.ndim, 1)), indices), indices)


@scalar_as_vector
def argsort(x: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """Indices that sort x along `dim`."""
    xp = array_module(x._data)
    axis = normalize_dim(dim, max(x.ndim, 1))
    if not descending:  # NaN sorts last, as PyTorch's NaN counts as the largest value
        return _no_grad_result(xp.argsort(x._data, axis=axis, kind="stable").astype(xp.int64))
    # descending, NaN first and ties in input order: the ascending order of the reversed
    # input, reversed, names the same positions counted from the end
    backwards = xp.flip(xp.argsort(xp.flip(x._data, axis), axis=axis, kind="stable"), axis)
    return _no_grad_result((x.shape[axis] - 1 - backwards).astype(xp.int64))


@scalar_as_vector
def topk(x: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:  # noqa: A002
    """(values, indices) of the k largest (or smallest) elements along `dim`."""
    axis = normalize_dim(dim, max(x.ndim, 1))
    if x._data.dtype.kind == "b":
        raise RuntimeError("topk does not support bool dtypes on CPU")
    if k > x.shape[axis]:
        raise RuntimeError(f"selected index k out of range: k={k} > size {x.shape[axis]}")
    indices = argsort(x, axis, descending=largest, stable=True)
    indices = getitem(indices, (slice(None),) * axis + (slice(0, k),))
    return values_indices(gather(x, axis, indices), indices)


class Diag(Function):
    """A vector onto a matrix's k-th diagonal, or a matrix's k-th diagonal as a vector."""

    @staticmethod
    def forward(ctx, x, k):
        ctx.shape, ctx.k = x.shape, k
        return ctx.xp.diag(x, k).copy()  # NumPy's is a read-only view; PyTorch's a new tensor

    @staticmethod
    def backward(ctx, grad):
        if len(ctx.shape) == 1:
            return ctx.xp.diagonal(grad, ctx.k).copy()
        out = ctx.xp.zeros(ctx.shape, dtype=grad.dtype)
        i = ctx.xp.arange(grad.shape[0])
        out[i + max(-ctx.k, 0), i + max(ctx.k, 0)] = grad
        return out


def diag(x: Tensor, diagonal: int = 0) -> Tensor:
    """(n) -> (n + |k|, n + |k|) with x on diagonal k, or (n, m) -> its k-th diagonal."""
    if x.ndim not in (1, 2):
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {x.ndim}D")
    return Diag.apply(x, k=int(diagonal))


# ------------------------------------------------------------------ index_add / copy / fill
def _out_of_bounds(index: Any, size: int, axis: int, negative_ok: bool) -> str | None:
    """The message for the first index outside the dimension, or None when all fit."""
    if not index.size:
        return None
    lo, hi = int(index.min()), int(index.max())
    bad = hi if hi >= size else lo if lo < (-size if negative_ok else 0) else None
    if bad is None:
        return None
    return f"index {bad} is out of bounds for dimension {axis} with size {size}"


def _checked_index(flat: Any, x: Tensor, axis: int, negative_ok: bool, error: type,
                   prefix: str = "") -> Any:
    """flat (the indices along axis) checked against the dim's size with PyTorch's message;
    for an empty x, where PyTorch checks nothing (nothing is written), wrapped into range."""
    size = x.shape[axis] if x.ndim else 1
    if not x._data.size:
        return flat % size if size else flat[:0]
    message = _out_of_bounds(flat, size, axis, negative_ok)
    if message:
        raise error(prefix + message)
    return flat


def _check_source(op: str, x: Tensor, axis: int, count: int, source: Tensor, error: type) -> None:
    """source must be x's shape with `count` (the number of indices) along axis."""
    src_count = source.shape[axis] if source.ndim > axis else 1
    if src_count != count:
        raise error(f"{op}(): Number of indices ({count}) should be equal to source.size(dim): "
                    f"({src_count}), for dim: {axis}")
    expected = x.shape[:axis] + (count,) + x.shape[axis + 1:]
    if tuple(source.shape) != tuple(expected):
        raise RuntimeError(f"{op}(): source tensor shape must match self tensor shape, "
                           f"excluding the specified dimension. Got self.shape = "
                           f"{list(x.shape)} source.shape = {list(source.shape)}")


class IndexAdd(_WriteAt):
    adds = True

    @staticmethod
    def forward(ctx, x, index, src, axis, alpha):
        ctx.axis, ctx.alpha = axis, alpha
        return _write_at(ctx, x, (slice(None),) * axis + (index,),
                         src if alpha == 1 else src * x.dtype.type(alpha))

    @staticmethod
    def value_grad(ctx, grad):
        grad_src = ctx.xp.take(grad, ctx.key[-1], axis=ctx.axis)
        return grad_src if ctx.alpha == 1 else grad_src * grad.dtype.type(ctx.alpha)


def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *,  # noqa: A002
              alpha: Any = 1) -> Tensor:
    """A copy of input (shape S) with alpha * source added at positions `index` (n,) along
    dim; source is S with n along dim; repeated indices add up."""
    x = input
    axis = normalize_dim(dim, x.ndim)
    if index._data.dtype.kind not in "iu" or index._data.dtype.itemsize not in (4, 8):
        raise RuntimeError(f"index_add_(): Expected dtype int32/int64 for index but got: "
                           f"{dtypes.scalar_type_name(index.dtype)}")
    if index.ndim > 1:
        raise IndexError(f"index_add_(): Index is supposed to be a vector, but got dim: "
                         f"{index.ndim} with type: {dtypes.scalar_type_name(index.dtype)} "
                         f"and size: {list(index.shape)}")
    _check_src_dtype(x, source, "index_add_(): self ({self}) and source ({source}) must have "
                     "the same scalar type")
    flat = index._data.reshape(-1)
    if x.ndim == 0:  # a scalar is a 1-element vector here; source must be a scalar too
        if source.ndim != 0:
            raise RuntimeError(f"index_add_(): source tensor shape must match self tensor "
                               f"shape, excluding the specified dimension. Got self.shape = "
                               f"[] source.shape = {list(source.shape)}")
        source = source.reshape(1)
    _check_source("index_add_", x, axis, flat.size, source, RuntimeError)
    flat = _checked_index(flat, x, axis, False, RuntimeError)
    out = IndexAdd.apply(x.reshape(1) if x.ndim == 0 else x, Tensor._make(flat, False, None),
                         source, axis=axis, alpha=alpha)
    return out.reshape(()) if x.ndim == 0 else out


class _IndexWrite(_WriteAt):
    """index_copy and index_fill: the slices at positions `index` along axis overwritten (a
    repeated index keeps one of its values: PyTorch leaves undefined which)."""

    @staticmethod
    def forward(ctx, x, index, value, axis):
        ctx.axis = axis
        return _write_at(ctx, x, (slice(None),) * axis + (index,), value)


class IndexCopy(_IndexWrite):
    @staticmethod
    def value_grad(ctx, grad):  # as PyTorch: every source slice gets its position's gradient
        return ctx.xp.take(grad, ctx.key[-1], axis=ctx.axis)


def index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:  # noqa: A002
    """A copy of input (shape S) with the slices of source (S with n along dim) written at
    positions `index` (n,) along dim."""
    x = input
    axis = normalize_dim(dim, x.ndim)
    if index.ndim > 1:
        raise IndexError(f"index_copy_(): Index should have dimension 1 or 0 (got {index.ndim})")
    if index._data.dtype != array_module(index._data).int64:
        raise RuntimeError(f"index_copy_(): Expected a long tensor for index, but got "
                           f"{dtypes.scalar_type_name(index.dtype)}")
    _check_src_dtype(x, source, "index_copy_(): self and source expected to have the same "
                     "dtype, but got (self) {self} and (source) {source}")
    flat = index._data.reshape(-1)
    if source.ndim == 0 and x.ndim:  # PyTorch: one scalar into one place of a vector
        if flat.size != 1:
            raise IndexError(f"index_copy_(): When source is scalar, index should have one "
                             f"element (got {flat.size})")
        if x.ndim > 1:
            raise RuntimeError("index_copy_(): Source/destination tensor must have same slice "
                               "shapes")
        source = source.reshape(1)
    if x.ndim == 0 or source.ndim == 0:  # scalars: one element each, whatever the shapes
        if source.numel() != 1 or x.numel() != 1 or flat.size != 1:
            raise IndexError(f"index_copy_(): When source and destination are not scalars, "
                             f"their dimensionality must match. Source dimensionality "
                             f"({source.ndim}), destination dimensionality ({x.ndim})")
    elif source.ndim != x.ndim:
        raise IndexError(f"index_copy_(): When source and destination are not scalars, their "
                         f"dimensionality must match. Source dimensionality ({source.ndim}), "
                         f"destination dimensionality ({x.ndim})")
    else:
        if source.shape[axis] != flat.size:
            raise IndexError(f"index_copy_(): Number of indices ({flat.size}) should be equal "
                             f"to source.size(dim) ({source.shape[axis]})")
        for d, (a, b) in enumerate(zip(x.shape, source.shape)):
            if d != axis and a != b:
                raise RuntimeError(f"index_copy_(): Source/destination tensor must have same "
                                   f"slice shapes. Destination slice shape: {list(x.shape)} "
                                   f"and source slice shape: {list(source.shape)} (dim {dim})")
    flat = _checked_index(flat, x, axis, False, IndexError, "index_copy_(): ")
    if x.ndim == 0 or source.ndim == 0:
        out = IndexCopy.apply(x.reshape(1), Tensor._make(flat, False, None), source.reshape(1),
                              axis=0)
        return out.reshape(x.shape)
    return IndexCopy.apply(x, Tensor._make(flat, False, None), source, axis=axis)


class IndexFill(_IndexWrite):
    @staticmethod
    def value_grad(ctx, grad):  # each filled position once, however often the index repeats it
        index = ctx.key[-1] % max(grad.shape[ctx.axis], 1)
        picked = ctx.xp.take(grad, ctx.xp.unique(index), axis=ctx.axis)
        return ctx.xp.asarray(picked.sum(), dtype=grad.dtype)


def index_fill(input: Tensor, dim: int, index: Tensor, value: Any) -> Tensor:  # noqa: A002
    """A copy of input with the slices at positions `index` (n,) along dim set to value (a
    number or a 0-d tensor, which then gets the sum of their gradients)."""
    x = input
    axis = normalize_dim(dim, x.ndim)
    if index.ndim > 1:
        raise RuntimeError("Index has to be a vector/scalar")
    if index._data.dtype != array_module(index._data).int64:
        raise IndexError("index_fill_(): Expected dtype int64 for index.")
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(f"index_fill_ only supports a 0-dimensional value tensor, but "
                               f"got tensor with {value.ndim} dimension(s).")
        if value.requires_grad and state.enabled:
            _refuse_grad_into(x)
        value = cast(value, x.dtype)
    else:
        value = constant(value, x)
    flat = index._data.reshape(-1)
    flat = _checked_index(flat, x, axis, True, IndexError)
    if x.ndim == 0:
        return IndexFill.apply(x.reshape(1), Tensor._make(flat, False, None), value,
                               axis=0).reshape(())
    return IndexFill.apply(x, Tensor._make(flat, False, None), value, axis=axis)


# ------------------------------------------------------------------ take / take_along_dim
def take(input: Tensor, index: Tensor) -> Tensor:  # noqa: A002
    """input read as a flat vector, picked at `index` (any shape): out has index's shape."""
    from .shape import reshape

    if index._data.dtype != array_module(index._data).int64:
        raise RuntimeError(f"take(): Expected a long tensor for index, but got "
                           f"{dtypes.scalar_type_name(index.dtype)}")
    n, data = input.numel(), index._data
    if data.size and (int(data.max()) >= n or int(data.min()) < -n):
        bad = int(data.max()) if int(data.max()) >= n else int(data.min())
        raise IndexError(f"out of range: tried to access index {bad} on a tensor of {n} "
                         "elements.")
    # an integer-array index: GetItem's backward adds repeated picks together
    return GetItem.apply(reshape(input, -1), key=(data,), accumulate=True)


def take_along_dim(input: Tensor, indices: Tensor, dim: int | None = None) -> Tensor:  # noqa: A002
    """gather along dim after broadcasting input and indices in every other dimension; with
    dim=None both are flattened first (out: indices' number of elements)."""
    from .shape import expand, reshape, view

    x = input
    if indices._data.dtype != array_module(indices._data).int64:
        raise RuntimeError(f"torch.take_along_dim(): dtype of indices should be Long but got "
                           f"{dtypes.scalar_type_name(indices.dtype)}")
    if dim is None:  # flat: a view (PyTorch's; a non-contiguous input fails), no wrapping
        flat = view(x, -1)
        message = _out_of_bounds(indices._data, flat.shape[0], 0, negative_ok=False)
        if message:
            raise RuntimeError(message)
        return Gather.apply(flat, reshape(indices, -1), axis=0)
    if x.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    axis = normalize_dim(dim, x.ndim)
    if indices.ndim != x.ndim:
        raise RuntimeError(f"torch.take_along_dim(): input and indices should have the same "
                           f"number of dimensions, but got {x.ndim} dimensions for input, and "
                           f"{indices.ndim} dimensions for indices")
    message = _out_of_bounds(indices._data, x.shape[axis], axis, negative_ok=True)
    if message:
        raise RuntimeError(message)
    # every dimension but `axis` broadcasts, as in PyTorch (torch.broadcast_shapes' message)
    batch = []
    for d, (a, b) in enumerate(zip(x.shape, indices.shape)):
        if d == axis:
            batch.append(1)
        elif a != b and 1 not in (a, b):
            raise RuntimeError(f"The size of tensor a ({a}) must match the size of tensor b "
                               f"({b}) at non-singleton dimension {d}")
        else:
            batch.append(b if a == 1 else a)
    x_shape = tuple(batch[:axis]) + (x.shape[axis],) + tuple(batch[axis + 1:])
    i_shape = tuple(batch[:axis]) + (indices.shape[axis],) + tuple(batch[axis + 1:])
    x = x if x.shape == x_shape else expand(x, x_shape)
    indices = indices if indices.shape == i_shape else expand(indices, i_shape)
    return Gather.apply(x, indices, axis=axis)


# ------------------------------------------------------------------ diagonal / diag_embed
def _diagonal_positions(xp: Any, n: int, offset: int) -> tuple[Any, Any]:
    """(rows, cols) of the n elements on diagonal `offset` (above the main one when > 0)."""
    i = xp.arange(n)
    return i + max(-offset, 0), i + max(offset, 0)


def writable_view(view: Any, source: Any) -> Any:
    """`view` of `source` made writable where `source` is (NumPy's diagonals are read-only
    views; CuPy's flags have no such field)."""
    if not getattr(view.flags, "writeable", True) and source.flags.writeable:
        view.flags.writeable = True
    return view


def _take_diagonal(xp: Any, a: Any, offset: int, axis1: int, axis2: int) -> Any:
    """The diagonal of a over (axis1, axis2) as the last dimension, a new array."""
    return xp.diagonal(a, offset, axis1, axis2).copy()  # NumPy's is a read-only view


def _embed_diagonal(xp: Any, values: Any, shape: tuple, offset: int, axis1: int,
                    axis2: int) -> Any:
    """Zeros of `shape` with values (..., n) on diagonal `offset` of (axis1, axis2)."""
    out = xp.zeros(shape, dtype=values.dtype)
    moved = xp.moveaxis(out, (axis1, axis2), (-2, -1))  # a writable view of out
    rows, cols = _diagonal_positions(xp, values.shape[-1], offset)
    moved[..., rows, cols] = values
    return out


class Diagonal(Function):
    view = True  # as in PyTorch: an in-place change of the diagonal changes the input

    @staticmethod
    def forward(ctx, x, offset, axis1, axis2):
        ctx.shape, ctx.params = x.shape, (offset, axis1, axis2)
        return writable_view(ctx.xp.diagonal(x, offset, axis1, axis2), x)

    @staticmethod
    def backward(ctx, grad):
        return _embed_diagonal(ctx.xp, grad, ctx.shape, *ctx.params)


class DiagEmbed(Function):
    @staticmethod
    def forward(ctx, x, offset, axis1, axis2, shape):
        ctx.params = (offset, axis1, axis2)
        return _embed_diagonal(ctx.xp, x, shape, offset, axis1, axis2)

    @staticmethod
    def backward(ctx, grad):
        return _take_diagonal(ctx.xp, grad, *ctx.params)


def _diagonal_dims(dim1: int, dim2: int, ndim: int) -> tuple[int, int]:
    axis1, axis2 = normalize_dim(dim1, ndim), normalize_dim(dim2, ndim)
    if axis1 == axis2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return axis1, axis2


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:  # noqa: A002
    """(..., n, ..., m, ...) -> (..., k): diagonal `offset` of dims (dim1, dim2), moved last
    (a view)."""
    axis1, axis2 = _diagonal_dims(dim1, dim2, input.ndim)
    return Diagonal.apply(input, offset=int(offset), axis1=axis1, axis2=axis2)


def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:  # noqa: A002
    """(..., n) -> a tensor with one more dim whose (dim1, dim2) matrices (n + |offset|
    square) have the last dim of input on diagonal `offset`, zeros elsewhere."""
    ndim = input.ndim + 1
    axis1, axis2 = _diagonal_dims(dim1, dim2, ndim)
    n = input.shape[-1] + abs(int(offset))
    batch = iter(input.shape[:-1])
    shape = tuple(n if d in (axis1, axis2) else next(batch) for d in range(ndim))
    return DiagEmbed.apply(input, offset=int(offset), axis1=axis1, axis2=axis2, shape=shape)


# ------------------------------------------------------------------ select / argwhere / isin
def select(input: Tensor, dim: int, index: Any) -> Tensor:  # noqa: A002
    """input with dimension dim removed at position index (a view, as input[..., index, ...])."""
    if input.ndim == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    axis = normalize_dim(dim, input.ndim)
    i = int(index)
    size = input.shape[axis]
    if not -size <= i < size:
        raise IndexError(f"select(): index {i} out of range for tensor of size "
                         f"{list(input.shape)} at dimension {axis}")
    return getitem(input, (slice(None),) * axis + (i,))


def argwhere(input: Tensor) -> Tensor:  # noqa: A002
    """(N, ndim) int64: the index of each nonzero element of input, in row-major order."""
    xp = array_module(input._data)
    return _no_grad_result(xp.argwhere(input._data).astype(xp.int64))


def isin(elements: Any, test_elements: Any, *, assume_unique: bool = False,
         invert: bool = False) -> Tensor:
    """bool tensor of elements' shape: whether each element is in test_elements (either may
    be a number, not both); invert gives the opposite."""
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError("isin() received an invalid combination of arguments: elements and "
                        "test_elements cannot both be numbers")
    like = elements if isinstance(elements, Tensor) else test_elements
    xp = array_module(like._data)
    arrays = [t._data if isinstance(t, Tensor) else xp.asarray(t)
              for t in (elements, test_elements)]
    for a in arrays:
        if a.dtype.kind == "b":
            raise RuntimeError("Unsupported input type encountered for isin(): Bool")
    found = xp.isin(arrays[0], arrays[1], assume_unique=assume_unique, invert=invert)
    return _no_grad_result(xp.asarray(found, dtype=xp.bool_))


# ------------------------------------------------------------------ masked_scatter
class MaskedScatter(Function):
    @staticmethod
    def forward(ctx, x, mask, src, shape, count):
        ctx.x_shape, ctx.src_shape, ctx.shape, ctx.count = x.shape, src.shape, shape, count
        ctx.save_for_backward(mask)
        out = ctx.xp.broadcast_to(x, shape).copy()
        out[ctx.xp.broadcast_to(mask, shape)] = src.reshape(-1)[:count]  # row-major order
        return out

    @staticmethod
    def backward(ctx, grad):
        need_x, _, need_src = ctx.needs_input_grad
        mask = ctx.xp.broadcast_to(ctx.saved_tensors[0], ctx.shape)
        grad_x = grad_src = None
        if need_x:  # overwritten places get none; a broadcast input sums its copies
            grad_x = unbroadcast(ctx.xp.where(mask, grad.dtype.type(0), grad), ctx.x_shape)
        if need_src:  # source elements past the mask's count were never read
            grad_src = ctx.xp.zeros(ctx.src_shape, dtype=grad.dtype).reshape(-1)
            grad_src[:ctx.count] = grad[mask]
            grad_src = grad_src.reshape(ctx.src_shape)
        return grad_x, None, grad_src


def masked_scatter(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:  # noqa: A002
    """A copy of input (broadcast with the bool mask) whose masked places take source's
    first elements in row-major order (source needs at least mask.sum() elements)."""
    if mask.dtype is not dtypes.bool:
        raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got mask with "
                           f"dtype {mask.dtype.name}")
    _check_src_dtype(input, source, "masked_scatter: expected self and source to have same "
                     "dtypes but got {self} and {source}")
    try:
        shape = tuple(_broadcast_shape(input.shape, mask.shape))
    except ValueError:
        raise RuntimeError(f"masked_scatter: the shape of the mask {list(mask.shape)} must be "
                           f"broadcastable with the shape of input {list(input.shape)}") from None
    xp = array_module(mask._data)
    count = int(xp.count_nonzero(xp.broadcast_to(mask._data, shape)))
    if source.numel() < count:
        raise RuntimeError(f"Number of elements of source < number of ones in mask "
                           f"({source.numel()} < {count})")
    return MaskedScatter.apply(input, mask, source, shape=shape, count=count)
