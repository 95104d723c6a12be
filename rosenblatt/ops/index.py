"""Indexing ops: x[key], x[key] = v, masked_fill, gather/scatter, index_select, tril/triu,
sort/topk, one_hot."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from .. import dtypes
from .._backend import array_module
from ..autograd.function import Function
from ..autograd.grad_mode import state
from ..autograd.tensor import Tensor
from ._util import normalize_dim, unbroadcast
from .elementwise import _no_grad_result, cast, constant
from .reduce import values_indices


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


class GetItem(Function):
    view = True

    @staticmethod
    def forward(ctx, x, key, accumulate):
        ctx.shape, ctx.key, ctx.accumulate = x.shape, key, accumulate
        out = x[key]
        if not isinstance(out, ctx.xp.ndarray):  # NumPy gives a copied scalar for one element;
            out = x[(key if isinstance(key, tuple) else (key,)) + (Ellipsis,)]  # a 0-d view
        return out

    @staticmethod
    def backward(ctx, grad):
        out = ctx.xp.zeros(ctx.shape, dtype=grad.dtype)
        if ctx.accumulate:  # an index may repeat: add every copy's gradient
            ctx.xp.add.at(out, ctx.key, grad)
        else:
            out[ctx.key] = grad
        return out


class SetItem(Function):
    """x with x[key] replaced by value: the graph version of `x[key] = value`."""

    @staticmethod
    def forward(ctx, x, value, key):
        ctx.key, ctx.value_shape = key, value.shape
        out = x.copy()
        out[key] = value
        return out

    @staticmethod
    def backward(ctx, grad):
        need_x, need_value = ctx.needs_input_grad
        grad_x = grad_value = None
        if need_x:
            grad_x = grad.copy()
            grad_x[ctx.key] = 0
        if need_value:
            grad_value = unbroadcast(grad[ctx.key], ctx.value_shape)
        return grad_x, grad_value


def getitem(x: Tensor, key: Any) -> Tensor:
    """x[key] with ints, slices, None, Ellipsis, integer tensors/lists and boolean masks."""
    converted, has_int_array = _convert_key(key, array_module(x._data))
    try:
        return GetItem.apply(x, key=converted, accumulate=has_int_array)
    except IndexError as e:
        raise IndexError(f"index {key!r} is out of range for a tensor of shape "
                         f"{list(x.shape)}: {e}") from None


class CopySlices(Function):
    """base with the region a view op selects replaced by value: the graph of an in-place op
    on a view (PyTorch's CopySlices). `view` is the view's Function class, `params` its
    arguments; replaying its forward on a copy of base finds the region again."""

    @staticmethod
    def forward(ctx, base, value, view, params):
        ctx.view, ctx.params, ctx.value_shape = view, params, value.shape
        out = base.copy()
        region = view.forward(SimpleNamespace(xp=ctx.xp), out, **params)
        if not region.flags.writeable:  # an expanded view: many elements share one place
            raise RuntimeError("unsupported operation: more than one element of the written-to "
                               "tensor refers to a single memory location. Please clone() the "
                               "tensor before performing the operation.")
        region[...] = value
        return out

    @staticmethod
    def backward(ctx, grad):
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
    tracked = state.enabled and (x.requires_grad or value.requires_grad)
    if not tracked:
        x._data[converted] = value._data
        x._version_box[0] += 1
        return
    x._inplace(lambda: SetItem.apply(x, value, key=converted))


class MaskedFill(Function):
    @staticmethod
    def forward(ctx, x, mask, value):
        ctx.save_for_backward(mask)
        ctx.shape = x.shape
        return ctx.xp.where(mask, x.dtype.type(value), x)

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved_tensors
        return unbroadcast(ctx.xp.where(mask, grad.dtype.type(0), grad), ctx.shape), None


def masked_fill(x: Tensor, mask: Tensor, value: Any) -> Tensor:
    """`value` where mask is True, x elsewhere; mask broadcasts to x's shape."""
    if mask.dtype is not dtypes.bool:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{mask.dtype.name}")
    if isinstance(value, Tensor):
        value = value.item()
    if x._data.dtype.kind != "f" and isinstance(value, float):
        raise RuntimeError(f"value cannot be converted to type {x.dtype.name} without overflow")
    return MaskedFill.apply(x, mask, value=value)


def masked_select(x: Tensor, mask: Tensor) -> Tensor:
    """The elements of x where mask is True, as a 1-D tensor."""
    from .shape import expand

    return getitem(x, expand(mask, tuple(_broadcast_shape(x.shape, mask.shape))))


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
    if index._data.size and (int(index._data.max()) >= x.shape[axis] or int(index._data.min()) <
                             -x.shape[axis]):
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
    """out[i][j] = x[index[i][j]][j] (for dim 0): pick values along `dim` by index."""
    axis = _check_index(x, index, dim, "gather")
    return Gather.apply(x, index, axis=axis)


class ScatterAdd(Function):
    @staticmethod
    def forward(ctx, x, index, src, axis):
        ctx.full_index = _along_axis_index(ctx.xp, index, axis)
        ctx.src_shape, ctx.index_shape = src.shape, index.shape
        out = x.copy()
        ctx.xp.add.at(out, ctx.full_index, src[tuple(slice(0, n) for n in index.shape)])
        return out

    @staticmethod
    def backward(ctx, grad):
        need_x, _, need_src = ctx.needs_input_grad
        grad_src = None
        if need_src:
            grad_src = ctx.xp.zeros(ctx.src_shape, dtype=grad.dtype)
            grad_src[tuple(slice(0, n) for n in ctx.index_shape)] = grad[ctx.full_index]
        return (grad if need_x else None), None, grad_src


class Scatter(Function):
    @staticmethod
    def forward(ctx, x, index, src, axis):
        ctx.full_index = _along_axis_index(ctx.xp, index, axis)
        ctx.src_shape = src.shape
        out = x.copy()
        out[ctx.full_index] = src[tuple(slice(0, n) for n in index.shape)] if src.ndim else src
        return out

    @staticmethod
    def backward(ctx, grad):
        need_x, _, need_src = ctx.needs_input_grad
        grad_x = grad_src = None
        if need_x:
            grad_x = grad.copy()
            grad_x[ctx.full_index] = 0
        if need_src:
            grad_src = ctx.xp.zeros(ctx.src_shape, dtype=grad.dtype)
            picked = grad[ctx.full_index]
            if grad_src.ndim:
                grad_src[tuple(slice(0, n) for n in picked.shape)] = picked
            else:
                grad_src = picked.sum()
        return grad_x, None, grad_src


def scatter_add(x: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """A copy of x with src added at `index` along `dim` (repeated indices add up)."""
    axis = _check_index(x, index, dim, "scatter_add")
    return ScatterAdd.apply(x, index, cast(src, x.dtype), axis=axis)


def scatter(x: Tensor, dim: int, index: Tensor, src: Any = None, value: Any = None) -> Tensor:
    """A copy of x with src (or a number) written at `index` along `dim`."""
    axis = _check_index(x, index, dim, "scatter")
    src = value if src is None else src
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
    found = xp.nonzero(x._data)
    if as_tuple:
        return tuple(_no_grad_result(i.astype(xp.int64)) for i in found)
    return _no_grad_result(xp.stack(found, axis=1).astype(xp.int64) if found else
                           xp.zeros((0, 0), dtype=xp.int64))


def sort(x: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Any:
    """(values, indices) sorted along `dim`."""
    indices = argsort(x, dim, descending, stable)
    return values_indices(gather(x, normalize_dim(dim, max(x.ndim, 1)), indices), indices)


def argsort(x: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """Indices that sort x along `dim`."""
    xp = array_module(x._data)
    axis = normalize_dim(dim, max(x.ndim, 1))
    data = -x._data if descending and x._data.dtype.kind != "b" else x._data
    order = xp.argsort(data, axis=axis, kind="stable")
    if descending and x._data.dtype.kind == "b":
        order = xp.flip(xp.argsort(data, axis=axis, kind="stable"), axis)
    return _no_grad_result(order.astype(xp.int64))


def topk(x: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> Any:  # noqa: A002
    """(values, indices) of the k largest (or smallest) elements along `dim`."""
    axis = normalize_dim(dim, max(x.ndim, 1))
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
        return ctx.xp.diag(x, k)

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
