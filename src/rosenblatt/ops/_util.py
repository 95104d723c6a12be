"""Helpers shared by the op families."""

from __future__ import annotations

import functools
from typing import Any, Callable, Sequence

from .._backend import array_module, dense


def unbroadcast(grad: Any, shape: tuple) -> Any:
    """Sum `grad` over the dimensions that broadcasting added or stretched to reach `shape`."""
    if grad.shape == shape:
        return grad
    if len(shape) > grad.ndim:  # the value had extra leading size-1 dims (x[...] = v[None])
        grad = grad.reshape((1,) * (len(shape) - grad.ndim) + grad.shape)
    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        extra + i for i, n in enumerate(shape) if n == 1 and grad.shape[extra + i] != 1
    )
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


def kept_max(x: Any, axes: int | tuple | None) -> Any:
    """x's maximum over `axes` with them kept as size 1 (the shift before an exp); zeros
    when the reduced axes are empty, where NumPy's max has no identity to return."""
    if x.size == 0:
        axes = range(x.ndim) if axes is None else (axes,) if isinstance(axes, int) else axes
        shape = tuple(1 if i in axes or i - x.ndim in axes else n for i, n in enumerate(x.shape))
        return array_module(x).zeros(shape, dtype=x.dtype)
    return x.max(axis=axes, keepdims=True)


def normalize_dim(dim: int, ndim: int) -> int:
    """A dimension in [0, ndim), with PyTorch's error message when out of range."""
    lo, hi = (-ndim, ndim - 1) if ndim else (-1, 0)
    if not isinstance(dim, int) or not lo <= dim <= hi:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{lo}, {hi}], but got {dim})"
        )
    return dim % ndim if ndim else 0


def normalize_dims(dim: int | Sequence[int] | None, ndim: int) -> tuple[int, ...] | None:
    """`dim` as a sorted tuple of non-negative axes, or None for all dimensions (also for a
    0-d tensor's dim 0 or -1: reducing its one element over 'all' dimensions is the same)."""
    if dim is None:
        return None
    if isinstance(dim, int):
        axis = normalize_dim(dim, ndim)
        return (axis,) if ndim else None
    axes = tuple(sorted(normalize_dim(d, ndim) for d in dim))
    if len(set(axes)) != len(axes):
        raise RuntimeError(f"dim {tuple(dim)} appears multiple times in the list of dims")
    return axes if axes and ndim else None


def scalar_as_vector(op: Callable) -> Callable:
    """For an op along one dim (cumsum, sort, flip, max(dim)...): PyTorch lets a 0-d tensor
    take dim 0 or -1 as one element. The op runs on it as shape (1,), and each one-element
    tensor it returns comes back 0-d, as PyTorch's do."""

    @functools.wraps(op)
    def along_dim(x: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(x, "ndim", 1) != 0:
            return op(x, *args, **kwargs)
        return _as_zero_dim(op(x.reshape(1), *args, **kwargs))

    return along_dim


def _as_zero_dim(result: Any) -> Any:
    if isinstance(result, tuple):
        parts = [_as_zero_dim(r) for r in result]
        return type(result)(*parts) if hasattr(result, "_fields") else tuple(parts)
    return result.reshape(()) if getattr(result, "ndim", 0) == 1 else result


def shape_str(shape: Sequence[int]) -> str:
    """'32x784' for a shape (PyTorch's style in matmul errors)."""
    return "x".join(str(n) for n in shape) if len(shape) else "scalar"


def iterator_layout(out: Any, *arrays: Any) -> Any:
    """`out`, an elementwise result of `arrays`, in the memory layout PyTorch's TensorIterator
    gives a new output (so .view(-1) and .is_contiguous() agree). NumPy's 'K' order agrees
    but where operands' layouts conflict: a transposed a plus a row-major b is laid out as a
    in PyTorch (the first operand that orders two dims decides), row-major in NumPy."""
    if out.ndim < 2:
        return out
    for a in arrays:  # (a loop, not all(...): every elementwise op passes here)
        if not a.flags.c_contiguous:
            break
    else:
        return out  # row-major operands: both libraries give row-major
    order = _iterator_order(out.shape, arrays)  # slowest dim first
    shape = out.shape
    expected, strides = out.itemsize, [0] * out.ndim
    for d in reversed(order):
        strides[d] = expected
        expected *= shape[d]
    if tuple(strides) == out.strides or out.size <= 1:
        return out
    laid = array_module(out).empty([shape[d] for d in order], dtype=out.dtype)
    laid = laid.transpose([order.index(d) for d in range(out.ndim)])
    laid[...] = out
    return laid


def _iterator_order(shape: tuple, arrays: Sequence[Any]) -> list[int]:
    """The dims of a new output of TensorIterator, slowest first (aten's reorder_dimensions
    after its fast setup: same-shape dense operands with equal strides give those strides)."""
    nd = len(shape)
    if all(a.shape == shape for a in arrays) and all(map(dense, arrays)) and all(
            a.strides == arrays[0].strides for a in arrays):
        return sorted(range(nd), key=lambda d: -arrays[0].strides[d])
    strides = []
    for a in arrays:
        lead = nd - a.ndim
        strides.append((0,) * lead + tuple(
            0 if n == 1 and shape[lead + i] != 1 else s
            for i, (n, s) in enumerate(zip(a.shape, a.strides))))

    def should_swap(d0: int, d1: int) -> int:
        for st in strides:
            s0, s1 = st[d0], st[d1]
            if s0 == 0 or s1 == 0:  # broadcast in this operand: the next one decides
                continue
            if s0 != s1:
                return 1 if s0 > s1 else -1
            if shape[d0] > shape[d1]:
                return 1
        return 0

    perm = list(range(nd))[::-1]  # fastest first, as aten counts
    for i in range(1, nd):  # aten's insertion sort, which stops at an ambiguous pair
        dim1 = i
        for dim0 in range(i - 1, -1, -1):
            comparison = should_swap(perm[dim0], perm[dim1])
            if comparison > 0:
                perm[dim0], perm[dim1] = perm[dim1], perm[dim0]
                dim1 = dim0
            elif comparison < 0:
                break
    return perm[::-1]
