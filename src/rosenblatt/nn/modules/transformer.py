"""Transformer layers as in `torch.nn` (same arguments, defaults and state-dict keys), plus
positional encodings, which PyTorch leaves to the user.

TransformerEncoderLayer / TransformerDecoderLayer: post-norm by default (norm_first=False,
the 2017 paper), pre-norm with norm_first=True. TransformerEncoder / TransformerDecoder stack
deep copies of one layer; Transformer puts an encoder and a decoder together.
SinusoidalPositionalEncoding (fixed, the paper's sin/cos table)
and LearnedPositionalEncoding (an embedding per position) add position information to
(N, L, E) or (L, N, E) inputs.
"""

from __future__ import annotations

import copy
import math
from typing import Any, Callable

from ...autograd.tensor import Tensor
from ...ops.creation import arange, full, zeros
from ...ops.elementwise import cos, exp, sin
from ...ops.index import triu
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .attention import MultiheadAttention
from .container import ModuleList
from .dropout import Dropout
from .linear import Linear
from .module import Module
from .normalization import LayerNorm


def _activation(activation: str | Callable[[Tensor], Tensor]) -> Callable[[Tensor], Tensor]:
    if callable(activation):
        return activation
    if activation == "relu":
        return F.relu
    if activation == "gelu":
        return F.gelu
    raise RuntimeError(f"activation should be relu/gelu, not {activation}")


def generate_square_subsequent_mask(size: int, device: Any = None, dtype: Any = None) -> Tensor:
    """(size, size) float mask: 0 on and below the diagonal, -inf above (causal)."""
    return triu(full((size, size), -math.inf, dtype=dtype, device=device), diagonal=1)


class _TransformerLayer(Module):
    """What the encoder and decoder layers share, with PyTorch's arguments and attribute names:
    a self-attention block and a feed-forward block, each with dropout and a LayerNorm; the
    decoder (`_cross_attention`) adds attention over the encoder's memory, with a third norm.
    """

    _cross_attention = False

    def __init__(self, d_model: int, nhead: int, dim_feedforward: int = 2048,
                 dropout: float = 0.1, activation: str | Callable = "relu",
                 layer_norm_eps: float = 1e-5, batch_first: bool = False,
                 norm_first: bool = False, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        blocks = 3 if self._cross_attention else 2
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, **factory)
        if self._cross_attention:
            self.multihead_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                                     batch_first=batch_first, **factory)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, **factory)
        self.dropout = Dropout(dropout)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, **factory)
        self.norm_first = norm_first
        for i in range(1, blocks + 1):  # registered in PyTorch's order: norm1..., dropout1...
            setattr(self, f"norm{i}", LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory))
        for i in range(1, blocks + 1):
            setattr(self, f"dropout{i}", Dropout(dropout))
        self.activation = _activation(activation)

    def _sa_block(self, x: Tensor, attn_mask: Tensor | None, key_padding_mask: Tensor | None,
                  is_causal: bool) -> Tensor:
        x = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                           need_weights=False, is_causal=is_causal)[0]
        return self.dropout1(x)

    def _ff_block(self, x: Tensor) -> Tensor:
        last = self.dropout3 if self._cross_attention else self.dropout2
        return last(self.linear2(self.dropout(self.activation(self.linear1(x)))))


class TransformerEncoderLayer(_TransformerLayer):
    """Self-attention then a feed-forward block, each with residual, dropout and LayerNorm.

    src (S, N, E) (or (N, S, E) with batch_first) -> same shape.
    """

    def forward(self, src: Tensor, src_mask: Tensor | None = None,
                src_key_padding_mask: Tensor | None = None, is_causal: bool = False) -> Tensor:
        """(S, N, E) -> (S, N, E); masks as in MultiheadAttention."""
        x = src
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x))
        return x


