"""`MultiheadAttention`, as `torch.nn.MultiheadAttention` (same arguments and state-dict keys).

Heads attend through the fused `scaled_dot_product_attention` op; when the caller asks for
the attention weights (need_weights=True, PyTorch's default) the softmax is composed from
primitives instead, so the weights are returned and differentiable.
"""

from __future__ import annotations

import math
from typing import Any

from ...autograd.tensor import Tensor
from ...ops.attention import attention_bias, scaled_dot_product_attention
from ...ops.creation import empty
from ...ops.fused import softmax
from ...ops.linalg import linear
from .. import init
from ..parameter import Parameter
from .linear import NonDynamicallyQuantizableLinear
from .module import Module


def _negated_bias(mask: Tensor | None, like: Tensor) -> Tensor | None:
    """PyTorch's MHA masks: boolean True means 'may NOT attend'; floats are added."""
    if mask is None:
        return None
    if mask.dtype.name == "bool":
        return attention_bias(~mask, like)
    return attention_bias(mask, like)


class MultiheadAttention(Module):
    """Attention with `num_heads` heads over (L, N, E) queries and (S, N, kdim/vdim) keys/values.

    forward(query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
    average_attn_weights=True, is_causal=False) -> (output (L, N, E), weights (N, L, S) or
    (N, heads, L, S) or None). batch_first puts N first; unbatched (L, E) inputs work too.
    """

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False,
                 kdim: int | None = None, vdim: int | None = None, batch_first: bool = False,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"embed_dim and num_heads must be greater than 0, got "
                             f"embed_dim={embed_dim} and num_heads={num_heads} instead")
        if embed_dim % num_heads:
            raise AssertionError("embed_dim must be divisible by num_heads")
        if add_bias_kv or add_zero_attn:
            raise NotImplementedError("MultiheadAttention: add_bias_kv and add_zero_attn are "
                                      "not supported")
        self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.num_heads = num_heads
        self.dropout = dropout
        self.batch_first = batch_first
        self.head_dim = embed_dim // num_heads
        factory = {"device": device, "dtype": dtype}
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(empty(3 * embed_dim, embed_dim, **factory))
            self.register_parameter("q_proj_weight", None)
            self.register_parameter("k_proj_weight", None)
            self.register_parameter("v_proj_weight", None)
        else:
            self.q_proj_weight = Parameter(empty(embed_dim, embed_dim, **factory))
            self.k_proj_weight = Parameter(empty(embed_dim, self.kdim, **factory))
            self.v_proj_weight = Parameter(empty(embed_dim, self.vdim, **factory))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(empty(3 * embed_dim, **factory))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, **factory)
        self.bias_k = self.bias_v = None
        self.add_zero_attn = False
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        """Xavier-uniform projections, zero biases (PyTorch's initialisation)."""
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            init.xavier_uniform_(self.q_proj_weight)
            init.xavier_uniform_(self.k_proj_weight)
            init.xavier_uniform_(self.v_proj_weight)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)

    def _project(self, query: Tensor, key: Tensor, value: Tensor) -> tuple:
        """Batch-first (N, L, E) inputs -> q, k, v as (N, heads, L|S, head_dim)."""
        e, heads, hd = self.embed_dim, self.num_heads, self.head_dim
        b = self.in_proj_bias
        n, length = query.shape[0], query.shape[1]
        if self._qkv_same_embed_dim and query is key and key is value:  # one matmul for all
            qkv = linear(query, self.in_proj_weight, b)
            qkv = qkv.reshape(n, length, 3, heads, hd).permute(2, 0, 3, 1, 4)
            return qkv[0], qkv[1], qkv[2]
        if self._qkv_same_embed_dim:
            w_q, w_k, w_v = self.in_proj_weight[:e], self.in_proj_weight[e : 2 * e], \
                self.in_proj_weight[2 * e :]
        else:
            w_q, w_k, w_v = self.q_proj_weight, self.k_proj_weight, self.v_proj_weight
        b_q, b_k, b_v = (None, None, None) if b is None else (b[:e], b[e : 2 * e], b[2 * e :])
        if self._qkv_same_embed_dim and key is value:
            w_kv = self.in_proj_weight[e:]
            kv = linear(key, w_kv, None if b is None else b[e:])
            kv = kv.reshape(n, key.shape[1], 2, heads, hd).permute(2, 0, 3, 1, 4)
            k, v = kv[0], kv[1]
        else:
            k = linear(key, w_k, b_k).reshape(n, key.shape[1], heads, hd).transpose(1, 2)
            v = linear(value, w_v, b_v).reshape(n, value.shape[1], heads, hd).transpose(1, 2)
        q = linear(query, w_q, b_q).reshape(n, length, heads, hd).transpose(1, 2)
        return q, k, v

    def _mask(self, key_padding_mask: Tensor | None, attn_mask: Tensor | None, n: int,
              length: int, source: int, like: Tensor) -> Tensor | None:
        """One additive mask broadcastable to (N, heads, L, S)."""
        bias = _negated_bias(attn_mask, like)
        if bias is not None:
            if bias.ndim == 3:  # (N * heads, L, S)
                bias = bias.reshape(n, self.num_heads, length, source)
            elif tuple(bias.shape) != (length, source):
                raise RuntimeError(f"The shape of the 2D attn_mask is {tuple(bias.shape)}, but "
                                   f"should be {(length, source)}.")
        padding = _negated_bias(key_padding_mask, like)
        if padding is not None:
            if tuple(padding.shape) != (n, source):
                raise RuntimeError(f"expected key_padding_mask of shape {(n, source)}, got "
                                   f"{tuple(padding.shape)}")
            padding = padding.reshape(n, 1, 1, source)
            bias = padding if bias is None else bias + padding
        return bias

    def forward(self, query: Tensor, key: Tensor, value: Tensor,
                key_padding_mask: Tensor | None = None, need_weights: bool = True,
                attn_mask: Tensor | None = None, average_attn_weights: bool = True,
                is_causal: bool = False) -> tuple[Tensor, Tensor | None]:
        """(L, N, E), (S, N, kdim), (S, N, vdim) -> (L, N, E), weights (N, L, S) or None."""
        if is_causal and attn_mask is None:
            raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use "
                               "the Transformer module method `generate_square_subsequent_mask`"
                               " to create this mask.")
        if query.shape[-1] != self.embed_dim:
            raise AssertionError(f"was expecting embedding dimension of {self.embed_dim}, but "
                                 f"got {query.shape[-1]}")
        batched = query.ndim == 3
        same_kv = key is value
        same_qkv = query is key and same_kv
        if not batched:  # (L, E) -> (1, L, E)
            query, key, value = query.unsqueeze(0), key.unsqueeze(0), value.unsqueeze(0)
            if key_padding_mask is not None:
                key_padding_mask = key_padding_mask.unsqueeze(0)
        elif not self.batch_first:  # (L, N, E) -> (N, L, E)
            query, key, value = query.transpose(0, 1), key.transpose(0, 1), value.transpose(0, 1)
        if same_qkv:
            key = value = query
        elif same_kv:
            value = key
        n, length, source = query.shape[0], query.shape[1], key.shape[1]
        q, k, v = self._project(query, key, value)
        mask = self._mask(key_padding_mask, attn_mask, n, length, source, q)
        p = self.dropout if self.training else 0.0
        weights = None
        if need_weights:
            scores = q @ k.transpose(-2, -1) * (1.0 / math.sqrt(self.head_dim))
            if mask is not None:
                scores = scores + mask
            weights = softmax(scores, dim=-1)
            if p > 0:
                from ..functional import dropout

                weights = dropout(weights, p, True)
            out = weights @ v
        else:
            out = scaled_dot_product_attention(q, k, v, mask, dropout_p=p)
        out = out.transpose(1, 2).reshape(n, length, self.embed_dim)
        out = self.out_proj(out)
        if not batched:
            out = out.squeeze(0)
        elif not self.batch_first:
            out = out.transpose(0, 1)
        if weights is not None:
            if average_attn_weights:
                weights = weights.mean(dim=1)
            if not batched:
                weights = weights.squeeze(0)
        return out, weights
