"""Reductions: sum, mean, prod, amax/amin, max/min, var/std, logsumexp, norm, cumsum, argmax."""

from __future__ import annotations

import builtins
from collections import namedtuple
from typing import Any

from .. import dtypes
from .._backend import array_module, np
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._util import normalize_dim, normalize_dims
from .elementwise import _float_input, _no_grad_result, cast, quiet

values_indices = namedtuple("values_indices", ["values", "indices"])


def _expand_back(xp: Any, grad: Any, shape: tuple, axes: tuple | None, keepdim: bool) -> Any:
    """Spread a reduced gradient back over the reduced axes of `shape` (a new array).

    Filling a new array costs far less Python time than NumPy's broadcast_to view, and the
    consumer of this gradient would materialise it anyway."""
    out = xp.empty(shape, dtype=grad.dtype)
    out[...] = _keep_dims(grad, shape, axes, keepdim)
    return out


def _keep_dims(grad: Any, shape: tuple, axes: tuple | None, keepdim: bool) -> Any:
    """A reduced array with its reduced axes back as size 1, so it broadcasts against `shape`."""
    if axes is None or keepdim:
        return grad
    return grad.reshape(tuple(1 if i in axes else n for i, n in enumerate(shape)))


def _reduced_count(shape: tuple, axes: tuple | None) -> int:
    """How many elements each output element of a reduction summarises."""
    n = 1
    for i, s in enumerate(shape):
        if axes is None or i in axes:
            n *= s
    return n


