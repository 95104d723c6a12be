"""Normalisation fused into one node each: batch norm and layer norm, hand-written backward.

Both normalise x over some axes, x_hat = (x - mean) * invstd, then scale and shift
(y = x_hat * weight + bias). With batch statistics the gradient through mean and variance is
    dx = invstd / M * (M * dx_hat - sum(dx_hat) - x_hat * sum(dx_hat * x_hat)),
summed over the M normalised elements; with fixed (running) statistics it is dx_hat * invstd.
"""

from __future__ import annotations

from typing import Any

from .. import dtypes
from .._backend import parallel
from ..autograd.function import Function


def _normalize_backward(xp: Any, dx_hat: Any, x_hat: Any, invstd: Any, axes: tuple) -> Any:
    # rows of the leading axes are independent: split over the kernel threads when large
    split = parallel.slabs if axes and axes[0] else _call
    return split(_normalize_rows_backward, xp, dx_hat, x_hat, invstd, axes)


def _normalize_rows_backward(xp: Any, dx_hat: Any, x_hat: Any, invstd: Any,
                             axes: tuple) -> Any:
    mean_dx = dx_hat.mean(axis=axes, keepdims=True)
    mean_dx_xhat = (dx_hat * x_hat).mean(axis=axes, keepdims=True)
    return invstd * (dx_hat - mean_dx - x_hat * mean_dx_xhat)


def _scale_shift(ctx: Any, x_hat: Any, invstd: Any, weight: Any, bias: Any, shape: tuple,
                 sum_axes: tuple) -> Any:
    """y = x_hat * weight + bias, weight and bias viewed in `shape`; keeps what backward reads
    (`sum_axes`: the axes weight and bias are broadcast along, summed for their gradients)."""
    out = x_hat
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape) if out is x_hat else \
            ctx.xp.add(out, bias.reshape(shape), out=out)
    if out is x_hat:  # backward keeps x_hat: an in-place change of the output must not
        out = x_hat.copy()
    ctx.save_for_backward(weight)
    ctx.x_hat, ctx.invstd, ctx.shape, ctx.sum_axes = x_hat, invstd, shape, sum_axes
    return out


def _sums(grad: Any, x_hat: Any, axes: tuple) -> tuple:
    """The sums of grad and of grad * x_hat over `axes` (over the kernel threads by batch
    norm's channels, when large)."""
    sums = parallel.reduced(_kept_sums, grad, x_hat, axes, axes=axes)
    return tuple(s.squeeze(axis=axes) for s in sums)


def _kept_sums(grad: Any, x_hat: Any, axes: tuple) -> tuple:
    return grad.sum(axis=axes, keepdims=True), (grad * x_hat).sum(axis=axes, keepdims=True)


@parallel.elementwise
def _centre_scale(x: Any, mean: Any, invstd: Any) -> Any:
    """(x - mean) * invstd, elementwise."""
    x_hat = x - mean
    x_hat *= invstd  # in place: one temporary fewer
    return x_hat


@parallel.elementwise
def _batch_grad(x_hat: Any, a: Any, grad: Any, b: Any, scale: Any) -> Any:
    """(x_hat * a + grad - b) * scale: batch norm's input gradient with batch statistics."""
    grad_x = x_hat * a
    grad_x += grad
    grad_x -= b
    grad_x *= scale
    return grad_x


class _Normalize(Function):
    """A norm: the subclass's forward makes x_hat and invstd and ends in `_scale_shift`; its
    `grad_input` gives x's gradient. The gradients of weight and bias are the same for all:
    sums of grad * x_hat and of grad over `sum_axes`."""

    sums_for_x = False  # whether grad_input uses those two sums (batch norm's batch statistics)

    @staticmethod
    def grad_input(ctx, grad, weight, sum_g, sum_gx):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, grad):
        need_x, need_w, need_b = ctx.needs_input_grad
        (weight,) = ctx.saved_tensors
        sums = need_x and ctx.sums_for_x
        sum_g = sum_gx = None
        if need_b or need_w or sums:
            sum_g, sum_gx = _sums(grad, ctx.x_hat, ctx.sum_axes)
        grad_x = ctx.grad_input(ctx, grad, weight, sum_g, sum_gx) if need_x else None
        return grad_x, sum_gx if need_w else None, sum_g if need_b else None


class BatchNorm(_Normalize):
    """(N, C, *) normalised per channel with given mean/invstd arrays of shape (C,).

    `batch_stats` says whether mean/invstd came from this batch (training: gradient flows
    through them) or are running estimates (evaluation: constants).
    """

    @staticmethod
    def forward(ctx, x, weight, bias, mean, invstd, batch_stats):
        shape = (1, -1) + (1,) * (x.ndim - 2)
        invstd = invstd.reshape(shape)
        x_hat = _centre_scale(x, mean.reshape(shape), invstd)
        ctx.sums_for_x = batch_stats
        return _scale_shift(ctx, x_hat, invstd, weight, bias, shape,
                            (0,) + tuple(range(2, x.ndim)))

    @staticmethod
    def grad_input(ctx, grad, weight, sum_g, sum_gx):
        shape = ctx.shape
        scale = ctx.invstd if weight is None else ctx.invstd * weight.reshape(shape)
        if not ctx.sums_for_x:  # running statistics are constants
            return grad * scale
        # scale * (grad - mean(grad) - x_hat * mean(grad * x_hat))
        m = grad.size // grad.shape[1]
        return _batch_grad(ctx.x_hat, (-sum_gx / m).reshape(shape), grad,
                           (sum_g / m).reshape(shape), scale)


def _layer_normalize(xp: Any, x: Any, axes: tuple, eps: float) -> tuple:
    """(x_hat, invstd) of x normalised over `axes`, the last ones (rows over the threads)."""
    return (parallel.slabs if axes and axes[0] else _call)(_layer_norm_rows, xp, x, axes, eps)


def _call(fn: Any, *args: Any) -> Any:
    return fn(*args)


def _layer_norm_rows(xp: Any, x: Any, axes: tuple, eps: float) -> tuple:
    mean = x.mean(axis=axes, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(axis=axes, keepdims=True)
    invstd = 1 / xp.sqrt(var + eps)
    return centred * invstd, invstd


class LayerNorm(_Normalize):
    """(*, *normalized_shape) normalised over the last `k` dims, then affine per element."""

    @staticmethod
    def forward(ctx, x, weight, bias, k, eps):
        if x.dtype.kind != "f":
            name = dtypes.scalar_type_name(dtypes.from_numpy_dtype(x.dtype))
            raise NotImplementedError(f"\"LayerNormKernelImpl\" not implemented for '{name}'")
        axes = tuple(range(x.ndim - k, x.ndim))
        x_hat, invstd = _layer_normalize(ctx.xp, x, axes, eps)
        ctx.axes = axes
        return _scale_shift(ctx, x_hat, invstd, weight, bias, x.shape[x.ndim - k:],
                            tuple(range(x.ndim - k)))

    @staticmethod
    def grad_input(ctx, grad, weight, sum_g, sum_gx):
        dx_hat = grad if weight is None else grad * weight
        return _normalize_backward(ctx.xp, dx_hat, ctx.x_hat, ctx.invstd, ctx.axes)
