"""Sequence models side by side with PyTorch on the CPU: same sizes, same weights, same threads.

LSTM language model (vocab 65, embedding 64, hidden 256, 2 layers, seq 64, batch 32) and a
GPT (4 layers, 4 heads, width 128, context 64, batch 32): one Adam training step each (the
GPT with F.scaled_dot_product_attention and with the attention written out as a user
writes it, in both libraries), GPT generation of 500 characters and one decode step under
no_grad (KV cache in both), and the peak memory of the GPT's first training steps (fresh
process). Prints medians and the median of per-round ratios (rosenblatt / torch, the two
alternating; lower is better).

    python benchmarks/bench_seq.py [--threads 1] [--repeats 7]
        [--only lstm,gpt,gpt_written,gen,decode,memory]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import statistics
import sys
import time
from typing import Iterator
from unittest import mock

from common import THREADS as _THREADS  # noqa: F401 - imported first: pins BLAS threads
from common import interleaved, memory_child, parse_repeats, repeats_parser, step_peak_bytes

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as tnn  # noqa: E402
import torch.nn.functional as tF  # noqa: E402

import rosenblatt as rb  # noqa: E402
from rosenblatt.nn import functional as F  # noqa: E402
from rosenblatt.text import models as text_models  # noqa: E402
from rosenblatt.text.generate import sample_next  # noqa: E402
from rosenblatt.text.models import GPT, CharLSTM  # noqa: E402

VOCAB, SEQ, BATCH = 65, 64, 32
attention = tF.scaled_dot_product_attention  # TorchBlock's; _written_out() swaps it


def paired_times(ours, theirs, repeats: int, warmup: int = 2) -> tuple[float, float, float]:
    """Median seconds of each and the median of per-round ratios.

    The two run alternately, one round at a time, so a busy machine slows both alike; the
    ratio of each round is taken before the median, which makes it steadier than a ratio
    of medians measured minutes apart.
    """
    for _ in range(warmup):
        ours()
        theirs()
    a, b = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        ours()
        middle = time.perf_counter()
        theirs()
        a.append(middle - start)
        b.append(time.perf_counter() - middle)
    ratios = [x / y for x, y in zip(a, b)]
    return statistics.median(a), statistics.median(b), statistics.median(ratios)


def copy_into_torch(ours: rb.nn.Module, theirs: tnn.Module) -> None:
    """Give the torch model our weights (the parameter names are the same)."""
    state = {k: torch.from_numpy(np.array(v.numpy())) for k, v in ours.state_dict().items()}
    theirs.load_state_dict(state)


class TorchCharLSTM(tnn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embedding = tnn.Embedding(VOCAB, 64)
        self.lstm = tnn.LSTM(64, 256, 2, batch_first=True)
        self.head = tnn.Linear(256, VOCAB)

    def forward(self, idx, state=None):
        out, state = self.lstm(self.embedding(idx), state)
        return self.head(out), state


class TorchBlock(tnn.Module):
    def __init__(self, c: int, heads: int) -> None:
        super().__init__()
        self.ln1 = tnn.LayerNorm(c)
        self.attn = tnn.Module()
        self.attn.qkv = tnn.Linear(c, 3 * c)
        self.attn.proj = tnn.Linear(c, c)
        self.ln2 = tnn.LayerNorm(c)
        self.mlp = tnn.Sequential(tnn.Linear(c, 4 * c), tnn.GELU(approximate="tanh"),
                                  tnn.Linear(4 * c, c), tnn.Dropout(0.0))
        self.heads = heads

    def forward(self, x, cache=None, layer=0):
        n, t, c = x.shape
        h = self.ln1(x)
        q, k, v = self.attn.qkv(h).reshape(n, t, 3, self.heads, c // self.heads) \
            .permute(2, 0, 3, 1, 4)
        past = 0
        if cache is not None:
            past = cache["length"]
            cache["k"][layer][:, :, past : past + t] = k
            cache["v"][layer][:, :, past : past + t] = v
            k = cache["k"][layer][:, :, : past + t]
            v = cache["v"][layer][:, :, : past + t]
        y = attention(q, k, v, is_causal=past == 0 and t > 1)
        x = x + self.attn.proj(y.transpose(1, 2).reshape(n, t, c))
        return x + self.mlp(self.ln2(x))


class TorchGPT(tnn.Module):
    def __init__(self, layers=4, heads=4, width=128) -> None:
        super().__init__()
        self.tok_emb = tnn.Embedding(VOCAB, width)
        self.pos_emb = tnn.Embedding(SEQ, width)
        self.drop = tnn.Dropout(0.0)
        self.blocks = tnn.ModuleList([TorchBlock(width, heads) for _ in range(layers)])
        self.ln_f = tnn.LayerNorm(width)
        self.head = tnn.Linear(width, VOCAB, bias=False)
        self.head.weight = self.tok_emb.weight
        self.heads, self.width = heads, width

    def forward(self, idx, cache=None):
        t = idx.shape[1]
        past = 0 if cache is None else cache["length"]
        x = self.tok_emb(idx) + self.pos_emb(torch.arange(past, past + t))
        for i, b in enumerate(self.blocks):
            x = b(x, cache, i)
        if cache is not None:
            cache["length"] += t
        return self.head(self.ln_f(x))


def written_out_attention(q, k, v, attn_mask=None, dropout_p: float = 0.0,
                          is_causal: bool = False):
    """Causal attention as a user writes it, in q's library: softmax(q k^T / sqrt(E),
    future keys masked) v; (N, H, T, E) x3 -> (N, H, T, E)."""
    if attn_mask is not None or dropout_p:
        raise ValueError("written_out_attention: only is_causal, no mask or dropout")
    lib = torch if isinstance(q, torch.Tensor) else rb
    scores = q @ k.transpose(-2, -1) * (1.0 / math.sqrt(q.shape[-1]))
    if is_causal:
        t, s = scores.shape[-2:]
        future = lib.tensor(~np.tril(np.ones((t, s), dtype=bool)))
        scores = scores.masked_fill(future, -math.inf)
    return scores.softmax(dim=-1) @ v


@contextlib.contextmanager
def _written_out() -> Iterator[None]:
    """Both GPTs (ours and TorchBlock) attend with written_out_attention inside."""
    with mock.patch.object(text_models, "scaled_dot_product_attention", written_out_attention), \
            mock.patch.dict(globals(), attention=written_out_attention):
        yield


def _step_fns(ours: rb.nn.Module, theirs: tnn.Module, logits_of=lambda out: out) -> tuple:
    """(our step, torch's step): one Adam step of next-character prediction on one batch."""
    x = np.random.default_rng(0).integers(0, VOCAB, (BATCH, SEQ + 1))

    def step_of(model, lib, functional):
        inputs, targets = lib.tensor(x[:, :-1]), lib.tensor(x[:, 1:])
        opt = lib.optim.Adam(model.parameters(), lr=1e-3)

        def step():
            logits = logits_of(model(inputs))
            loss = functional.cross_entropy(logits.reshape(-1, VOCAB), targets.reshape(-1))
            opt.zero_grad()
            loss.backward()
            opt.step()

        return step

    return step_of(ours, rb, F), step_of(theirs, torch, tF)


def _training_steps(ours: rb.nn.Module, theirs: tnn.Module, repeats: int,
                    logits_of=lambda out: out) -> tuple[float, float]:
    """Time one Adam step of next-character prediction on the same batch in both libraries."""
    return paired_times(*_step_fns(ours, theirs, logits_of), repeats)


def bench_lstm(repeats: int) -> tuple[float, float]:
    rb.manual_seed(0)
    ours = CharLSTM(VOCAB, 64, 256, 2)
    theirs = TorchCharLSTM()
    copy_into_torch(ours, theirs)
    return _training_steps(ours, theirs, repeats, logits_of=lambda out: out[0])


def _gpt_pair() -> tuple[GPT, TorchGPT]:
    rb.manual_seed(0)
    ours = GPT(VOCAB, block_size=SEQ, n_layer=4, n_head=4, n_embd=128)
    theirs = TorchGPT()
    copy_into_torch(ours, theirs)
    return ours, theirs


def bench_gpt(repeats: int) -> tuple[float, float]:
    return _training_steps(*_gpt_pair(), repeats)


def bench_gpt_written(repeats: int) -> tuple[float, float]:
    """The GPT train step with the attention written out (matmul, mask, softmax, matmul)."""
    with _written_out():
        return bench_gpt(repeats)


def _torch_cache() -> dict:
    """An empty KV cache for TorchGPT, batch 1."""
    return {"length": 0, "k": [torch.zeros(1, 4, SEQ, 32) for _ in range(4)],
            "v": [torch.zeros(1, 4, SEQ, 32) for _ in range(4)]}


def bench_decode(quick: bool) -> dict:
    """One decode step under no_grad: one new token attends over SEQ - 1 cached positions
    (KV cache in both); seconds per step per round."""
    ours, theirs = _gpt_pair()
    ours.eval()
    theirs.eval()
    context = [[i % VOCAB for i in range(SEQ - 1)]]
    cache, tcache = ours.new_cache(), _torch_cache()
    with rb.no_grad(), torch.no_grad():
        ours(rb.tensor(context), cache)
        theirs(torch.tensor(context), tcache)

    def step_ours() -> None:
        cache.length = SEQ - 1
        with rb.no_grad():
            ours(rb.tensor([[7]]), cache)

    def step_torch() -> None:
        tcache["length"] = SEQ - 1
        with torch.no_grad():
            theirs(torch.tensor([[7]]), tcache)

    return interleaved({"rosenblatt": step_ours, "torch": step_torch}, 20 if quick else 100,
                       5 if quick else 15)


def measure_memory(framework: str) -> int:
    """Peak resident-set growth (bytes) during the GPT's first 3 training steps."""
    step_ours, step_torch = _step_fns(*_gpt_pair())
    return step_peak_bytes(step_ours if framework == "rosenblatt" else step_torch, 3)


def bench_generation(repeats: int, chars: int = 500) -> tuple[float, float]:
    """Sample `chars` tokens one at a time with a KV cache (window rebuilt when full)."""
    ours, theirs = _gpt_pair()
    ours.eval()
    theirs.eval()
    prompt = list(range(10))

    def gen_ours():
        rng = np.random.default_rng(0)
        logits, state = ours.start(prompt)
        for _ in range(chars):
            token = sample_next(logits, 0.8, None, None, rng)
            logits, state = ours.step(token, state)

    def torch_start(ids):
        cache = _torch_cache()
        return theirs(torch.tensor([ids]), cache)[0, -1], (cache, ids)

    @torch.no_grad()
    def gen_torch():
        gen = torch.Generator().manual_seed(0)
        logits, (cache, ids) = torch_start(prompt)
        for _ in range(chars):
            probs = torch.softmax(logits / 0.8, dim=-1)
            token = int(torch.multinomial(probs, 1, generator=gen))
            ids = ids + [token]
            if cache["length"] >= SEQ:
                logits, (cache, ids) = torch_start(ids[-(SEQ // 2) :])
            else:
                logits = theirs(torch.tensor([[token]]), cache)[0, -1]
                ids = ids[-SEQ:]

    return paired_times(gen_ours, gen_torch, repeats, 1)


def _decode_row(quick: bool) -> tuple[float, float, float]:
    times = bench_decode(quick)
    ratios = [a / b for a, b in zip(times["rosenblatt"], times["torch"])]
    return (statistics.median(times["rosenblatt"]), statistics.median(times["torch"]),
            statistics.median(ratios))


def _memory_row() -> tuple[float, float, float]:
    """Each framework's first GPT steps in a fresh process of its own: bytes of peak growth."""
    ours, theirs = memory_child(__file__, "rosenblatt"), memory_child(__file__, "torch")
    return ours, theirs, ours / theirs


def main() -> int:
    parser = repeats_parser(__doc__, "lstm,gpt,gpt_written,gen,decode,memory")
    parser.add_argument("--memory-child", default=None, help=argparse.SUPPRESS)
    args = parse_repeats(parser)
    torch.set_num_threads(args.threads)
    if args.memory_child:
        print(json.dumps({"bytes": measure_memory(args.memory_child)}))
        return 0
    rows = {  # name: (label, unit per second or byte, -> (ours, theirs, ratio))
        "lstm": ("LSTM 2x256 train step (B32 T64), ms", 1e3, lambda: bench_lstm(args.repeats)),
        "gpt": ("GPT 4L/4H/128 train step, SDPA, ms", 1e3, lambda: bench_gpt(args.repeats)),
        "gpt_written": ("GPT train step, attention written out, ms", 1e3,
                        lambda: bench_gpt_written(args.repeats)),
        "gen": ("GPT generate 500 chars, ms", 1e3,
                lambda: bench_generation(max(3, args.repeats // 2))),
        "decode": ("GPT decode step, 1 token, context 63, us", 1e6,
                   lambda: _decode_row(args.quick)),
        "memory": ("GPT first 3 train steps, peak memory, MiB", 2.0 ** -20, _memory_row),
    }
    print(f"threads={args.threads}  torch {torch.__version__}  numpy {np.__version__}")
    print(f"{'benchmark':44s} {'rosenblatt':>10s} {'torch':>10s} {'ratio':>7s}")
    for key in args.only.split(","):
        label, scale, run = rows[key]
        ours, theirs, ratio = run()
        print(f"{label:44s} {ours * scale:10.1f} {theirs * scale:10.1f} {ratio:7.2f}",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
