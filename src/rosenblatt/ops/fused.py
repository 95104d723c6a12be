"""Ops fused into one node because composing them would be slow or unstable."""

from __future__ import annotations

from typing import Any

from .._backend import array_module, parallel
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._util import kept_max, normalize_dim, scalar_as_vector
from .elementwise import cast, quiet
from .shape import row_major


def log_softmax_array(xp: Any, x: Any, axis: int) -> Any:
    """log(softmax(x)) along `axis`, shifted by the maximum for stability."""
    shifted = x - kept_max(x, axis)
    with quiet():  # an empty axis sums to 0: log(0) is -inf there, and no element reads it
        return shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))


def softmax_array(xp: Any, x: Any, axis: int) -> Any:
    """exp(x) / sum(exp(x)) along `axis`, shifted by the maximum for stability."""
    shifted = xp.exp(x - kept_max(x, axis))
    return shifted / shifted.sum(axis=axis, keepdims=True)


def by_rows(kernel: Any, axis: int, *arrays: Any) -> Any:
    """kernel(xp, *arrays, axis) (same-shape arrays, a result of that shape, each slice along
    `axis` on its own), row-major; a large contiguous input with `axis` last runs in blocks
    of rows across the threads (rows are independent: the same bits as one call)."""
    x = arrays[0]
    xp = array_module(x)
    if (x.ndim == 0 or axis != x.ndim - 1 or x.size < parallel.MIN_WORK
            or not all(a.flags.c_contiguous and a.dtype == x.dtype for a in arrays)):
        # row-major, as PyTorch's kernel writes it (it reads x.contiguous())
        return row_major(kernel(xp, *arrays, axis))
    rows = [a.reshape(-1, x.shape[-1]) for a in arrays]
    return parallel.slabs(kernel, xp, *rows, 1).reshape(x.shape)


def _softmax_grad(xp: Any, out: Any, grad: Any, axis: int) -> Any:
    return out * (grad - (grad * out).sum(axis=axis, keepdims=True))


def _log_softmax_grad(xp: Any, out: Any, grad: Any, axis: int) -> Any:
    return grad - xp.exp(out) * grad.sum(axis=axis, keepdims=True)


class _RowWise(Function):
    """softmax and log_softmax: one kernel for the value, one for the gradient, run over rows
    (split across the kernel threads when large); backward keeps the output."""

    value: Any
    gradient: Any

    @staticmethod
    def forward(ctx, x, axis):
        out = by_rows(ctx.value, axis, x)
        ctx.save_for_backward(out)
        ctx.axis = axis
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return by_rows(ctx.gradient, ctx.axis, out, grad)


class Softmax(_RowWise):
    value, gradient = staticmethod(softmax_array), staticmethod(_softmax_grad)


class LogSoftmax(_RowWise):
    value, gradient = staticmethod(log_softmax_array), staticmethod(_log_softmax_grad)


def _softmax_input(x: Tensor, dim: int | None, dtype: Any) -> tuple[Tensor, int]:
    if dim is None:
        raise TypeError("softmax(): argument 'dim' must be given (implicit dim is deprecated)")
    if dtype is None and x._data.dtype.kind != "f" and x._data.size:
        raise NotImplementedError(f"softmax(): not implemented for {x.dtype.name} input; pass "
                                  "dtype= or convert it to a floating point type first")
    return x if dtype is None else cast(x, dtype), normalize_dim(dim, x.ndim)


def _no_kernel(x: Tensor) -> bool:
    """An empty integer or bool input: PyTorch runs no kernel and returns it as it is."""
    return x._data.size == 0 and x._data.dtype.kind != "f"


@scalar_as_vector
def softmax(x: Tensor, dim: int | None = None, dtype: Any = None) -> Tensor:
    """exp(x) / sum(exp(x)) along `dim`, shifted by the max for stability."""
    x, axis = _softmax_input(x, dim, dtype)
    return x.clone() if _no_kernel(x) else Softmax.apply(x, axis=axis)


@scalar_as_vector
def log_softmax(x: Tensor, dim: int | None = None, dtype: Any = None) -> Tensor:
    """x - logsumexp(x) along `dim`, computed stably."""
    x, axis = _softmax_input(x, dim, dtype)
    return x.clone() if _no_kernel(x) else LogSoftmax.apply(x, axis=axis)
