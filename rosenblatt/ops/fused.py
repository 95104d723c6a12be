"""Ops fused into one node because composing them would be slow or unstable."""

from __future__ import annotations

from typing import Any

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._util import normalize_dim
from .elementwise import _float_input, cast


class Softmax(Function):
    @staticmethod
    def forward(ctx, x, axis):
        shifted = ctx.xp.exp(x - x.max(axis=axis, keepdims=True))
        out = shifted / shifted.sum(axis=axis, keepdims=True)
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return out * (grad - (grad * out).sum(axis=ctx.axis, keepdims=True))


class LogSoftmax(Function):
    @staticmethod
    def forward(ctx, x, axis):
        shifted = x - x.max(axis=axis, keepdims=True)
        out = shifted - ctx.xp.log(ctx.xp.exp(shifted).sum(axis=axis, keepdims=True))
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad - ctx.xp.exp(out) * grad.sum(axis=ctx.axis, keepdims=True)


def _softmax_input(x: Tensor, dim: int | None, dtype: Any) -> tuple[Tensor, int]:
    if dim is None:
        raise TypeError("softmax(): argument 'dim' must be given (implicit dim is deprecated)")
    x = _float_input(x if dtype is None else cast(x, dtype))
    return x, normalize_dim(dim, max(x.ndim, 1))


def softmax(x: Tensor, dim: int | None = None, dtype: Any = None) -> Tensor:
    """exp(x) / sum(exp(x)) along `dim`, shifted by the max for stability."""
    x, axis = _softmax_input(x, dim, dtype)
    if x.ndim == 0:
        return Softmax.apply(x.reshape(1), axis=0).reshape(())
    return Softmax.apply(x, axis=axis)


def log_softmax(x: Tensor, dim: int | None = None, dtype: Any = None) -> Tensor:
    """x - logsumexp(x) along `dim`, computed stably."""
    x, axis = _softmax_input(x, dim, dtype)
    if x.ndim == 0:
        return LogSoftmax.apply(x.reshape(1), axis=0).reshape(())
    return LogSoftmax.apply(x, axis=axis)
