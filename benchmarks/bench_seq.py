"""Sequence models side by side with PyTorch on the CPU: same sizes, same weights, same threads.

LSTM language model (vocab 65, embedding 64, hidden 256, 2 layers, seq 64, batch 32) and a
GPT (4 layers, 4 heads, width 128, context 64, batch 32): one Adam training step each, and
GPT generation of 500 characters (KV cache in both). Prints medians and the median of
per-round ratios (rosenblatt / torch, the two alternating; lower is better, goal <= 1.5).

    python benchmarks/bench_seq.py [--threads 1] [--repeats 7] [--only lstm,gpt,gen]
"""

from __future__ import annotations

import statistics
import sys
import time

from common import THREADS as _THREADS  # noqa: F401 - imported first: pins BLAS threads
from common import parse_repeats, repeats_parser

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as tnn  # noqa: E402
import torch.nn.functional as tF  # noqa: E402

import rosenblatt as rb  # noqa: E402
from rosenblatt.nn import functional as F  # noqa: E402
from rosenblatt.text.generate import sample_next  # noqa: E402
from rosenblatt.text.models import GPT, CharLSTM  # noqa: E402

VOCAB, SEQ, BATCH = 65, 64, 32


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
        y = tF.scaled_dot_product_attention(q, k, v, is_causal=past == 0 and t > 1)
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


def _training_steps(ours: rb.nn.Module, theirs: tnn.Module, repeats: int,
                    logits_of=lambda out: out) -> tuple[float, float]:
    """Time one Adam step of next-character prediction on the same batch in both libraries."""
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

    return paired_times(step_of(ours, rb, F), step_of(theirs, torch, tF), repeats)


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
        cache = {"length": 0,
                 "k": [torch.zeros(1, 4, SEQ, 32) for _ in range(4)],
                 "v": [torch.zeros(1, 4, SEQ, 32) for _ in range(4)]}
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


def main() -> int:
    args = parse_repeats(repeats_parser(__doc__, "lstm,gpt,gen"))
    torch.set_num_threads(args.threads)
    which = set(args.only.split(","))
    rows = []
    if "lstm" in which:
        rows.append(("LSTM 2x256 train step (B32 T64)", *bench_lstm(args.repeats)))
    if "gpt" in which:
        rows.append(("GPT 4L/4H/128 train step (B32 T64)", *bench_gpt(args.repeats)))
    if "gen" in which:
        rows.append(("GPT generate 500 chars", *bench_generation(max(3, args.repeats // 2))))
    print(f"threads={args.threads}  torch {torch.__version__}  numpy {np.__version__}")
    print(f"{'benchmark':40s} {'rosenblatt':>12s} {'torch':>12s} {'ratio':>7s}")
    for name, ours, theirs, ratio in rows:
        print(f"{name:40s} {ours * 1e3:10.1f}ms {theirs * 1e3:10.1f}ms {ratio:7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
