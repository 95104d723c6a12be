"""Reductions: sum, mean, prod, amax/amin, max/min, var/std, logsumexp, norm, cumsum, argmax."""

from __future__ import annotations

import builtins
from collections import namedtuple
from typing import Any

from .. import dtypes
from .._backend import array_module, broadcast_view, np, parallel
from ..autograd.function import Function, tie_outputs
from ..autograd.tensor import Tensor
from ._util import kept_max, normalize_dim, normalize_dims, scalar_as_vector
from .elementwise import _float_input, _no_grad_result, cast, lerp, quiet
from .shape import clone, row_major

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


def _split_reduction(reduce: Any, x: Any, axes: tuple | None, keepdim: bool) -> Any:
    """reduce(x, axis=axes, keepdims=keepdim), split over the kernel threads along the first
    axis it keeps (rows of a sum over the last axis), when large."""
    if axes is None:  # every axis: one call
        return reduce(x, axis=None, keepdims=keepdim)
    out = parallel.reduced(lambda x: reduce(x, axis=axes, keepdims=True), x, axes=axes)
    return out if keepdim else out.squeeze(axis=axes)


def _reduced_count(shape: tuple, axes: tuple | None) -> int:
    """How many elements each output element of a reduction summarises."""
    n = 1
    for i, s in enumerate(shape):
        if axes is None or i in axes:
            n *= s
    return n


class Sum(Function):
    """Sum over `axes` (every axis when None). Every loss ends in the whole-tensor sum: applied
    without parameters, it takes the shortest path."""

    @staticmethod
    def forward(ctx, x, axes=None, keepdim=False):
        ctx.shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        if axes is None and not keepdim:  # one number: nothing to lay out
            return np.add.reduce(x, None) if ctx.xp is np else x.sum()
        # reductions and scans return row_major(...) as PyTorch's (NumPy lays them out like a
        # transposed input), made in forward: what backward saves is then the very result a
        # later in-place op changes, so that op is caught
        if ctx.xp is np:  # the ufunc directly: ndarray.sum adds a Python-level wrapper
            if x.size >= parallel.MIN_WORK:
                return row_major(_split_reduction(np.add.reduce, x, axes, keepdim))
            return row_major(np.add.reduce(x, axis=axes, keepdims=keepdim))
        return row_major(x.sum(axis=axes, keepdims=keepdim))

    @staticmethod
    def backward(ctx, grad):
        return _expanded(grad, ctx.shape, ctx.axes, ctx.keepdim)


def _expanded(grad: Any, shape: tuple, axes: tuple | None, keepdim: bool) -> Any:
    """A sum's gradient: `grad` expanded over the reduced axes of `shape`, a view with zero
    strides as PyTorch's expand (so an in-place change of what autograd.grad returns is
    refused as there; the engine copies such a view before it becomes a .grad)."""
    kept = _keep_dims(grad, shape, axes, keepdim)
    if kept.ndim == 0 and kept.__class__ is np.ndarray and kept.flags.writeable:
        # (the whole-tensor sum of every loss: a direct view, cheaper than broadcast_view)
        return np.ndarray(shape, kept.dtype, buffer=kept, strides=(0,) * len(shape))
    return broadcast_view(kept, shape)


class Mean(Function):
    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        if x.size >= parallel.MIN_WORK and ctx.xp is np:
            return row_major(_split_reduction(np.mean, x, axes, keepdim))
        return row_major(x.mean(axis=axes, keepdims=keepdim))

    @staticmethod
    def backward(ctx, grad):
        out = _expand_back(ctx.xp, grad, ctx.shape, ctx.axes, ctx.keepdim)
        out /= _reduced_count(ctx.shape, ctx.axes)
        return out


