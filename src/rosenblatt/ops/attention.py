"""Scaled dot-product attention fused into one graph node.

softmax(q k^T * scale + mask) v as one Function: forward is two batched matmuls and a
softmax; backward reuses the saved probabilities, so no intermediate graph of a dozen
nodes is built for every head of every layer.
"""

from __future__ import annotations

import math
from typing import Any

from .. import dtypes, random
from .._backend import array_module, parallel
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._util import shape_str, unbroadcast
from .elementwise import cast
from .fused import _softmax_grad, by_rows


def _causal_bias(xp: Any, length: int, source: int, dtype: Any) -> Any:
    """(L, S) additive mask: 0 on and below the diagonal, -inf above (top-left aligned)."""
    return xp.triu(xp.full((length, source), -xp.inf, dtype=dtype), 1)


def _softmax_last(xp: Any, s: Any) -> Any:
    """Softmax over the last axis, in place on `s`; rows with every score masked (-inf)
    give zeros, as PyTorch's SDPA does, instead of NaN."""
    top = s.max(axis=-1, keepdims=True)
    if not bool(xp.isfinite(top).all()):
        top = xp.where(xp.isfinite(top), top, 0.0)
    s -= top
    xp.exp(s, out=s)
    total = s.sum(axis=-1, keepdims=True)
    total[total == 0] = 1.0
    s /= total
    return s


class ScaledDotProductAttention(Function):
    """q (..., L, E), k (..., S, E), v (..., S, Ev), additive mask (.., L, S) or None.

    Output (..., L, Ev). Saves q, k, v, the attention probabilities (..., L, S) and, with
    dropout, the scaled keep-mask.
    """

    @staticmethod
    def forward(ctx, q, k, v, mask, scale=1.0, dropout_p=0.0, causal=False):
        xp = ctx.xp
        scores = xp.matmul(q, xp.swapaxes(k, -1, -2))
        scores *= scale
        if mask is not None:
            scores = scores + mask
        if causal:
            scores += _causal_bias(xp, q.shape[-2], k.shape[-2], scores.dtype)
        probs = _softmax_rows(xp, scores)
        keep = None
        if dropout_p > 0.0:
            draw = random.gen().random(probs.shape) >= dropout_p
            keep = xp.asarray(draw, dtype=probs.dtype) / (1.0 - dropout_p)
        ctx.save_for_backward(q, k, v)
        ctx.probs, ctx.keep, ctx.scale = probs, keep, scale
        ctx.mask_shape = None if mask is None else mask.shape
        return xp.matmul(probs if keep is None else probs * keep, v)

    @staticmethod
    def backward(ctx, grad):
        q, k, v = ctx.saved_tensors
        xp = ctx.xp
        probs, keep = ctx.probs, ctx.keep
        need_q, need_k, need_v, need_mask = ctx.needs_input_grad
        dropped = probs if keep is None else probs * keep
        dv = xp.matmul(xp.swapaxes(dropped, -1, -2), grad) if need_v else None
        dp = xp.matmul(grad, xp.swapaxes(v, -1, -2))
        if keep is not None:
            dp *= keep
        ds = by_rows(_softmax_grad, probs.ndim - 1, probs, dp)  # (rows over the threads)
        dmask = unbroadcast(ds, ctx.mask_shape) if need_mask else None
        ds *= ctx.scale
        dq = unbroadcast(xp.matmul(ds, k), q.shape) if need_q else None
        dk = unbroadcast(xp.matmul(xp.swapaxes(ds, -1, -2), q), k.shape) if need_k else None
        if dv is not None:
            dv = unbroadcast(dv, v.shape)
        return dq, dk, dv, dmask


def _softmax_rows(xp: Any, s: Any) -> Any:
    """_softmax_last over blocks of rows, in place, across the kernel threads when large."""
    if not s.flags.c_contiguous or s.ndim == 0:
        return _softmax_last(xp, s)
    parallel.chunk_arrays(lambda rows: _softmax_last(xp, rows), s.reshape(-1, s.shape[-1]),
                          xp=xp, blocked=True)
    return s


def attention_bias(attn_mask: Tensor | None, like: Tensor) -> Tensor | None:
    """A boolean mask (True = may attend) as an additive float mask; float masks pass."""
    if attn_mask is None:
        return None
    if attn_mask.dtype.name == "bool":
        xp = array_module(like._data)
        bias = xp.where(attn_mask._data, 0.0, -math.inf).astype(like._data.dtype)
        return Tensor._make(bias, False, None)
    if attn_mask._data.dtype != like._data.dtype:
        return cast(attn_mask, like.dtype)
    return attn_mask


def scaled_dot_product_attention(
    query: Tensor, key: Tensor, value: Tensor, attn_mask: Tensor | None = None,
    dropout_p: float = 0.0, is_causal: bool = False, scale: float | None = None,
) -> Tensor:
    """softmax(q k^T / sqrt(E) + mask) v: (..., L, E), (..., S, E), (..., S, Ev) -> (..., L, Ev).

    `attn_mask` is boolean (True where attention is allowed) or float (added to the
    scores), broadcastable to (..., L, S). `is_causal` masks keys after each query.
    """
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise RuntimeError(
            f"scaled_dot_product_attention: query ({shape_str(query.shape)}), key "
            f"({shape_str(key.shape)}) and value ({shape_str(value.shape)}) do not match"
        )
    if not (query.dtype is key.dtype is value.dtype):
        raise RuntimeError(f"Expected query, key, and value to have the same dtype, but got "
                           f"query.dtype: {query.dtype.name} key.dtype: {key.dtype.name} and "
                           f"value.dtype: {value.dtype.name} instead.")
    if not query.is_floating_point():
        raise RuntimeError(f"expected scalar type Float but found "
                           f"{dtypes.scalar_type_name(query.dtype)}")
    if attn_mask is not None and attn_mask.dtype not in (dtypes.bool, query.dtype):
        raise RuntimeError(f"Expected attn_mask dtype to be bool or float or to match query "
                           f"dtype, but got attn_mask.dtype: {attn_mask.dtype.name} and "
                           f"query.dtype: {query.dtype.name} instead.")
    if is_causal and attn_mask is not None:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set "
                           "when is_causal=True")
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else float(scale)
    bias = attention_bias(attn_mask, query)
    return ScaledDotProductAttention.apply(query, key, value, bias, scale=scale,
                                           dropout_p=float(dropout_p), causal=bool(is_causal))
