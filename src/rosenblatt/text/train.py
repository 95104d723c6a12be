"""Training character models: TBPTT for the LSTM, random windows for the GPT, AdamW with
warm-up + cosine decay, gradient clipping, periodic validation, samples and best checkpoint.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from .. import nn
from .._backend import np
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from ..nn import functional as F
from ..nn.utils import clip_grad_norm_
from ..optim import AdamW
from ..optim.lr_scheduler import LambdaLR
from ..random import manual_seed
from .data import CharWindowDataset, split_text, stream_batches
from .generate import generate
from .models import GPT, CharLSTM, build_model
from .tokenizer import CharTokenizer


def warmup_cosine(step: int, warmup: int, total: int, min_ratio: float = 0.1) -> float:
    """LR multiplier: linear warm-up over `warmup` steps, then cosine decay to `min_ratio`."""
    if step < warmup:
        return (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))


@dataclass
class TrainConfig:
    """What `train_text` does; the CLI fills it from its flags."""

    model: str = "lstm"
    steps: int = 2000
    minutes: float | None = None  # stop after this much wall time even if steps remain
    batch_size: int = 32
    seq_len: int = 64
    lr: float = 3e-3
    weight_decay: float = 0.0
    warmup: int = 100
    clip: float = 1.0
    eval_every: int = 200
    eval_batches: int = 20
    sample_every: int = 500
    sample_chars: int = 200
    seed: int = 0
    checkpoint: str | None = None
    model_args: dict = field(default_factory=dict)


def make_model(kind: str, vocab_size: int, seq_len: int, model_args: dict) -> nn.Module:
    """A CharLSTM or GPT with `model_args` overriding the defaults."""
    if kind == "lstm":
        return CharLSTM(vocab_size, **model_args)
    if kind == "gpt":
        return GPT(vocab_size, **{"block_size": seq_len, **model_args})
    raise ValueError(f"unknown model {kind!r}: expected 'lstm' or 'gpt'")


def _loss(model: nn.Module, x: Tensor, y: Tensor, state: Any = None) -> tuple[Tensor, Any]:
    """Mean next-character cross-entropy of a (B, T) batch, and the LSTM's new state."""
    if isinstance(model, CharLSTM):
        logits, state = model(x, state)
    else:
        logits = model(x)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1)), state


def _detach(state: Any) -> Any:
    return None if state is None else tuple(s.detach() for s in state)


def _lstm_batches(ids: list[int], cfg: TrainConfig, rng: Any) -> Iterator[tuple]:
    """Endless TBPTT batches; yields (x, y, new_epoch) where new_epoch resets the state."""
    while True:
        offset = int(rng.integers(cfg.seq_len))
        first = True
        for x, y in stream_batches(ids, cfg.batch_size, cfg.seq_len, offset):
            yield x, y, first
            first = False


def _gpt_batches(ids: list[int], cfg: TrainConfig, rng: Any) -> Iterator[tuple]:
    data = CharWindowDataset(ids, cfg.seq_len)
    while True:
        x, y = data.random_batch(cfg.batch_size, rng)
        yield x, y, True


