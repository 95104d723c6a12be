"""Normalisation fused into one node each: batch norm and layer norm, hand-written backward.

Both normalise x over some axes, x_hat = (x - mean) * invstd, then scale and shift
(y = x_hat * weight + bias). With batch statistics the gradient through mean and variance is
    dx = invstd / M * (M * dx_hat - sum(dx_hat) - x_hat * sum(dx_hat * x_hat)),
summed over the M normalised elements; with fixed (running) statistics it is dx_hat * invstd.
"""

from __future__ import annotations

from typing import Any

from .. import dtypes
from ..autograd.function import Function


def _normalize_backward(xp: Any, dx_hat: Any, x_hat: Any, invstd: Any, axes: tuple) -> Any:
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
        sum_g = grad.sum(axis=ctx.sum_axes) if need_b or sums else None
        sum_gx = (grad * ctx.x_hat).sum(axis=ctx.sum_axes) if need_w or sums else None
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
        x_hat = x - mean.reshape(shape)
        x_hat *= invstd  # in place: one temporary fewer
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
        grad_x = ctx.x_hat * (-sum_gx / m).reshape(shape)
        grad_x += grad
        grad_x -= (sum_g / m).reshape(shape)
        grad_x *= scale
        return grad_x


class LayerNorm(_Normalize):
    """(*, *normalized_shape) normalised over the last `k` dims, then affine per element."""

    @staticmethod
    def forward(ctx, x, weight, bias, k, eps):
        if x.dtype.kind != "f":
            name = dtypes.scalar_type_name(dtypes.from_numpy_dtype(x.dtype))
            raise NotImplementedError(f"\"LayerNormKernelImpl\" not implemented for '{name}'")
        xp = ctx.xp
        axes = tuple(range(x.ndim - k, x.ndim))
        mean = x.mean(axis=axes, keepdims=True)
        centred = x - mean
        var = (centred * centred).mean(axis=axes, keepdims=True)
        invstd = 1 / xp.sqrt(var + eps)
        ctx.axes = axes
        return _scale_shift(ctx, centred * invstd, invstd, weight, bias, x.shape[x.ndim - k:],
                            tuple(range(x.ndim - k)))

    @staticmethod
    def grad_input(ctx, grad, weight, sum_g, sum_gx):
        dx_hat = grad if weight is None else grad * weight
        return _normalize_backward(ctx.xp, dx_hat, ctx.x_hat, ctx.invstd, ctx.axes)