class Sum(Function):
    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        if ctx.xp is np:  # the ufunc directly: ndarray.sum adds a Python-level wrapper
            return np.add.reduce(x, axis=axes, keepdims=keepdim)
        return x.sum(axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        if ctx.axes is None:  # the whole-tensor sum (every loss): fill with the one value
            out = ctx.xp.empty(ctx.shape, dtype=grad.dtype)
            out[...] = grad
            return out
        return _expand_back(ctx.xp, grad, ctx.shape, ctx.axes, ctx.keepdim)


class SumAll(Function):
    """x.sum() over every element (every loss ends in one): no parameters to pass around."""

    name = "SumBackward"  # shown as PyTorch names it

    @staticmethod
    def forward(ctx, x):
        ctx.shape = x.shape
        return np.add.reduce(x, None) if ctx.xp is np else x.sum()

    @staticmethod
    def backward(ctx, grad):
        out = ctx.xp.empty(ctx.shape, dtype=grad.dtype)
        out[...] = grad
        return out


class Mean(Function):
    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        return x.mean(axis=axes, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        out = _expand_back(ctx.xp, grad, ctx.shape, ctx.axes, ctx.keepdim)
        out /= _reduced_count(ctx.shape, ctx.axes)
        return out


class Prod(Function):
    """Product over one axis (or all); the gradient is the product of the other elements."""

    @staticmethod
    def forward(ctx, x, axis, keepdim):
        ctx.save_for_backward(x)
        ctx.axis, ctx.keepdim = axis, keepdim
        return x.prod(axis=axis, keepdims=keepdim)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        xp, axis = ctx.xp, ctx.axis
        flat = x.reshape(-1) if axis is None else xp.moveaxis(x, axis, -1)
        ones = xp.ones_like(flat[..., :1])
        # product of all elements left of i times all elements right of i (safe with zeros)
        left = xp.cumprod(xp.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
        right = xp.flip(
            xp.cumprod(xp.concatenate([ones, xp.flip(flat, -1)[..., :-1]], axis=-1), axis=-1), -1
        )
        others = left * right
        others = others.reshape(x.shape) if axis is None else xp.moveaxis(others, -1, axis)
        axes = None if axis is None else (axis,)
        return _keep_dims(grad, x.shape, axes, ctx.keepdim) * others


class AMax(Function):
    """Max/min over axes; ties share the gradient equally (PyTorch's amax/amin rule)."""

    @staticmethod
    def forward(ctx, x, axes, keepdim, largest):
        out = (x.max if largest else x.min)(axis=axes, keepdims=keepdim)
        ctx.save_for_backward(x, out)
        ctx.axes, ctx.keepdim = axes, keepdim
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        winners = x == _keep_dims(out, x.shape, ctx.axes, ctx.keepdim)
        count = winners.sum(axis=ctx.axes, keepdims=True)
        grad = _keep_dims(grad, x.shape, ctx.axes, ctx.keepdim)
        return grad * winners / count.astype(grad.dtype)


class Var(Function):
    @staticmethod
    def forward(ctx, x, axes, keepdim, correction):
        mean = x.mean(axis=axes, keepdims=True)
        centered = x - mean
        n = _reduced_count(x.shape, axes)
        ctx.save_for_backward(centered)
        ctx.axes, ctx.keepdim, ctx.divisor = axes, keepdim, builtins.max(n - correction, 0)
        with quiet():
            return (centered * centered).sum(axis=axes, keepdims=keepdim) / ctx.divisor

    @staticmethod
    def backward(ctx, grad):
        (centered,) = ctx.saved_tensors
        grad = _keep_dims(grad, centered.shape, ctx.axes, ctx.keepdim)
        with quiet():
            return grad * centered * (2.0 / ctx.divisor if ctx.divisor else float("inf"))


class Std(Function):
    """sqrt(var) in one node; where the result is 0 the gradient is 0 (PyTorch's rule)."""

    @staticmethod
    def forward(ctx, x, axes, keepdim, correction):
        variance = Var.forward(ctx, x, axes, True, correction)
        out = ctx.xp.sqrt(variance)
        (centered,) = ctx.saved_tensors
        ctx.save_for_backward(centered, out)
        ctx.keepdim = keepdim
        return out if keepdim else out.reshape(_reduced_shape(x.shape, axes))

    @staticmethod
    def backward(ctx, grad):
        centered, out = ctx.saved_tensors
        grad = _keep_dims(grad, centered.shape, ctx.axes, ctx.keepdim)
        with quiet():
            grad = ctx.xp.where(out == 0, 0, grad / (2 * out))
            return grad * centered * (2.0 / ctx.divisor if ctx.divisor else float("inf"))


class LogSumExp(Function):
    @staticmethod
    def forward(ctx, x, axes, keepdim):
        xp = ctx.xp
        peak = x.max(axis=axes, keepdims=True)
        peak = xp.where(xp.isfinite(peak), peak, 0)
        total = xp.exp(x - peak).sum(axis=axes, keepdims=True)
        with quiet():
            out = xp.log(total) + peak
        ctx.save_for_backward(x, out)
        ctx.axes, ctx.keepdim = axes, keepdim
        return out if keepdim else out.squeeze(axis=axes)

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        grad = _keep_dims(grad, x.shape, ctx.axes, ctx.keepdim)
        return grad * ctx.xp.exp(x - out)


class Norm2(Function):
    """Euclidean norm; gradient x / norm, and 0 where the norm is 0 (as PyTorch)."""

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        out = ctx.xp.sqrt((x * x).sum(axis=axes, keepdims=True))
        ctx.save_for_backward(x, out)
        ctx.axes, ctx.keepdim = axes, keepdim
        return out if keepdim else out.reshape(_reduced_shape(x.shape, axes))

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        xp = ctx.xp
        grad = _keep_dims(grad, x.shape, ctx.axes, ctx.keepdim)
        safe = xp.where(out == 0, 1, out)
        return xp.where(out == 0, 0, grad * x / safe)


class CumSum(Function):
    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        return ctx.xp.cumsum(x, axis=axis)

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        return xp.flip(xp.cumsum(xp.flip(grad, ctx.axis), axis=ctx.axis), ctx.axis)


class CumProd(Function):
    """Running product; the backward avoids dividing by x, so zeros get exact gradients."""

    @staticmethod
    def forward(ctx, x, axis):
        ctx.save_for_backward(x)
        ctx.axis = axis
        return ctx.xp.cumprod(x, axis=axis).reshape(x.shape)  # NumPy makes a 0-d input 1-d

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        xp = ctx.xp
        if x.ndim == 0 or x.shape[ctx.axis] <= 1:  # out = x
            return grad.copy()
        x, grad = xp.moveaxis(x, ctx.axis, 0), xp.moveaxis(grad, ctx.axis, 0)
        n = x.shape[0]
        # d out_j / d x_i = prod_{k<i} x_k * prod_{i<k<=j} x_k for j >= i. With
        # after_i = sum_{j>=i} grad_j prod_{i<k<=j} x_k = grad_i + x_{i+1} after_{i+1}:
        after = xp.empty_like(grad)
        after[n - 1] = grad[n - 1]
        for i in range(n - 2, -1, -1):
            after[i] = grad[i] + x[i + 1] * after[i + 1]
        before = xp.cumprod(xp.concatenate([xp.ones_like(x[:1]), x[:-1]]), axis=0)
        return xp.moveaxis(before * after, 0, ctx.axis)


def _reduced_shape(shape: tuple, axes: tuple | None) -> tuple:
    return () if axes is None else tuple(s for i, s in enumerate(shape) if i not in axes)


# ------------------------------------------------------------------- functions
def _sum_dtype(x: Tensor, dtype: dtypes.dtype | None) -> Tensor:
    """Integer and bool sums accumulate in int64, as PyTorch's do."""
    if dtype is not None:
        return cast(x, dtype)
    if x._data.dtype.kind in "biu":
        return cast(x, dtypes.int64)
    return x


def sum(x: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:  # noqa: A001
    """Sum over `dim` (int, tuple, or all); (...) -> reduced shape."""
    if dim is None and dtype is None and not keepdim and x._data.dtype.kind == "f":
        return SumAll.apply(x)  # loss.sum(): the fast path
    x = _sum_dtype(x, dtype)
    return Sum.apply(x, axes=normalize_dims(dim, x.ndim), keepdim=keepdim)


def mean(x: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """Average over `dim`; float inputs only, as PyTorch."""
    if dtype is not None:
        x = cast(x, dtype)
    if x._data.dtype.kind != "f":
        raise RuntimeError(
            f"mean(): could not infer output dtype. Input dtype must be floating point, "
            f"but got {x.dtype.name}"
        )
    return Mean.apply(x, axes=normalize_dims(dim, x.ndim), keepdim=keepdim)


def prod(x: Tensor, dim: int | None = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """Product over one dimension (or all)."""
    x = _sum_dtype(x, dtype)
    axis = None if dim is None else normalize_dim(dim, x.ndim)
    return Prod.apply(x, axis=axis, keepdim=keepdim)


def amax(x: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    """Largest value over `dim` (all when empty); ties share the gradient."""
    return AMax.apply(x, axes=normalize_dims(dim, x.ndim), keepdim=keepdim, largest=True)


def amin(x: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    """Smallest value over `dim` (all when empty); ties share the gradient."""
    return AMax.apply(x, axes=normalize_dims(dim, x.ndim), keepdim=keepdim, largest=False)


def _max_min(x: Any, dim: Any, keepdim: bool, largest: bool) -> Any:
    from .elementwise import maximum, minimum
    from .index import gather

    if isinstance(dim, Tensor):  # torch.max(a, b) is the elementwise maximum
        return maximum(x, dim) if largest else minimum(x, dim)
    if dim is None:
        return amax(x) if largest else amin(x)
    axis = normalize_dim(dim, x.ndim)
    indices = (argmax if largest else argmin)(x, axis, keepdim=True)
    values = gather(x, axis, indices)
    if not keepdim:
        values, indices = values.squeeze(axis), indices.squeeze(axis)
    return values_indices(values, indices)


def max(x: Tensor, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001
    """max() -> the largest value; max(dim) -> (values, indices); max(a, b) -> elementwise."""
    return _max_min(x, dim, keepdim, True)


def min(x: Tensor, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001
    """min() -> the smallest value; min(dim) -> (values, indices); min(a, b) -> elementwise."""
    return _max_min(x, dim, keepdim, False)


def _correction(unbiased: bool | None, correction: Any) -> float:
    if correction is not None:
        return correction
    return 0 if unbiased is False else 1


def var(x: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction: Any = None) -> Tensor:
    """Variance over `dim`, dividing by N - correction (Bessel's correction by default)."""
    if isinstance(unbiased, (int, tuple, list)) and not isinstance(unbiased, bool):
        dim, unbiased = unbiased, None  # var(x, 1) means dim=1 in PyTorch too
    x = _float_input(x)
    return Var.apply(x, axes=normalize_dims(dim, x.ndim), keepdim=keepdim,
                     correction=_correction(unbiased, correction))


def std(x: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction: Any = None) -> Tensor:
    """Standard deviation over `dim`: sqrt(var), fused so a zero spread has gradient 0."""
    if isinstance(unbiased, (int, tuple, list)) and not isinstance(unbiased, bool):
        dim, unbiased = unbiased, None
    x = _float_input(x)
    return Std.apply(x, axes=normalize_dims(dim, x.ndim), keepdim=keepdim,
                     correction=_correction(unbiased, correction))


def var_mean(x: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
             correction: Any = None) -> tuple[Tensor, Tensor]:
    """(var, mean) over `dim`."""
    return var(x, dim, unbiased, keepdim, correction=correction), mean(x, dim, keepdim)


def logsumexp(x: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    """log(sum(exp(x))) over `dim`, computed stably."""
    x = _float_input(x)
    return LogSumExp.apply(x, axes=normalize_dims(dim, x.ndim), keepdim=keepdim)


def norm(x: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False, *,
         dtype: Any = None) -> Tensor:
    """Vector p-norm over `dim` (2 / 'fro' by default; also 1, inf, -inf, any p > 0)."""
    from .elementwise import abs as abs_
    from .elementwise import pow as pow_

    x = _float_input(x if dtype is None else cast(x, dtype))
    axes = normalize_dims(dim, x.ndim)
    if p in ("fro", 2, 2.0, None):
        return Norm2.apply(x, axes=axes, keepdim=keepdim)
    if p == float("inf"):
        return amax(abs_(x), () if axes is None else axes, keepdim)
    if p == -float("inf"):
        return amin(abs_(x), () if axes is None else axes, keepdim)
    if p == 1:
        return sum(abs_(x), axes, keepdim)
    if p == 0:
        return sum(cast(x != 0, x.dtype), axes, keepdim)
    return pow_(sum(pow_(abs_(x), p), axes, keepdim), 1.0 / p)


def cumsum(x: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """Running sum along `dim`."""
    x = _sum_dtype(x, dtype)
    return CumSum.apply(x, axis=normalize_dim(dim, x.ndim))


def cumprod(x: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """Running product along `dim` (integers accumulate in int64)."""
    x = _sum_dtype(x, dtype)
    return CumProd.apply(x, axis=normalize_dim(dim, x.ndim))


def _arg(x: Tensor, dim: int | None, keepdim: bool, largest: bool) -> Tensor:
    data = x._data
    fn = data.argmax if largest else data.argmin
    if dim is None:
        out = fn()
        if keepdim:
            out = out.reshape((1,) * data.ndim)
    else:
        out = fn(axis=normalize_dim(dim, data.ndim), keepdims=keepdim)
    return _no_grad_result(array_module(data).asarray(out, dtype="int64"))


def argmax(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index of the largest value (of the flattened tensor when dim is None)."""
    return _arg(x, dim, keepdim, True)


def argmin(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index of the smallest value (of the flattened tensor when dim is None)."""
    return _arg(x, dim, keepdim, False)


def all(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """True where every element over `dim` is nonzero."""
    out = x._data.all(axis=normalize_dims(dim, x.ndim), keepdims=keepdim)
    return _no_grad_result(array_module(x._data).asarray(out))


def any(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """True where some element over `dim` is nonzero."""
    out = x._data.any(axis=normalize_dims(dim, x.ndim), keepdims=keepdim)
    return _no_grad_result(array_module(x._data).asarray(out))


def count_nonzero(x: Tensor, dim: Any = None) -> Tensor:
    """Number of nonzero elements over `dim`."""
    out = (x._data != 0).sum(axis=normalize_dims(dim, x.ndim))
    return _no_grad_result(array_module(x._data).asarray(out, dtype="int64"))
