"""Character-level language models: an LSTM and a GPT-style decoder-only Transformer.

Both map token ids (N, T) to next-token logits (N, T, vocab) and implement the small
generation protocol that `rosenblatt.text.generate` drives:
`start(ids) -> (logits of the last position (vocab,), state)` and
`step(token, state) -> (logits, state)`, one new token at a time.
"""

from __future__ import annotations

import math
from typing import Any

from .. import nn
from .._backend import np
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from ..ops.attention import scaled_dot_product_attention
from ..ops.creation import tensor
from ..ops.fused import softmax


class CharLSTM(nn.Module):
    """Embedding -> LSTM (batch first) -> Linear head: ids (N, T) -> logits (N, T, vocab)."""

    def __init__(self, vocab_size: int, embed_dim: int = 64, hidden_size: int = 256,
                 num_layers: int = 2, dropout: float = 0.0) -> None:
        super().__init__()
        self.config = {"model": "lstm", "vocab_size": vocab_size, "embed_dim": embed_dim,
                       "hidden_size": hidden_size, "num_layers": num_layers,
                       "dropout": dropout}
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.lstm = nn.LSTM(embed_dim, hidden_size, num_layers, batch_first=True,
                            dropout=dropout)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, idx: Tensor, state: tuple[Tensor, Tensor] | None = None
                ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        """ids (N, T), (h, c) -> logits (N, T, vocab), new (h, c) each (layers, N, H)."""
        out, state = self.lstm(self.embedding(idx), state)
        return self.head(out), state

    @no_grad()
    def start(self, ids: list[int]) -> tuple[Any, Any]:
        """Run the prompt; logits for the next token and the recurrent state."""
        logits, state = self(tensor([ids]))
        return logits._data[0, -1], state

    @no_grad()
    def step(self, token: int, state: Any) -> tuple[Any, Any]:
        """Feed one token; logits for the next one."""
        logits, state = self(tensor([[token]]), state)
        return logits._data[0, -1], state


class KVCache:
    """Keys and values of the positions seen so far, per layer: (N, heads, block, head_dim)."""

    def __init__(self, layers: int, batch: int, heads: int, block: int, head_dim: int,
                 dtype: Any) -> None:
        shape = (batch, heads, block, head_dim)
        self.keys = [np.zeros(shape, dtype=dtype) for _ in range(layers)]
        self.values = [np.zeros(shape, dtype=dtype) for _ in range(layers)]
        self.length = 0  # positions filled