@no_grad()
def evaluate(model: nn.Module, ids: list[int], cfg: TrainConfig) -> float:
    """Mean validation loss over up to `eval_batches` batches (the same ones every time)."""
    was_training = model.training
    model.eval()
    losses = []
    try:
        if isinstance(model, CharLSTM):
            batch = max(1, min(cfg.batch_size, (len(ids) - 1) // cfg.seq_len))
            state = None
            for k, (x, y) in enumerate(stream_batches(ids, batch, cfg.seq_len)):
                if k >= cfg.eval_batches:
                    break
                loss, state = _loss(model, x, y, state)
                losses.append(float(loss))
        else:
            data = CharWindowDataset(ids, cfg.seq_len)
            rng = np.random.default_rng(1234)
            for _ in range(cfg.eval_batches):
                x, y = data.random_batch(cfg.batch_size, rng)
                losses.append(float(_loss(model, x, y)[0]))
    finally:
        model.train(was_training)
    return float(np.mean(losses))


def save_checkpoint(path: str | Path, model: nn.Module, tokenizer: CharTokenizer,
                    **extra: Any) -> None:
    """Weights, model config and tokenizer in one file (rosenblatt.save, safetensors)."""
    from ..serialization import save

    save({"model": model.state_dict(), "config": dict(model.config),
          "tokenizer": tokenizer.to_json(), **extra}, path)


def load_checkpoint(path: str | Path) -> tuple[nn.Module, CharTokenizer, dict]:
    """(model in eval mode, tokenizer, the whole checkpoint dict) from `save_checkpoint`."""
    from ..serialization import load

    ckpt = load(path)
    model = build_model(ckpt["config"])
    model.load_state_dict(ckpt["model"])
    model.eval()
    return model, CharTokenizer.from_json(ckpt["tokenizer"]), ckpt


def train_text(text: str, cfg: TrainConfig, log: Callable[[str], Any] = print,
               progress: bool = True) -> dict:
    """Train a character model on `text` (90/10 train/validation split).

    Returns {"model", "tokenizer", "history": [(step, train_loss, val_loss)], "best_val"}.
    The best model by validation loss is saved to cfg.checkpoint when given.
    """
    manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    tokenizer = CharTokenizer.from_text(text)
    train_part, val_part = split_text(text)
    train_ids, val_ids = tokenizer.encode(train_part), tokenizer.encode(val_part)
    model = make_model(cfg.model, tokenizer.vocab_size, cfg.seq_len, cfg.model_args)
    optimizer = AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    # with a time budget, the cosine's length follows the steps that fit in it
    horizon = [cfg.steps]
    scheduler = LambdaLR(optimizer, lambda s: warmup_cosine(s, cfg.warmup, horizon[0]))
    batches = (_lstm_batches if cfg.model == "lstm" else _gpt_batches)(train_ids, cfg, rng)
    bar = None
    if progress and sys.stderr.isatty():  # redirected output: the eval lines only
        from tqdm import tqdm

        bar = tqdm(total=cfg.steps, desc=f"text {cfg.model}", dynamic_ncols=True)
    history: list[tuple[int, float, float | None]] = []
    best = math.inf
    state = None
    start = time.perf_counter()
    chars = 0
    smooth = None
    model.train()
    for step in range(cfg.steps):
        x, y, reset = next(batches)
        if reset:
            state = None
        loss, state = _loss(model, x, y, _detach(state))
        optimizer.zero_grad()
        loss.backward()
        if cfg.clip:
            clip_grad_norm_(model.parameters(), cfg.clip)
        optimizer.step()
        scheduler.step()
        chars += x.numel()
        value = float(loss)
        smooth = value if smooth is None else 0.95 * smooth + 0.05 * value
        elapsed = time.perf_counter() - start
        if cfg.minutes and step >= 10:
            horizon[0] = min(cfg.steps, int((step + 1) * cfg.minutes * 60 / elapsed))
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{smooth:.3f}", chars_s=f"{chars / elapsed:,.0f}")
        last = step + 1 == cfg.steps or (cfg.minutes and elapsed > cfg.minutes * 60)
        val = None
        if (step + 1) % cfg.eval_every == 0 or last:
            val = evaluate(model, val_ids, cfg)
            msg = f"step {step + 1}: train loss {smooth:.4f}, val loss {val:.4f}"
            if val < best:
                best = val
                if cfg.checkpoint:
                    save_checkpoint(cfg.checkpoint, model, tokenizer, step=step + 1,
                                    val_loss=val, train=asdict(cfg))
                    msg += f" (saved {cfg.checkpoint})"
            _write(bar, log, msg)
        history.append((step + 1, value, val))
        if cfg.sample_every and (step + 1) % cfg.sample_every == 0:
            prompt = val_part[:1] or text[:1]
            sample = generate(model, tokenizer, prompt, cfg.sample_chars, temperature=0.8,
                              seed=cfg.seed + step)
            _write(bar, log, f"--- sample at step {step + 1} ---\n{sample}\n---")
        if last:
            break
    if bar is not None:
        bar.close()
    return {"model": model, "tokenizer": tokenizer, "history": history, "best_val": best,
            "seconds": time.perf_counter() - start}


def _write(bar: Any, log: Callable[[str], Any], msg: str) -> None:
    if bar is not None:
        bar.write(msg)
    else:
        log(msg)