class TransformerDecoderLayer(_TransformerLayer):
    """Self-attention, cross-attention over `memory`, then feed-forward; each with residual.

    tgt (T, N, E), memory (S, N, E) -> (T, N, E) (N first with batch_first).
    """

    _cross_attention = True

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask: Tensor | None = None,
                memory_mask: Tensor | None = None, tgt_key_padding_mask: Tensor | None = None,
                memory_key_padding_mask: Tensor | None = None, tgt_is_causal: bool = False,
                memory_is_causal: bool = False) -> Tensor:
        """(T, N, E), (S, N, E) -> (T, N, E)."""
        x = tgt
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), memory, memory_mask,
                                    memory_key_padding_mask, memory_is_causal)
            x = x + self._ff_block(self.norm3(x))
        else:
            x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
            x = self.norm2(x + self._mha_block(x, memory, memory_mask, memory_key_padding_mask,
                                               memory_is_causal))
            x = self.norm3(x + self._ff_block(x))
        return x

    def _mha_block(self, x: Tensor, mem: Tensor, attn_mask: Tensor | None,
                   key_padding_mask: Tensor | None, is_causal: bool) -> Tensor:
        x = self.multihead_attn(x, mem, mem, attn_mask=attn_mask,
                                key_padding_mask=key_padding_mask, is_causal=is_causal,
                                need_weights=False)[0]
        return self.dropout2(x)


def _clones(layer: Module, n: int) -> ModuleList:
    return ModuleList([copy.deepcopy(layer) for _ in range(n)])


class TransformerEncoder(Module):
    """`num_layers` copies of an encoder layer, then an optional final norm."""

    def __init__(self, encoder_layer: TransformerEncoderLayer, num_layers: int,
                 norm: Module | None = None, enable_nested_tensor: bool = True,
                 mask_check: bool = True) -> None:
        super().__init__()
        self.layers = _clones(encoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, src: Tensor, mask: Tensor | None = None,
                src_key_padding_mask: Tensor | None = None,
                is_causal: bool | None = None) -> Tensor:
        """(S, N, E) -> (S, N, E)."""
        x = src
        for layer in self.layers:
            x = layer(x, src_mask=mask, src_key_padding_mask=src_key_padding_mask,
                      is_causal=bool(is_causal))
        return self.norm(x) if self.norm is not None else x


class TransformerDecoder(Module):
    """`num_layers` copies of a decoder layer, then an optional final norm."""

    def __init__(self, decoder_layer: TransformerDecoderLayer, num_layers: int,
                 norm: Module | None = None) -> None:
        super().__init__()
        self.layers = _clones(decoder_layer, num_layers)
        self.num_layers = num_layers
        self.norm = norm

    def forward(self, tgt: Tensor, memory: Tensor, tgt_mask: Tensor | None = None,
                memory_mask: Tensor | None = None, tgt_key_padding_mask: Tensor | None = None,
                memory_key_padding_mask: Tensor | None = None,
                tgt_is_causal: bool | None = None, memory_is_causal: bool = False) -> Tensor:
        """(T, N, E), (S, N, E) -> (T, N, E)."""
        x = tgt
        for layer in self.layers:
            x = layer(x, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                      tgt_key_padding_mask=tgt_key_padding_mask,
                      memory_key_padding_mask=memory_key_padding_mask,
                      tgt_is_causal=bool(tgt_is_causal), memory_is_causal=memory_is_causal)
        return self.norm(x) if self.norm is not None else x