class CausalSelfAttention(nn.Module):
    """Multi-head self-attention where position t sees positions <= t (fused SDPA)."""

    def __init__(self, n_embd: int, n_head: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.n_head, self.n_embd = n_head, n_embd
        self.qkv = nn.Linear(n_embd, 3 * n_embd)
        self.proj = nn.Linear(n_embd, n_embd)
        self.dropout = dropout
        self.resid_dropout = nn.Dropout(dropout)
        self.record_attention = False
        self.last_attention: Any = None

    def forward(self, x: Tensor, cache: KVCache | None = None, layer: int = 0) -> Tensor:
        """(N, T, C) -> (N, T, C); with a cache, x holds only the new positions."""
        n, t, c = x.shape
        hd = c // self.n_head
        qkv = self.qkv(x).reshape(n, t, 3, self.n_head, hd).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        past = 0
        if cache is not None:  # write the new keys/values in place, attend over all so far
            past = cache.length
            cache.keys[layer][:, :, past : past + t] = k._data
            cache.values[layer][:, :, past : past + t] = v._data
            k = Tensor._make(cache.keys[layer][:, :, : past + t], False, None)
            v = Tensor._make(cache.values[layer][:, :, : past + t], False, None)
        mask = None
        if past and t > 1:  # new queries see all the past and the new positions up to theirs
            allowed = np.tril(np.ones((t, past + t), dtype=bool), past)
            mask = tensor(allowed)
        causal = past == 0 and t > 1
        p = self.dropout if self.training else 0.0
        if self.record_attention:
            scores = q @ k.transpose(-2, -1) * (1.0 / math.sqrt(hd))
            if causal:
                allowed = np.tril(np.ones((t, t), dtype=bool))
                scores = scores.masked_fill(tensor(~allowed), -math.inf)
            self.last_attention = softmax(scores, dim=-1).detach().numpy()
        y = scaled_dot_product_attention(q, k, v, mask, dropout_p=p, is_causal=causal)
        y = y.transpose(1, 2).reshape(n, t, c)
        return self.resid_dropout(self.proj(y))


class Block(nn.Module):
    """Pre-norm Transformer block: x + attn(ln1(x)), then x + mlp(ln2(x)) (tanh GELU, as GPT-2)."""

    def __init__(self, n_embd: int, n_head: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(n_embd)
        self.attn = CausalSelfAttention(n_embd, n_head, dropout)
        self.ln2 = nn.LayerNorm(n_embd)
        self.mlp = nn.Sequential(nn.Linear(n_embd, 4 * n_embd), nn.GELU(approximate="tanh"),
                                 nn.Linear(4 * n_embd, n_embd), nn.Dropout(dropout))

    def forward(self, x: Tensor, cache: KVCache | None = None, layer: int = 0) -> Tensor:
        """(N, T, C) -> (N, T, C)."""
        x = x + self.attn(self.ln1(x), cache, layer)
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    """Decoder-only Transformer: token + learned position embeddings, pre-norm causal blocks,
    final LayerNorm, and an output head whose weight is the token embedding (weight tying).

    ids (N, T) with T <= block_size -> logits (N, T, vocab).
    """

    def __init__(self, vocab_size: int, block_size: int = 64, n_layer: int = 4,
                 n_head: int = 4, n_embd: int = 128, dropout: float = 0.0) -> None:
        super().__init__()
        if n_embd % n_head:
            raise ValueError(f"GPT: n_embd={n_embd} is not divisible by n_head={n_head}")
        self.config = {"model": "gpt", "vocab_size": vocab_size, "block_size": block_size,
                       "n_layer": n_layer, "n_head": n_head, "n_embd": n_embd,
                       "dropout": dropout}
        self.block_size = block_size
        self.tok_emb = nn.Embedding(vocab_size, n_embd)
        self.pos_emb = nn.Embedding(block_size, n_embd)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList([Block(n_embd, n_head, dropout) for _ in range(n_layer)])
        self.ln_f = nn.LayerNorm(n_embd)
        self.head = nn.Linear(n_embd, vocab_size, bias=False)
        self.head.weight = self.tok_emb.weight  # weight tying
        self._init_weights(n_layer)

    def _init_weights(self, n_layer: int) -> None:
        """N(0, 0.02) weights, zero biases; residual projections scaled by 1/sqrt(2 layers)."""
        for name, p in self.named_parameters():
            if name.endswith("bias"):
                nn.init.zeros_(p)
            elif p.ndim >= 2:
                std = 0.02 / math.sqrt(2 * n_layer) if name.endswith(("proj.weight",
                                                                       "mlp.2.weight")) else 0.02
                nn.init.normal_(p, 0.0, std)

    def forward(self, idx: Tensor, cache: KVCache | None = None) -> Tensor:
        """ids (N, T) -> logits (N, T, vocab); with a cache, ids are the new positions only."""
        n, t = idx.shape
        past = 0 if cache is None else cache.length
        if past + t > self.block_size:
            raise ValueError(f"GPT: {past + t} positions exceed block_size={self.block_size}")
        positions = tensor(np.arange(past, past + t), device=idx.device)
        x = self.drop(self.tok_emb(idx) + self.pos_emb(positions))
        for i, block in enumerate(self.blocks):
            x = block(x, cache, i)
        if cache is not None:
            cache.length += t
        return self.head(self.ln_f(x))

    def new_cache(self, batch: int = 1) -> KVCache:
        """An empty key/value cache for generation."""
        attn = self.blocks[0].attn
        return KVCache(len(self.blocks), batch, attn.n_head, self.block_size,
                       attn.n_embd // attn.n_head, self.tok_emb.weight._data.dtype)

    @no_grad()
    def start(self, ids: list[int]) -> tuple[Any, Any]:
        """Run the (cropped) prompt into a fresh cache; logits for the next token."""
        ids = list(ids)[-self.block_size :]
        cache = self.new_cache()
        logits = self(tensor([ids]), cache)
        return logits._data[0, -1], (cache, ids)

    @no_grad()
    def step(self, token: int, state: Any) -> tuple[Any, Any]:
        """Feed one token. When the window is full, the cache is rebuilt from the last half
        of the context (so a step costs one position, and a rebuild every block/2 steps)."""
        cache, ids = state
        ids = ids + [token]
        if cache.length >= self.block_size:
            return self.start(ids[-(self.block_size // 2) :])
        logits = self(tensor([[token]]), cache)
        return logits._data[0, -1], (cache, ids[-self.block_size :])

    @no_grad()
    def attention_maps(self, ids: list[int]) -> list[Any]:
        """Each layer's attention weights (heads, T, T) for the sequence `ids`."""
        was_training = self.training
        self.eval()
        attns = [block.attn for block in self.blocks]
        for a in attns:
            a.record_attention = True
        try:
            self(tensor([list(ids)[-self.block_size :]]))
            return [a.last_attention[0] for a in attns]
        finally:
            for a in attns:
                a.record_attention, a.last_attention = False, None
            self.train(was_training)


def build_model(config: dict) -> nn.Module:
    """A CharLSTM or GPT from its `config` dict (as stored in checkpoints)."""
    kind = config.get("model")
    args = {k: v for k, v in config.items() if k != "model"}
    if kind == "lstm":
        return CharLSTM(**args)
    if kind == "gpt":
        return GPT(**args)
    raise ValueError(f"unknown text model {kind!r}: expected 'lstm' or 'gpt'")