class Prod(Function):
    """Product over one axis (or all); the gradient is the product of the other elements."""

    @staticmethod
    def forward(ctx, x, axis, keepdim):
        out = row_major(x.prod(axis=axis, keepdims=keepdim))
        ctx.save_for_backward(x, out)
        ctx.axis, ctx.keepdim = axis, keepdim
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        xp, axis = ctx.xp, ctx.axis
        axes = None if axis is None else (axis,)
        if x.ndim == 0:  # PyTorch passes a 0-d input's gradient as it is (inf gives no NaN)
            return grad.reshape(())
        zeros = int((x == 0).sum())
        if not zeros:  # PyTorch's rule then: result / x (nan at an inf, as there)
            with quiet():
                return _keep_dims(grad * out, x.shape, axes, ctx.keepdim) / x
        if zeros > 1 and axis is None:  # PyTorch: all zeros, whatever grad is
            return xp.zeros_like(x)
        flat = x.reshape(-1) if axis is None else xp.moveaxis(x, axis, -1)
        ones = xp.ones_like(flat[..., :1])
        # product of all elements left of i times all elements right of i (safe with zeros)
        left = xp.cumprod(xp.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
        right = xp.flip(
            xp.cumprod(xp.concatenate([ones, xp.flip(flat, -1)[..., :-1]], axis=-1), axis=-1), -1
        )
        others = left * right
        others = others.reshape(x.shape) if axis is None else xp.moveaxis(others, -1, axis)
        return _keep_dims(grad, x.shape, axes, ctx.keepdim) * others


class AMax(Function):
    """Max/min over axes; ties share the gradient equally (PyTorch's amax/amin rule).

    `nan_wins`: max()/min() of a whole tensor share the gradient among its NaNs when the
    result is NaN (PyTorch's evenly_distribute rule); amax/amin then give NaN everywhere.
    `masked` (inf-norms): NaN elements count among the winners (abs's backward then gives
    them sign(nan) = 0), as in PyTorch's norm backward."""

    @staticmethod
    def forward(ctx, x, axes, keepdim, largest, nan_wins=False, masked=False):
        out = row_major((x.max if largest else x.min)(axis=axes, keepdims=keepdim))
        ctx.save_for_backward(x, out)
        ctx.axes, ctx.keepdim, ctx.nan_wins, ctx.masked = axes, keepdim, nan_wins, masked
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        if ctx.nan_wins and out != out:
            winners = ctx.xp.isnan(x)
        else:
            winners = x == _keep_dims(out, x.shape, ctx.axes, ctx.keepdim)
        if ctx.masked:  # inf-norms: PyTorch's mask takes the nan elements too
            winners |= ctx.xp.isnan(x)
        count = winners.sum(axis=ctx.axes, keepdims=True)
        grad = _keep_dims(grad, x.shape, ctx.axes, ctx.keepdim)
        if ctx.nan_wins:
            return _shared(ctx.xp, winners, grad, count)
        with quiet():  # amax and norms: the share times the mask (a nan grad reaches all)
            return grad / count.astype(grad.dtype) * winners


def _shared(xp: Any, winners: Any, grad: Any, count: Any) -> Any:
    """grad shared out among the winners, written into zeros as PyTorch does for max() and
    median(): a nan grad stays with the winners, and no winner gets 0."""
    with quiet():  # (0 / 0 where there is none: not kept)
        share = grad / xp.asarray(count, dtype=grad.dtype)
    return xp.where(winners, share, grad.dtype.type(0))


class Var(Function):
    @staticmethod
    def forward(ctx, x, axes, keepdim, correction):
        xp = ctx.xp
        with quiet():
            mean = x.mean(axis=axes, keepdims=True)
            # one correction pass: equal values then center to exactly 0 (a zero spread, as
            # PyTorch's Welford updates find), which the rounded sum alone may miss
            shift = (x - mean).mean(axis=axes, keepdims=True)
            centered = x - (mean + xp.where(xp.isfinite(shift), shift, 0))
        n = _reduced_count(x.shape, axes)
        # x too, unread: as PyTorch's, changing the input in place breaks this backward
        ctx.save_for_backward(centered, x)
        ctx.axes, ctx.keepdim, ctx.divisor = axes, keepdim, builtins.max(n - correction, 0)
        with quiet():
            return row_major((centered * centered).sum(axis=axes, keepdims=keepdim)
                             / ctx.divisor)

    @staticmethod
    def backward(ctx, grad):
        centered, x = ctx.saved_tensors
        grad = _keep_dims(grad, centered.shape, ctx.axes, ctx.keepdim)
        with quiet():
            if ctx.divisor == 0 and ctx.axes is None:
                # PyTorch's rule for a whole-tensor var without degrees of freedom: 2 / 0
                # times x - mean, taken as nan where x equals the mean, inf elsewhere (nan x)
                nan, inf = grad.dtype.type(np.nan), grad.dtype.type(np.inf)
                return grad * ctx.xp.where(x == x.mean(), nan, inf)
            return grad * centered * (2.0 / ctx.divisor if ctx.divisor else float("inf"))


class Std(Function):
    """sqrt(var) in one node; where the result is 0 the gradient is 0 (PyTorch's rule)."""

    @staticmethod
    def forward(ctx, x, axes, keepdim, correction):
        variance = Var.forward(ctx, x, axes, True, correction)
        out = row_major(ctx.xp.sqrt(variance))
        ctx.save_for_backward(ctx.saved_tensors[0], out, x)
        ctx.keepdim = keepdim
        return out if keepdim else out.reshape(_reduced_shape(x.shape, axes))

    @staticmethod
    def backward(ctx, grad):
        centered, out, _ = ctx.saved_tensors
        grad = _keep_dims(grad, centered.shape, ctx.axes, ctx.keepdim)
        with quiet():
            grad = ctx.xp.where(out == 0, 0, grad / (2 * out))
            return grad * centered * (2.0 / ctx.divisor if ctx.divisor else float("inf"))


class LogSumExp(Function):
    @staticmethod
    def forward(ctx, x, axes, keepdim):
        xp = ctx.xp
        peak = kept_max(x, axes)
        peak = xp.where(xp.isfinite(peak), peak, 0)
        total = xp.exp(x - peak).sum(axis=axes, keepdims=True)
        with quiet():
            out = row_major(xp.log(total) + peak)
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
        out = row_major(ctx.xp.sqrt((x * x).sum(axis=axes, keepdims=True)))
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


class PNorm(Function):
    """(sum |x|^p)^(1/p) for p other than 2 and +-inf, with PyTorch's gradient: 0 where the
    norm is 0, and none for p = 0 (a count)."""

    @staticmethod
    def forward(ctx, x, p, axes, keepdim):
        xp = ctx.xp
        ctx.save_for_backward(x)
        ctx.p, ctx.axes, ctx.keepdim = p, axes, keepdim
        with quiet():
            if p == 0:
                out = (x != 0).sum(axis=axes, keepdims=True).astype(x.dtype)
            else:
                out = (xp.abs(x) ** p).sum(axis=axes, keepdims=True) ** (1.0 / p)
        ctx.out = out = row_major(out)
        return out if keepdim else out.reshape(_reduced_shape(x.shape, axes))

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        xp, p, norm = ctx.xp, ctx.p, ctx.out
        if p == 0:  # a count: PyTorch leaves the gradient undefined (None)
            return None
        grad = _keep_dims(grad, x.shape, ctx.axes, ctx.keepdim)
        sign = (x > 0).astype(x.dtype) - (x < 0)  # 0 at NaN, as PyTorch's sgn
        with quiet():
            if p == 1:
                return sign * grad
            if p < 1:
                scaled = xp.where(x == 0, 0, sign * xp.abs(x) ** (p - 1))
                return scaled * grad * norm ** (1 - p)
            scale = xp.where(norm == 0, 0, grad / norm ** (p - 1))
            return sign * xp.abs(x) ** (p - 1) * scale


class CumSum(Function):
    @staticmethod
    def forward(ctx, x, axis):
        ctx.axis = axis
        out = row_major(ctx.xp.cumsum(x, axis=axis))
        if out.dtype.kind == "f":  # PyTorch's running sum starts at +0: -0.0 + 0 is +0
            out += 0.0
        return out

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        return xp.flip(xp.cumsum(xp.flip(grad, ctx.axis), axis=ctx.axis), ctx.axis)


class _Scan(Function):
    """A running reduction along `axis` whose backward reads its input and output: forward is
    the subclass's `scan(xp, x, axis)` made row-major, keeping x, out and the axis."""

    @staticmethod
    def forward(ctx, x, axis):
        out = row_major(ctx.scan(ctx.xp, x, axis))
        ctx.save_for_backward(x, out)
        ctx.axis = axis
        return out


class CumProd(_Scan):
    """Running product; the backward avoids dividing by x, so zeros get exact gradients."""

    @staticmethod
    def scan(xp, x, axis):
        return xp.cumprod(x, axis=axis).reshape(x.shape)  # (NumPy makes a 0-d input 1-d)

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        xp = ctx.xp
        if x.ndim == 0 or x.shape[ctx.axis] <= 1:  # out = x
            return grad.copy()
        axis = ctx.axis
        with quiet():
            if not (x == 0).any():  # PyTorch's rule: reversed cumsum of out * grad, over x
                return _reversed_cumsum(xp, out * grad, axis) / x
            return _cumprod_grad_with_zeros(xp, x, out, grad, axis)


def _reversed_cumsum(xp: Any, a: Any, axis: int) -> Any:
    return xp.flip(xp.cumsum(xp.flip(a, axis), axis=axis), axis)


def _cumprod_grad_with_zeros(xp: Any, x: Any, out: Any, grad: Any, axis: int) -> Any:
    """cumprod's gradient where x has zeros, term by term as PyTorch forms it (so nan and inf
    reach the same places): before a slice's first zero z, reversed cumsum of out * grad
    over x; at z, sum_{z<=j<z2} grad_j * out_{z-1} * prod_{z<i<=j} x_i (z2 the next zero);
    after it, 0."""
    zeros = xp.cumsum(x == 0, axis=axis)
    before, first = zeros == 0, (x == 0) & (zeros == 1)
    between = (zeros == 1) & ~first
    result = xp.where(before, _reversed_cumsum(xp, xp.where(before, out * grad, 0), axis)
                      / xp.where(before, x, 1), 0)
    spans = xp.cumprod(xp.where(between, x, 1), axis=axis) * xp.where(zeros == 1, grad, 0)
    n = x.shape[axis]
    prefix = xp.concatenate([xp.ones_like(xp.take(out, [0], axis=axis)),
                             xp.take(out, range(n - 1), axis=axis)], axis=axis)
    return xp.where(first, spans.sum(axis=axis, keepdims=True) * prefix, result)


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
        return Sum.apply(x)  # loss.sum(): the fast path
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
    if x.ndim == 0:  # dims 0 and -1 of a 0-d tensor: its one element, still 0-d
        axis, keepdim = None, False
    return Prod.apply(x, axis=axis, keepdim=keepdim)


def amax(x: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    """Largest value over `dim` (all when empty); ties share the gradient."""
    return AMax.apply(x, axes=normalize_dims(dim, x.ndim), keepdim=keepdim,
                      largest=True)


def amin(x: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    """Smallest value over `dim` (all when empty); ties share the gradient."""
    return AMax.apply(x, axes=normalize_dims(dim, x.ndim), keepdim=keepdim,
                      largest=False)


def _max_min(x: Any, dim: Any, keepdim: bool, largest: bool) -> Any:
    from .elementwise import maximum, minimum

    if isinstance(dim, Tensor):  # torch.max(a, b) is the elementwise maximum
        return maximum(x, dim) if largest else minimum(x, dim)
    if dim is None:
        return AMax.apply(x, axes=None, keepdim=False, largest=largest, nan_wins=True)
    return _max_min_along(x, dim, keepdim, largest)


@scalar_as_vector
def _max_min_along(x: Tensor, dim: int, keepdim: bool, largest: bool) -> Any:
    """(values, indices) of the largest or smallest element along `dim`."""
    from .index import gather

    axis = normalize_dim(dim, x.ndim)
    # (argmax refuses bool, max along a dim does not: the positions of the int view serve)
    source = cast(x, dtypes.uint8) if x.dtype is dtypes.bool else x
    indices = (argmax if largest else argmin)(source, axis, keepdim=True)
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


def _refuse_integers(x: Tensor, name: str) -> None:
    if x._data.dtype.kind != "f":
        raise RuntimeError(f"{name}(): std and var only support floating point and complex "
                           f"dtypes, got {x.dtype.name}")


def var(x: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction: Any = None) -> Tensor:
    """Variance over `dim`, dividing by N - correction (Bessel's correction by default)."""
    if isinstance(unbiased, (int, tuple, list)) and not isinstance(unbiased, bool):
        dim, unbiased = unbiased, None  # var(x, 1) means dim=1 in PyTorch too
    _refuse_integers(x, "var")
    return Var.apply(x, axes=normalize_dims(dim, x.ndim), keepdim=keepdim,
                     correction=_correction(unbiased, correction))


def std(x: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
        correction: Any = None) -> Tensor:
    """Standard deviation over `dim`: sqrt(var), fused so a zero spread has gradient 0."""
    if isinstance(unbiased, (int, tuple, list)) and not isinstance(unbiased, bool):
        dim, unbiased = unbiased, None
    _refuse_integers(x, "std")
    return Std.apply(x, axes=normalize_dims(dim, x.ndim), keepdim=keepdim,
                     correction=_correction(unbiased, correction))


def var_mean(x: Tensor, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *,
             correction: Any = None) -> tuple[Tensor, Tensor]:
    """(var, mean) over `dim`."""
    spread = var(x, dim, unbiased, keepdim, correction=correction)
    return tie_outputs(spread, _welford_mean(x, dim, keepdim, spread, False))


class WelfordMean(Function):
    """The mean of var_mean and std_mean. As PyTorch's one node for both outputs it saves the
    input, and std_mean's the std too (changing one in place breaks this backward; a second
    backward raises), but sends the spread no gradient. Its values are those of PyTorch's
    Welford updates: nan where an inf is followed by more elements."""

    @staticmethod
    def forward(ctx, x, spread, axes, keepdim, keep_spread):
        xp = ctx.xp
        if keep_spread:
            ctx.save_for_backward(x, spread)
        else:
            ctx.save_for_backward(x)
        ctx.shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        out = xp.asarray(x.mean(axis=axes, keepdims=keepdim))
        if xp.isfinite(x).all():
            return out
        axes = tuple(range(x.ndim)) if axes is None else axes
        moved = xp.moveaxis(x, axes, tuple(range(x.ndim - len(axes), x.ndim)))
        rows = moved.reshape(moved.shape[:x.ndim - len(axes)] + (-1,))
        xp.copyto(out, xp.nan, where=xp.isinf(rows[..., :-1]).any(axis=-1).reshape(out.shape))
        return out

    @staticmethod
    def backward(ctx, grad):
        grad_x = _expand_back(ctx.xp, grad, ctx.shape, ctx.axes, ctx.keepdim)
        grad_x /= _reduced_count(ctx.shape, ctx.axes)
        return grad_x, None


def _welford_mean(x: Tensor, dim: Any, keepdim: bool, spread: Tensor, is_std: bool) -> Tensor:
    with quiet():
        return WelfordMean.apply(x, spread, axes=normalize_dims(dim, x.ndim), keepdim=keepdim,
                                 keep_spread=is_std)


def logsumexp(x: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    """log(sum(exp(x))) over `dim`, computed stably."""
    x = _float_input(x)
    return LogSumExp.apply(x, axes=normalize_dims(dim, x.ndim), keepdim=keepdim)


def norm(x: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False, *,
         dtype: Any = None) -> Tensor:
    """Vector p-norm over `dim` (2 / 'fro' by default; also 1, inf, -inf, any p > 0)."""
    from .elementwise import abs as abs_
    from .linalg_decomp import check_float

    check_float(x, "linalg.vector_norm")  # integers are refused even with a float dtype
    if p == "nuc":
        from ..linalg import matrix_norm

        return matrix_norm(x, "nuc", (-2, -1) if dim is None else dim, keepdim, dtype=dtype)
    x = x if dtype is None else cast(x, dtype)
    axes = normalize_dims(dim, x.ndim)
    if p in ("fro", 2, 2.0, None):
        return Norm2.apply(x, axes=axes, keepdim=keepdim)
    if p in (float("inf"), -float("inf")):
        return AMax.apply(abs_(x), axes=axes, keepdim=keepdim, largest=p > 0,
                          masked=True)
    return PNorm.apply(x, p=p, axes=axes, keepdim=keepdim)


@scalar_as_vector
def cumsum(x: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """Running sum along `dim`."""
    x = _sum_dtype(x, dtype)
    return CumSum.apply(x, axis=normalize_dim(dim, x.ndim))


@scalar_as_vector
def cumprod(x: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """Running product along `dim` (integers accumulate in int64)."""
    x = _sum_dtype(x, dtype)
    return CumProd.apply(x, axis=normalize_dim(dim, x.ndim))


def _arg(x: Tensor, dim: int | None, keepdim: bool, largest: bool) -> Tensor:
    data = x._data
    if data.dtype.kind == "b":
        raise RuntimeError(f"{'argmax' if largest else 'argmin'}(): does not support bool "
                           "input; convert it first (e.g. .int())")
    fn = data.argmax if largest else data.argmin
    if dim is None:
        out = fn()
        if keepdim:
            out = out.reshape((1,) * data.ndim)
    else:
        out = fn(axis=normalize_dim(dim, data.ndim), keepdims=keepdim)
    return _no_grad_result(array_module(data).asarray(out, dtype="int64"))


@scalar_as_vector
def argmax(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index of the largest value (of the flattened tensor when dim is None)."""
    return _arg(x, dim, keepdim, True)


@scalar_as_vector
def argmin(x: Tensor, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index of the smallest value (of the flattened tensor when dim is None)."""
    return _arg(x, dim, keepdim, False)


def all(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """True where every element over `dim` is nonzero."""
    out = x._data.all(axis=normalize_dims(dim, x.ndim), keepdims=keepdim)
    return _no_grad_result(array_module(x._data).asarray(out, order="C"))


def any(x: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """True where some element over `dim` is nonzero."""
    out = x._data.any(axis=normalize_dims(dim, x.ndim), keepdims=keepdim)
    return _no_grad_result(array_module(x._data).asarray(out, order="C"))


def count_nonzero(x: Tensor, dim: Any = None) -> Tensor:
    """Number of nonzero elements over `dim`."""
    out = (x._data != 0).sum(axis=normalize_dims(dim, x.ndim))
    return _no_grad_result(array_module(x._data).asarray(out, dtype="int64", order="C"))


# ------------------------------------------------------------ more reductions
# nan-aware reductions, order statistics (median, mode, kthvalue, quantile), running
# max/min, logcumsumexp, aminmax, std_mean, bincount and distances, as PyTorch has them.
aminmax_result = namedtuple("aminmax_result", ["min", "max"])


class NanSum(Function):
    """Sum skipping nan; the gradient is 0 at nan entries (grad * not-nan, as PyTorch)."""

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.shape, ctx.axes, ctx.keepdim = x.shape, axes, keepdim
        ctx.save_for_backward(x)  # (x itself, as PyTorch: an in-place change of it is caught)
        return row_major(ctx.xp.nansum(x, axis=axes, keepdims=keepdim))

    @staticmethod
    def backward(ctx, grad):
        out = _expand_back(ctx.xp, grad, ctx.shape, ctx.axes, ctx.keepdim)
        x, = ctx.saved_tensors
        with quiet():  # a multiplication, not a where: an inf grad over nans gives nan
            return out * ~ctx.xp.isnan(x)


def nansum(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:  # noqa: A002
    """Sum over `dim` treating nan as 0; (...) -> reduced shape (integers sum in int64)."""
    x = _sum_dtype(input, dtype)
    return NanSum.apply(x, axes=normalize_dims(dim, x.ndim), keepdim=keepdim)


def nanmean(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:  # noqa: A002
    """Mean of the non-nan values over `dim`; (...) -> reduced shape (nan where all are nan)."""
    if input._data.dtype.kind != "f":
        raise RuntimeError("nanmean(): expected input to have floating point or complex dtype "
                           f"but got {dtypes.scalar_type_name(input.dtype)}")
    x = input if dtype is None else cast(input, dtype)
    axes = normalize_dims(dim, x.ndim)
    count = (~array_module(x._data).isnan(x._data)).sum(axis=axes, keepdims=keepdim)
    count = _no_grad_result(array_module(x._data).asarray(count, dtype=x._data.dtype))
    with quiet():
        return nansum(x, dim, keepdim) / count


def _accumulate(xp: Any, name: str, x: Any, axis: int) -> Any:
    """xp.<name>.accumulate(x, axis): NumPy's ufunc scan, or one elementwise step at a time
    on backends whose ufuncs lack accumulate (CuPy has it for few of them)."""
    if xp is np:
        return getattr(np, name).accumulate(x, axis=axis)
    step = getattr(xp, name)
    out = xp.moveaxis(x.copy(), axis, 0)
    for i in range(1, out.shape[0]):
        out[i] = step(out[i - 1], out[i])
    return xp.moveaxis(out, 0, axis)


def _check_reduction_size(x: Tensor, axis: int, op: str) -> None:
    """Selecting reductions (median, mode) have no identity: an empty dim is an error."""
    if x.ndim and x.shape[axis] == 0:
        raise IndexError(f"{op}: Expected reduction dim {axis} to have non-zero size.")


def _select_along(x: Tensor, dim: int, keepdim: bool, choose: Any) -> Any:
    """(values, indices) where `choose(rows)` picks one position per row of `rows`
    (x's data with `dim` moved last, shape (..., n)) and returns it as (..., 1) int64.

    The values are a gather of x, so the gradient goes to the chosen element only
    (PyTorch's rule for median(dim), kthvalue and mode)."""
    from .index import gather

    if x.ndim == 0:  # a 0-d tensor reduces over its single element
        values, indices = _select_along(x.reshape(1), 0, True, choose)
        return values_indices(values.reshape(()), indices.reshape(()))
    axis = normalize_dim(dim, x.ndim)
    xp = array_module(x._data)
    picked = choose(xp, xp.moveaxis(x._data, axis, -1))
    indices = _no_grad_result(xp.ascontiguousarray(xp.moveaxis(picked.astype(xp.int64), -1, axis)))
    values = gather(x, axis, indices)
    if not keepdim:
        values, indices = values.squeeze(axis), indices.squeeze(axis)
    return values_indices(values, indices)


def _median_position(ignore_nan: bool) -> Any:
    """A `choose` for _select_along: the lower middle of each row by (value, index) order,
    PyTorch's tie rule; a row with nan gives its first nan (median) or ignores them
    (nanmedian, which gives the first nan only when the row is all nan)."""
    def choose(xp: Any, rows: Any) -> Any:
        order = xp.argsort(rows, axis=-1, kind="stable")  # nan last, in index order
        n = rows.shape[-1]
        nans = (xp.isnan(rows).sum(axis=-1, keepdims=True) if rows.dtype.kind == "f"
                else xp.zeros(rows.shape[:-1] + (1,), dtype=xp.int64))
        if ignore_nan:
            pos = xp.maximum((n - nans - 1) // 2, 0)
        else:
            pos = xp.where(nans > 0, n - nans, (n - 1) // 2)
        return xp.take_along_axis(order, pos, axis=-1)
    return choose


class MedianAll(Function):
    """The lower median of all elements; ties share the gradient equally, and a nan
    result sends it to the nan elements (PyTorch's evenly_distribute_backward)."""

    @staticmethod
    def forward(ctx, x, ignore_nan):
        xp = ctx.xp
        flat = x.reshape(-1)
        isnan = xp.isnan(flat) if x.dtype.kind == "f" else xp.zeros(flat.shape, dtype=bool)
        valid = flat[~isnan] if ignore_nan else flat
        if valid.size == 0 or (not ignore_nan and isnan.any()):
            out = xp.asarray(xp.nan, dtype=x.dtype)
        else:
            k = (valid.size - 1) // 2
            out = xp.asarray(xp.partition(valid, k)[k], dtype=x.dtype)
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        x, out = ctx.saved_tensors
        mask = ctx.xp.isnan(x) if ctx.xp.isnan(out) else x == out
        return _shared(ctx.xp, mask, grad, mask.sum())


def _refuse_bool(x: Tensor, kernel: str) -> None:
    """PyTorch's sorting-based selections have no Bool kernel (mode has)."""
    if x._data.dtype.kind == "b":
        raise NotImplementedError(f'"{kernel}" not implemented for \'Bool\'')


def _median(x: Tensor, dim: Any, keepdim: bool, ignore_nan: bool) -> Any:
    name = "nanmedian()" if ignore_nan else "median()"
    _refuse_bool(x, "median_cpu" if dim is None else "median_out")
    if dim is None:
        return MedianAll.apply(x, ignore_nan=ignore_nan)
    if x.ndim:
        _check_reduction_size(x, normalize_dim(dim, x.ndim), name)
    return _select_along(x, dim, keepdim, _median_position(ignore_nan))


@scalar_as_vector
def median(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A002
    """median() -> the lower middle value (nan if any); median(dim) -> (values, indices)."""
    return _median(input, dim, keepdim, ignore_nan=False)


@scalar_as_vector
def nanmedian(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A002
    """median ignoring nan: () -> value; (dim) -> (values, indices); nan only if all are nan."""
    return _median(input, dim, keepdim, ignore_nan=True)


def _mode_position(xp: Any, rows: Any) -> Any:
    """The most frequent value of each row (the smallest of equally frequent ones) at its
    last index, as PyTorch picks it."""
    n = rows.shape[-1]
    order = xp.argsort(rows, axis=-1, kind="stable")
    ordered = xp.take_along_axis(rows, order, axis=-1)
    new_run = xp.ones(rows.shape, dtype=bool)
    new_run[..., 1:] = ordered[..., 1:] != ordered[..., :-1]
    last_of_run = xp.ones(rows.shape, dtype=bool)
    last_of_run[..., :-1] = new_run[..., 1:]
    positions = xp.broadcast_to(xp.arange(n), rows.shape)
    start = _accumulate(xp, "maximum", xp.where(new_run, positions, 0), -1)
    end = xp.flip(_accumulate(xp, "minimum", xp.flip(xp.where(last_of_run, positions, n), -1),
                              -1), -1)
    best = xp.argmax(end - start, axis=-1)[..., None]  # first = smallest value among ties
    # stable order: the end of that value's run is its largest original index
    return xp.take_along_axis(order, xp.take_along_axis(end, best, axis=-1), axis=-1)


@scalar_as_vector
def mode(input: Tensor, dim: int = -1, keepdim: bool = False) -> Any:  # noqa: A002
    """(values, indices) of the most frequent value along `dim`; the gradient goes to the index."""
    if input.ndim:
        _check_reduction_size(input, normalize_dim(dim, input.ndim), "mode()")
    return _select_along(input, dim, keepdim, _mode_position)


@scalar_as_vector
def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False) -> Any:  # noqa: A002
    """(values, indices) of the k-th smallest element (k from 1) along `dim` (nan is largest)."""
    _refuse_bool(input, "kthvalue_cpu")
    axis = normalize_dim(dim, builtins.max(input.ndim, 1))
    size = input.shape[axis] if input.ndim else 1
    if not 1 <= k <= size:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {axis}")

    def choose(xp: Any, rows: Any) -> Any:
        picked = xp.argsort(rows, axis=-1, kind="stable")[..., k - 1:k]
        # Which of several equal values PyTorch returns is decided by its quickselect: rows
        # whose k-th value is tied rerun that exact algorithm (the others have one answer).
        kth = xp.take_along_axis(rows, picked, axis=-1)
        same = rows == kth
        if rows.dtype.kind == "f":
            same |= xp.isnan(rows) & xp.isnan(kth)
        for row in xp.argwhere(same.sum(axis=-1) > 1):  # (one empty row index for a vector)
            picked[tuple(row)] = _torch_quickselect(rows[tuple(row)].tolist(), k - 1)
        return picked
    return _select_along(input, axis, keepdim, choose)


def _greater_or_nan(a: Any, b: Any) -> bool:
    """PyTorch's kthvalue order: nan above every number."""
    return (a != a and b == b) or a > b


def _torch_quickselect(values: list, k: int) -> int:
    """The index PyTorch's CPU kthvalue returns: its median-of-three Hoare quickselect
    (Sedgewick's, from ATen's Sorting.cpp) replayed step by step on one row."""
    idx = list(range(len(values)))

    def swap(i: int, j: int) -> None:
        values[i], values[j] = values[j], values[i]
        idx[i], idx[j] = idx[j], idx[i]

    gt, lo, hi = _greater_or_nan, 0, len(values) - 1
    while hi > lo:
        if hi == lo + 1:
            if gt(values[lo], values[hi]):
                swap(lo, hi)
            break
        swap((lo + hi) >> 1, lo + 1)  # median of three as the pivot, at lo
        if gt(values[lo + 1], values[hi]):
            swap(lo + 1, hi)
        if gt(values[lo], values[hi]):
            swap(lo, hi)
        if gt(values[lo + 1], values[lo]):
            swap(lo + 1, lo)
        i, j, pivot = lo + 1, hi, values[lo]
        while True:
            i += 1
            while gt(pivot, values[i]):
                i += 1
            j -= 1
            while gt(values[j], pivot):
                j -= 1
            if j < i:
                break
            swap(i, j)
        swap(lo, j)
        if j <= k:
            lo = i
        if j >= k:
            hi = j - 1
    return idx[k]


def _cummax_min(x: Tensor, dim: int, largest: bool) -> Any:
    """Running max/min with the index of its latest occurrence (ties and nan move it on)."""
    from .index import gather

    xp = array_module(x._data)
    try:
        axis = normalize_dim(dim, builtins.max(x.ndim, 1))
    except IndexError:
        if x._data.size:
            raise
        # PyTorch checks no dim of an empty tensor
        return values_indices(clone(x), _no_grad_result(xp.zeros(x.shape, dtype=xp.int64)))
    data = x._data if x.ndim else x._data.reshape(1)
    with quiet():
        running = _accumulate(xp, "maximum" if largest else "minimum", data, axis)
    # PyTorch moves the index to i when x_i >= the running max (or x_i is nan): exactly
    # the positions where x_i equals the running value at i.
    hit = data == running
    if data.dtype.kind == "f":
        hit |= xp.isnan(data) & xp.isnan(running)
    shape = [1] * data.ndim
    shape[axis] = data.shape[axis]
    positions = xp.arange(data.shape[axis]).reshape(shape)
    indices = _accumulate(xp, "maximum", xp.where(hit, positions, 0), axis).astype(
        xp.int64, order="C")  # row-major like PyTorch's, whatever the input's layout
    indices = _no_grad_result(indices.reshape(x.shape))
    values = gather(x if x.ndim else x.reshape(1), axis, indices.reshape(data.shape))
    values = values.reshape(x.shape)
    return values_indices(values, indices)


@scalar_as_vector
def cummax(input: Tensor, dim: int) -> Any:  # noqa: A002
    """(values, indices) of the running maximum along `dim`; same shape as input."""
    return _cummax_min(input, dim, True)


@scalar_as_vector
def cummin(input: Tensor, dim: int) -> Any:  # noqa: A002
    """(values, indices) of the running minimum along `dim`; same shape as input."""
    return _cummax_min(input, dim, False)


def _logaddexp_scan(xp: Any, x: Any, axis: int) -> Any:
    """log(cumsum(exp(x))) along `axis`, one stable logaddexp step at a time."""
    return _accumulate(xp, "logaddexp", x, axis)


class LogCumSumExp(_Scan):
    @staticmethod
    def scan(xp, x, axis):
        with quiet():
            return _logaddexp_scan(xp, x, axis)

    @staticmethod
    def backward(ctx, grad):
        # dx_i = sum_{j>=i} g_j exp(x_i - out_j). Split g by sign and sum the logs of each
        # part with a reversed logcumsumexp, so nothing overflows (PyTorch's scheme; the
        # dtype's lowest value stands for log 0 to keep -inf - -inf out).
        x, out = ctx.saved_tensors
        xp, axis = ctx.xp, ctx.axis
        lowest = xp.finfo(grad.dtype).min
        with quiet():
            log_abs = xp.log(xp.abs(grad))
            total = xp.zeros_like(grad)
            for sign, part in ((1, grad > 0), (-1, grad < 0)):
                terms = xp.where(part, log_abs, lowest) - out
                rev = xp.flip(_logaddexp_scan(xp, xp.flip(terms, axis), axis), axis)
                total += sign * xp.exp(rev + x)
        return total


@scalar_as_vector
def logcumsumexp(input: Tensor, dim: int) -> Tensor:  # noqa: A002
    """log(cumsum(exp(x))) along `dim`, computed stably; same shape as input."""
    if input._data.dtype.kind != "f":
        raise NotImplementedError(
            f"logcumsumexp(): not implemented for '{dtypes.scalar_type_name(input.dtype)}'")
    if input.ndim == 0:
        return input * 1
    return LogCumSumExp.apply(input, axis=normalize_dim(dim, input.ndim))


def aminmax(input: Tensor, *, dim: int | None = None, keepdim: bool = False) -> Any:  # noqa: A002
    """(min, max) over `dim` (all when None); ties share the gradient, as amin/amax."""
    if dim is None:
        if input.numel() == 0:
            raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as "
                               "the operation has no identity.")
        axes: Any = ()
    else:
        axis = normalize_dim(dim, builtins.max(input.ndim, 1))
        if input.ndim and input.shape[axis] == 0:
            raise IndexError(f"aminmax: Expected reduction dim {axis} to have non-zero size.")
        axes = axis if input.ndim else ()
    return aminmax_result(*tie_outputs(amin(input, axes, keepdim), amax(input, axes, keepdim),
                                       saved=True))


def std_mean(input: Tensor, dim: Any = None, unbiased: bool | None = None,  # noqa: A002
             keepdim: bool = False, *, correction: Any = None) -> tuple[Tensor, Tensor]:
    """(std, mean) over `dim`; unbiased/correction as std takes them."""
    if isinstance(unbiased, (int, tuple, list)) and not isinstance(unbiased, bool):
        dim, unbiased = unbiased, None  # std_mean(x, 1) means dim=1, as in var_mean
    spread = std(input, dim, unbiased, keepdim, correction=correction)
    return tie_outputs(spread, _welford_mean(input, dim, keepdim, spread, True))


_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(x: Tensor, q: Any, dim: Any, keepdim: bool, interpolation: str,
              ignore_nan: bool) -> Tensor:
    """PyTorch's algorithm: sort, rank = q * (n - 1) (n counts non-nan values for
    nanquantile; a row with nan gets the last rank, a nan, for quantile), then interpolate
    between the two neighbouring order statistics. Differentiable through sort and gather."""
    from .index import gather, sort
    from .shape import movedim

    name = "nanquantile()" if ignore_nan else "quantile()"
    if x._data.dtype.kind != "f" or x._data.dtype.itemsize < 4:
        raise RuntimeError(f"{name} input tensor must be either float or double dtype")
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(f"{name} interpolation must be one of linear, lower, higher, "
                           f"midpoint or nearest, but got {interpolation}")
    xp = array_module(x._data)
    if isinstance(q, Tensor):
        if q.ndim > 1:
            raise RuntimeError(f"{name} q must be a scalar or 1D tensor")
        if q._data.dtype != x._data.dtype:
            raise RuntimeError(f"{name} q tensor must be same dtype as the input tensor")
        qs = q._data.reshape(-1)
        if qs.size and not bool(((qs >= 0) & (qs <= 1)).all()):
            raise RuntimeError(f"{name} q values must be in the range [0, 1]")
        scalar_q = q.ndim == 0
    else:
        if not 0 <= q <= 1:
            raise RuntimeError(f"{name} q must be in the range [0, 1] but got {q}")
        qs, scalar_q = xp.asarray([q], dtype=x._data.dtype), True
    if x.numel() == 0:
        raise RuntimeError(f"{name} input tensor must be non-empty")

    if dim is None:
        rows = x.reshape(-1)
        out_shape = (1,) * x.ndim if keepdim else ()
    else:
        axis = normalize_dim(dim, builtins.max(x.ndim, 1))
        rows = movedim(x, axis, -1) if x.ndim else x.reshape(1)
        kept = list(x.shape)
        if kept:
            kept[axis] = 1
        out_shape = tuple(kept) if keepdim else tuple(x.shape[:axis]) + tuple(x.shape[axis + 1:])
    ordered = sort(rows, -1).values  # nan last
    n = rows.shape[-1]
    nans = xp.isnan(rows._data).sum(axis=-1, keepdims=True)
    if ignore_nan:  # rank among the non-nan values; all nan -> rank 0, a nan
        ranks = xp.maximum(qs * ((n - nans) - 1).astype(qs.dtype), 0)
    else:
        ranks = xp.where(nans > 0, qs.dtype.type(n - 1), qs * qs.dtype.type(n - 1))
    if interpolation == "lower":
        ranks = xp.floor(ranks)
    elif interpolation == "higher":
        ranks = xp.ceil(ranks)
    elif interpolation == "nearest":
        ranks = xp.round(ranks)  # half to even, as torch.round
    below = xp.floor(ranks).astype(xp.int64)
    values = gather(ordered, -1, _no_grad_result(below))
    if interpolation in ("linear", "midpoint"):
        weights = xp.full_like(ranks, 0.5) if interpolation == "midpoint" else ranks - below
        above = gather(ordered, -1, _no_grad_result(xp.ceil(ranks).astype(xp.int64)))
        values = lerp(values, above, _no_grad_result(weights.astype(x._data.dtype)))
    if scalar_q:
        return values.reshape(out_shape)
    return movedim(values, -1, 0).reshape((qs.size,) + out_shape)


def quantile(input: Tensor, q: Any, dim: int | None = None, keepdim: bool = False, *,  # noqa: A002
             interpolation: str = "linear") -> Tensor:
    """q-th quantiles along `dim` (flattened when None); a 1-d q of size Q adds a leading
    dim: (...) -> (Q, reduced...). nan if the reduced values contain nan."""
    return _quantile(input, q, dim, keepdim, interpolation, ignore_nan=False)


def nanquantile(input: Tensor, q: Any, dim: int | None = None, keepdim: bool = False, *,  # noqa: A002
                interpolation: str = "linear") -> Tensor:
    """quantile ignoring nan values; (...) -> (Q, reduced...); nan only where all are nan."""
    return _quantile(input, q, dim, keepdim, interpolation, ignore_nan=True)


def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:  # noqa: A002
    """Count of each value in a 1-d non-negative integer tensor: (N,) -> (max(input) + 1,),
    at least `minlength` long; summed weights instead of counts when given (no gradient)."""
    data = input._data
    xp = array_module(data)
    if data.dtype.kind not in "iub":
        raise NotImplementedError(
            f"\"bincount_cpu\" not implemented for '{dtypes.scalar_type_name(input.dtype)}'")
    if data.ndim != 1 or (data.size and int(data.min()) < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if weights is None:
        return _no_grad_result(xp.bincount(data, minlength=minlength).astype(xp.int64))
    w = weights._data
    if w.ndim != 1 or w.shape[0] != data.shape[0]:
        raise RuntimeError("weights should be 1-d and have the same length as input")
    # PyTorch keeps float32 weights float32 and sums every other weight type in float64
    out_dtype = xp.float32 if w.dtype == xp.float32 else xp.float64
    return Bincount.apply(weights, data=data, minlength=minlength, dtype=out_dtype)


class Bincount(Function):
    """Summed weights per value: like PyTorch, in the graph (the result of weights that
    require grad requires grad) but without a derivative."""

    @staticmethod
    def forward(ctx, weights, data, minlength, dtype):
        return ctx.xp.bincount(data, weights=weights, minlength=minlength).astype(dtype)

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError("derivative for aten::bincount is not implemented")


def dist(input: Tensor, other: Tensor, p: float = 2) -> Tensor:  # noqa: A002
    """p-norm of (input - other), broadcasting; () result. p = 0, inf, -inf and p > 0."""
    from .elementwise import sub

    for t, what in ((input, "'input' (position 1)"), (other, "'other' (position 2)")):
        if not isinstance(t, Tensor):
            raise TypeError(f"dist(): argument {what} must be Tensor, not {type(t).__name__}")
    difference = sub(input, other)  # promotes as PyTorch (an integer operand with a float)
    if difference._data.dtype.kind != "f":
        raise RuntimeError("norm(): input dtype should be either floating point or complex. "
                           f"Got {dtypes.scalar_type_name(difference.dtype)} instead.")
    if p == 0:  # a count of nonzero differences, with the zero gradient torch records
        from .elementwise import abs as abs_
        from .elementwise import sign

        return sum(sign(abs_(difference)))
    return norm(difference, p)


class CDist(Function):
    """Pairwise p-distances of rows: (..., P, M), (..., R, M) -> (..., P, R).

    The differences are formed explicitly ((..., P, R, M)), which is exact also where two
    rows coincide; the backward rules are PyTorch's per p (0 where the distance is 0)."""

    @staticmethod
    def forward(ctx, x1, x2, p):
        xp = ctx.xp
        diff = x1[..., :, None, :] - x2[..., None, :, :]
        ctx.shape1, ctx.shape2, ctx.p = x1.shape, x2.shape, p
        a = xp.abs(diff)
        if diff.shape[-1] == 0:  # no columns: every distance is 0
            out = xp.zeros(diff.shape[:-1], dtype=diff.dtype)
        elif p == 0:  # (a nan difference makes the count nan, as PyTorch's)
            out = (diff != 0).sum(axis=-1).astype(diff.dtype)
            out[xp.isnan(diff).any(axis=-1)] = xp.nan
        elif p == 1:
            out = a.sum(axis=-1)
        elif p == 2:
            out = xp.sqrt((diff * diff).sum(axis=-1))
        elif p == float("inf"):  # PyTorch's running max(agg, |d|) from 0 passes over nan
            out = xp.where(xp.isnan(a), 0, a).max(axis=-1)
        else:
            out = (a**p).sum(axis=-1) ** (1.0 / p)
        out = row_major(out)  # (laid out like a transposed input otherwise)
        ctx.save_for_backward(diff, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        diff, out = ctx.saved_tensors
        xp, p = ctx.xp, ctx.p
        g, d = grad[..., None], out[..., None]
        with quiet():
            if p == 0 or diff.shape[-1] == 0:
                w = xp.zeros_like(diff)
            elif p == 1:
                w = g * xp.sign(diff)
            elif p == float("inf"):  # every coordinate at the max gets the full gradient,
                # by PyTorch's formula (inf - inf there makes it nan)
                w = g * xp.sign(diff) * (1 - xp.minimum(1, xp.ceil(xp.abs(xp.abs(diff) - d))))
            elif p == 2:
                w = xp.where(d == 0, 0, g * diff / d)
            elif p < 2:
                zero = (d == 0) | ((diff == 0) & (p < 1))
                w = xp.where(zero, 0, xp.sign(diff) * xp.abs(diff) ** (p - 1) * g / d ** (p - 1))
            else:
                w = xp.where(d == 0, 0, diff * xp.abs(diff) ** (p - 2) * g / d ** (p - 1))
        from ._util import unbroadcast

        return unbroadcast(w.sum(axis=-2), ctx.shape1), unbroadcast(-w.sum(axis=-3), ctx.shape2)


def cdist(x1: Tensor, x2: Tensor, p: float = 2.0,
          compute_mode: str = "use_mm_for_euclid_dist_if_necessary") -> Tensor:
    """p-norm distance between each pair of rows: (B, P, M), (B, R, M) -> (B, P, R), batch
    dims broadcasting. compute_mode is accepted for PyTorch's signature; the distances are
    always formed directly (exact, where PyTorch may use a matmul for large p=2 inputs)."""
    for name, t in (("X1", x1), ("X2", x2)):
        if t.ndim < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {name} got: {t.ndim}D")
        if t._data.dtype.kind != "f":
            raise RuntimeError(f"cdist only supports floating-point dtypes, {name} got: "
                               f"{dtypes.scalar_type_name(t.dtype)}")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: "
                           f"{x1.shape[-1]} X2: {x2.shape[-1]}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    if x1.dtype is not x2.dtype:
        if x1._data.size and x2._data.size:  # (PyTorch checks only when there is work)
            raise RuntimeError(f"cdist(): expected both inputs to have the same dtype, but "
                               f"got {x1.dtype.name} and {x2.dtype.name}")
        x2 = cast(x2, x1.dtype)
    return CDist.apply(x1, x2, p=float(p))