class Transformer(Module):
    """Encoder-decoder Transformer (`torch.nn.Transformer`): src (S, N, E), tgt (T, N, E) ->
    (T, N, E), N first with batch_first. Each stack ends with a LayerNorm, as in PyTorch."""

    def __init__(self, d_model: int = 512, nhead: int = 8, num_encoder_layers: int = 6,
                 num_decoder_layers: int = 6, dim_feedforward: int = 2048, dropout: float = 0.1,
                 activation: str | Callable = "relu", custom_encoder: Module | None = None,
                 custom_decoder: Module | None = None, layer_norm_eps: float = 1e-5,
                 batch_first: bool = False, norm_first: bool = False, bias: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        factory = {"device": device, "dtype": dtype}
        layer_args = dict(d_model=d_model, nhead=nhead, dim_feedforward=dim_feedforward,
                          dropout=dropout, activation=activation, layer_norm_eps=layer_norm_eps,
                          batch_first=batch_first, norm_first=norm_first, bias=bias, **factory)
        self.encoder = custom_encoder or TransformerEncoder(
            TransformerEncoderLayer(**layer_args), num_encoder_layers,
            LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory))
        self.decoder = custom_decoder or TransformerDecoder(
            TransformerDecoderLayer(**layer_args), num_decoder_layers,
            LayerNorm(d_model, eps=layer_norm_eps, bias=bias, **factory))
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first
        for p in self.parameters():
            if p.ndim > 1:
                init.xavier_uniform_(p)

    def forward(self, src: Tensor, tgt: Tensor, src_mask: Tensor | None = None,
                tgt_mask: Tensor | None = None, memory_mask: Tensor | None = None,
                src_key_padding_mask: Tensor | None = None,
                tgt_key_padding_mask: Tensor | None = None,
                memory_key_padding_mask: Tensor | None = None, src_is_causal: bool | None = None,
                tgt_is_causal: bool | None = None, memory_is_causal: bool = False) -> Tensor:
        """(S, N, E), (T, N, E) -> (T, N, E)."""
        memory = self.encoder(src, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)

    generate_square_subsequent_mask = staticmethod(generate_square_subsequent_mask)


def sinusoidal_table(max_len: int, d_model: int, dtype: Any = None) -> Tensor:
    """(max_len, d_model): sin at even, cos at odd features, wavelengths 2π .. 10000·2π."""
    position = arange(max_len, dtype=dtype).unsqueeze(1)
    div = exp(arange(0, d_model, 2, dtype=dtype) * (-math.log(10000.0) / d_model))
    table = zeros(max_len, d_model, dtype=dtype)
    table[:, 0::2] = sin(position * div)
    table[:, 1::2] = cos(position * div)[:, : d_model // 2]
    return table


class SinusoidalPositionalEncoding(Module):
    """Adds the fixed sin/cos table of "Attention Is All You Need" to (N, L, E) inputs.

    Not part of PyTorch. `pe` is a non-persistent buffer (not in the state dict: it is
    recomputed). With batch_first=False inputs are (L, N, E). Dropout follows the sum.
    """

    def __init__(self, d_model: int, max_len: int = 5000, dropout: float = 0.0,
                 batch_first: bool = True) -> None:
        super().__init__()
        self.d_model, self.max_len, self.batch_first = d_model, max_len, batch_first
        self.dropout = Dropout(dropout)
        self.register_buffer("pe", sinusoidal_table(max_len, d_model), persistent=False)

    def forward(self, x: Tensor, offset: int = 0) -> Tensor:
        """(N, L, E) -> (N, L, E): x + pe[offset : offset + L]."""
        length = x.shape[1] if self.batch_first else x.shape[0]
        if offset + length > self.max_len:
            raise ValueError(f"SinusoidalPositionalEncoding: positions up to {offset + length} "
                             f"exceed max_len={self.max_len}")
        pe = self.pe[offset : offset + length].to(x.dtype)
        return self.dropout(x + (pe if self.batch_first else pe.unsqueeze(1)))


class LearnedPositionalEncoding(Module):
    """Adds a learned vector per position (GPT-style), `weight` (max_len, d_model) ~ N(0, 0.02²).

    Not part of PyTorch. Inputs (N, L, E) (or (L, N, E) with batch_first=False).
    """

    def __init__(self, d_model: int, max_len: int = 1024, dropout: float = 0.0,
                 batch_first: bool = True, device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        self.d_model, self.max_len, self.batch_first = d_model, max_len, batch_first
        self.weight = Parameter(zeros(max_len, d_model, device=device, dtype=dtype))
        init.normal_(self.weight, 0.0, 0.02)
        self.dropout = Dropout(dropout)

    def forward(self, x: Tensor, offset: int = 0) -> Tensor:
        """(N, L, E) -> (N, L, E): x + weight[offset : offset + L]."""
        length = x.shape[1] if self.batch_first else x.shape[0]
        if offset + length > self.max_len:
            raise ValueError(f"LearnedPositionalEncoding: positions up to {offset + length} "
                             f"exceed max_len={self.max_len}")
        pe = self.weight[offset : offset + length]
        return self.dropout(x + (pe if self.batch_first else pe.unsqueeze(1)))
