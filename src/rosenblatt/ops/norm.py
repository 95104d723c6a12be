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


class BatchNorm(Function):
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
        out = x_hat
        if weight is not None:
            out = out * weight.reshape(shape)
        if bias is not None:
            out = out + bias.reshape(shape) if out is x_hat else \
                ctx.xp.add(out, bias.reshape(shape), out=out)
        if out is x_hat:  # backward keeps x_hat: an in-place change of the output must not
            out = x_hat.copy()
        ctx.save_for_backward(weight)
        ctx.x_hat, ctx.invstd, ctx.shape = x_hat, invstd, shape
        ctx.batch_stats = batch_stats
        return out

    @staticmethod
    def backward(ctx, grad):
        need_x, need_w, need_b = ctx.needs_input_grad
        (weight,) = ctx.saved_tensors
        x_hat, shape = ctx.x_hat, ctx.shape
        axes = (0,) + tuple(range(2, grad.ndim))
        batch = need_x and ctx.batch_stats
        # the two channel sums serve the weight, the bias and the batch-statistics terms
        sum_g = grad.sum(axis=axes) if need_b or batch else None
        sum_gx = (grad * x_hat).sum(axis=axes) if need_w or batch else None
        grad_x = None
        if need_x:
            scale = ctx.invstd if weight is None else ctx.invstd * weight.reshape(shape)
            if batch:  # scale * (grad - mean(grad) - x_hat * mean(grad * x_hat))
                m = grad.size // grad.shape[1]
                grad_x = x_hat * (-sum_gx / m).reshape(shape)
                grad_x += grad
                grad_x -= (sum_g / m).reshape(shape)
                grad_x *= scale
            else:
                grad_x = grad * scale
        return grad_x, sum_gx if need_w else None, sum_g if need_b else None


class LayerNorm(Function):
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
        x_hat = centred * invstd
        out = x_hat
        if weight is not None:
            out = out * weight
        if bias is not None:
            out = out + bias
        if out is x_hat:  # backward keeps x_hat: an in-place change of the output must not
            out = x_hat.copy()
        ctx.save_for_backward(weight)
        ctx.x_hat, ctx.invstd, ctx.axes = x_hat, invstd, axes
        return out

    @staticmethod
    def backward(ctx, grad):
        need_x, need_w, need_b = ctx.needs_input_grad
        (weight,) = ctx.saved_tensors
        x_hat, axes = ctx.x_hat, ctx.axes
        batch_axes = tuple(range(grad.ndim - len(axes)))
        grad_x = grad_w = grad_b = None
        if need_x:
            dx_hat = grad if weight is None else grad * weight
            grad_x = _normalize_backward(ctx.xp, dx_hat, x_hat, ctx.invstd, axes)
        if need_w:
            grad_w = (grad * x_hat).sum(axis=batch_axes)
        if need_b:
            grad_b = grad.sum(axis=batch_axes)
        return grad_x, grad_w, grad_b
