"""`torch.utils.checkpoint`: activation checkpointing as a pass-through - the function runs
once and keeps its activations (same values and gradients; the memory is not traded)."""

from __future__ import annotations

from typing import Any, Callable, Sequence

__all__ = ["checkpoint", "checkpoint_sequential"]


def checkpoint(function: Callable, *args: Any, use_reentrant: bool | None = None,
               **kwargs: Any) -> Any:
    """function(*args, **kwargs), with its activations kept (no recomputation)."""
    for name in ("context_fn", "determinism_check", "debug", "preserve_rng_state"):
        kwargs.pop(name, None)
    return function(*args, **kwargs)


def checkpoint_sequential(functions: Any, segments: int, input: Any,  # noqa: A002
                          use_reentrant: bool | None = None, **kwargs: Any) -> Any:
    """The layers of a Sequential (or a list of callables) applied in turn to input."""
    layers: Sequence[Callable] = list(functions.children()) if hasattr(functions, "children") \
        else list(functions)
    out = input
    for layer in layers:
        out = layer(out)
    return out
