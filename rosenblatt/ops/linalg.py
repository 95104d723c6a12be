"""Matrix products: matmul (vector, matrix, batched with broadcasting) and the fused linear."""

from __future__ import annotations

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._util import shape_str, unbroadcast
from .elementwise import _operands


class MatMul(Function):
    """a @ b with NumPy's (= PyTorch's) rules for 1-D operands and batch broadcasting."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return ctx.xp.matmul(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        xp = ctx.xp
        need_a, need_b = ctx.needs_input_grad
        # treat a vector as a row (left) or column (right) matrix, and grad to match
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g = grad
        if b.ndim == 1:
            g = g[..., None]
        if a.ndim == 1:
            g = g[..., None, :]
        grad_a = grad_b = None
        if need_a:
            grad_a = unbroadcast(xp.matmul(g, xp.swapaxes(b2, -1, -2)), a2.shape).reshape(a.shape)
        if need_b:
            grad_b = unbroadcast(xp.matmul(xp.swapaxes(a2, -1, -2), g), b2.shape).reshape(b.shape)
        return grad_a, grad_b


def _check_matmul(a: Tensor, b: Tensor, op: str) -> None:
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(f"{op}: both arguments need at least 1 dimension, got "
                           f"{a.ndim}D and {b.ndim}D tensors")
    inner_a = a.shape[-1]
    inner_b = b.shape[0] if b.ndim == 1 else b.shape[-2]
    if inner_a != inner_b:
        raise RuntimeError(f"{op}: cannot multiply ({shape_str(a.shape)}) by ({shape_str(b.shape)})"
                           f": inner sizes {inner_a} and {inner_b} differ")
    if a.ndim > 2 and b.ndim > 2:
        for x, y in zip(reversed(a.shape[:-2]), reversed(b.shape[:-2])):
            if x != y and x != 1 and y != 1:
                raise RuntimeError(f"{op}: batch dimensions of ({shape_str(a.shape)}) and "
                                   f"({shape_str(b.shape)}) do not broadcast")


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """Matrix product: (n) @ (n) -> (), (.., n, k) @ (k, m) -> (.., n, m), batches broadcast."""
    a, b = _operands(a, b)
    _check_matmul(a, b, "matmul")
    return MatMul.apply(a, b)


def mm(a: Tensor, b: Tensor) -> Tensor:
    """(n, k) @ (k, m) -> (n, m), matrices only."""
    if a.ndim != 2 or b.ndim != 2:
        raise RuntimeError(f"mm: expected 2D tensors, got {a.ndim}D and {b.ndim}D")
    return matmul(a, b)


def bmm(a: Tensor, b: Tensor) -> Tensor:
    """(B, n, k) @ (B, k, m) -> (B, n, m)."""
    if a.ndim != 3 or b.ndim != 3 or a.shape[0] != b.shape[0]:
        raise RuntimeError(f"bmm: expected 3D tensors with equal batch, got "
                           f"({shape_str(a.shape)}) and ({shape_str(b.shape)})")
    return matmul(a, b)


def mv(a: Tensor, v: Tensor) -> Tensor:
    """(n, k) @ (k) -> (n)."""
    if a.ndim != 2 or v.ndim != 1:
        raise RuntimeError("mv: expected a matrix and a vector")
    return matmul(a, v)


def dot(a: Tensor, b: Tensor) -> Tensor:
    """Inner product of two 1-D tensors."""
    if a.ndim != 1 or b.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {a.ndim}D and {b.ndim}D tensors")
    return matmul(a, b)


def outer(a: Tensor, b: Tensor) -> Tensor:
    """(n), (m) -> (n, m) with a[i] * b[j]."""
    return a.reshape(-1, 1) * b.reshape(1, -1)


class Linear(Function):
    """x @ W^T + b in one node: (..., in), (out, in), (out) -> (..., out)."""

    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        # (..., in) as one (rows, in) matrix: one GEMM instead of one per leading index
        # dot, not matmul: the same BLAS call for matrices, with less dispatch (batch-1 latency)
        out = ctx.xp.dot(x.reshape(-1, x.shape[-1]) if x.ndim > 2 else x, weight.T)
        if bias is not None:
            out += bias
        return out.reshape(x.shape[:-1] + (weight.shape[0],)) if x.ndim > 2 else out

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        need_x, need_w, need_b = ctx.needs_input_grad
        grad2 = grad.reshape(-1, grad.shape[-1])
        grad_x = grad_w = grad_b = None
        if need_x:
            grad_x = ctx.xp.matmul(grad2 if grad.ndim > 2 else grad, weight).reshape(x.shape)
        if need_w:
            grad_w = ctx.xp.matmul(grad2.T, x.reshape(-1, x.shape[-1]))
        if need_b:
            grad_b = grad2.sum(axis=0)
        return grad_x, grad_w, grad_b


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x W^T + b: (..., in_features) -> (..., out_features)."""
    xs, ws = x._data.shape, weight._data.shape
    if xs[-1:] != ws[-1:] or len(ws) != 2:
        raise RuntimeError(
            f"linear: cannot multiply input ({shape_str(x.shape)}) by weight^T "
            f"({shape_str(weight.shape[::-1])}): input has {x.shape[-1] if x.ndim else 0} "
            f"features, weight expects {weight.shape[-1]}"
        )
    if bias is not None and bias._data.shape != ws[:1]:
        raise RuntimeError(f"linear: bias of shape {list(bias.shape)} does not match "
                           f"{weight.shape[0]} output features")
    if x._data.dtype != weight._data.dtype:
        raise RuntimeError(f"linear: expected input and weight of the same dtype, got "
                           f"{x.dtype.name} input and {weight.dtype.name} weight")
    return Linear.apply(x, weight, bias)


