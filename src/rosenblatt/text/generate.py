"""Sampling text from a character model: temperature, top-k, top-p, seeds and streaming."""

from __future__ import annotations

from typing import Any, Callable, Iterator

from .._backend import np
from ..random import Generator, gen
from .tokenizer import CharTokenizer


def sample_next(logits: Any, temperature: float = 1.0, top_k: int | None = None,
                top_p: float | None = None, rng: Any = None) -> int:
    """One token id from next-token logits (vocab,).

    temperature 0 (or top_k=1) is greedy; top_k keeps the k most likely tokens; top_p keeps
    the smallest set of most likely tokens whose probabilities sum to at least p.
    """
    logits = np.asarray(logits, dtype=np.float64)
    if temperature <= 0 or top_k == 1:
        return int(np.argmax(logits))
    logits = logits / temperature
    if top_k is not None and 0 < top_k < logits.size:
        kth = np.partition(logits, -top_k)[-top_k]
        logits = np.where(logits < kth, -np.inf, logits)
    probs = np.exp(logits - logits.max())
    probs /= probs.sum()
    if top_p is not None and 0 < top_p < 1:
        order = np.argsort(-probs, kind="stable")
        cumulative = np.cumsum(probs[order])
        cut = int(np.searchsorted(cumulative, top_p)) + 1  # keep through the crossing token
        kept = np.zeros_like(probs)
        kept[order[:cut]] = probs[order[:cut]]
        probs = kept / kept.sum()
    rng = rng if rng is not None else gen()
    cumulative = np.cumsum(probs)
    return int(min(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"),
                   probs.size - 1))


def stream(model: Any, tokenizer: CharTokenizer, prompt: str = "", max_new_tokens: int = 200,
           temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None,
           seed: int | None = None) -> Iterator[str]:
    """Yield generated characters one by one as they are sampled (the prompt not included).

    An empty prompt starts from a random vocabulary character (drawn with the same seed).
    """
    rng = Generator().manual_seed(seed).rng if seed is not None else gen()
    was_training = model.training
    model.eval()
    try:
        ids = tokenizer.encode(prompt) if prompt else [int(rng.integers(tokenizer.vocab_size))]
        logits, state = model.start(ids)
        for i in range(max_new_tokens):
            token = sample_next(logits, temperature, top_k, top_p, rng)
            yield tokenizer.decode([token])
            if i + 1 < max_new_tokens:
                logits, state = model.step(token, state)
    finally:
        model.train(was_training)


def generate(model: Any, tokenizer: CharTokenizer, prompt: str = "", max_new_tokens: int = 200,
             temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None,
             seed: int | None = None, callback: Callable[[str], Any] | None = None) -> str:
    """The prompt followed by `max_new_tokens` sampled characters; `callback(char)` sees each
    character as soon as it is produced (for printing while generating)."""
    out = [prompt]
    for ch in stream(model, tokenizer, prompt, max_new_tokens, temperature, top_k, top_p, seed):
        out.append(ch)
        if callback is not None:
            callback(ch)
    return "".join(out)
