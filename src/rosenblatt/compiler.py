"""`torch.compile` without a compiler: rosenblatt runs every op eagerly on NumPy, so
compiling is the identity. It exists so PyTorch 2 programs that call `torch.compile`
(as a function or as a decorator) run unchanged."""

from __future__ import annotations

from typing import Any, Callable


def compile(  # noqa: A001 - PyTorch's name
    model: Callable[..., Any] | None = None,
    *,
    fullgraph: bool = False,
    dynamic: bool | None = None,
    backend: str | Callable[..., Any] | None = None,
    mode: str | None = None,
    options: dict[str, Any] | None = None,
    name: str | None = None,
    disable: bool = False,
    recompile_limit: int | None = None,
    isolate_recompiles: bool = False,
    shapes_spec: Any = None,
) -> Any:
    """Return `model` (a module or function) unchanged; with no model, a decorator that does."""
    if mode is not None and options is not None:
        # PyTorch rejects this combination too: a program that passes it would fail there
        raise RuntimeError("Either mode or options can be specified, but both can't be specified "
                           "at the same time.")
    if model is None:
        return lambda fn: fn
    if not callable(model):
        # PyTorch's exception type, so code that catches it behaves the same
        raise AssertionError(f"A callable function is expected, but {type(model)} is provided.")
    return model
