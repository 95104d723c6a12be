"""`torch.compile`: a module comes back wrapped in an `OptimizedModule` (as in PyTorch) whose
no-grad calls run a captured plan of the ops' array kernels (see `rosenblatt._compile`); a
plain function comes back unchanged (it runs eagerly). As a function or as a decorator, with
PyTorch's arguments, so PyTorch 2 programs run unchanged."""

from __future__ import annotations

from typing import Any, Callable

__all__ = ["OptimizedModule", "compile"]  # noqa: F822 - OptimizedModule: see __getattr__


def __getattr__(name: str) -> Any:
    if name == "OptimizedModule":  # loaded on first use: `import rosenblatt` stays lean
        from ._compile.optimized import OptimizedModule

        return OptimizedModule
    raise AttributeError(f"module 'rosenblatt.compiler' has no attribute '{name}'")


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
    """`model` compiled: a module as an OptimizedModule, a function unchanged (also with
    `disable`); with no model, a decorator that compiles what it decorates. `dynamic=True`:
    one plan for every batch size (see `OptimizedModule`)."""
    if mode is not None and options is not None:
        # PyTorch rejects this combination too: a program that passes it would fail there
        raise RuntimeError("Either mode or options can be specified, but both can't be specified "
                           "at the same time.")
    if model is None:
        return lambda fn: compile(fn, disable=disable, recompile_limit=recompile_limit,
                                  dynamic=dynamic)
    if not callable(model):
        # PyTorch's exception type, so code that catches it behaves the same
        raise AssertionError(f"A callable function is expected, but {type(model)} is provided.")
    from .nn.modules.module import Module

    if disable or not isinstance(model, Module):
        return model
    from ._compile.optimized import OptimizedModule

    return OptimizedModule(model, 8 if recompile_limit is None else recompile_limit,
                           dynamic=bool(dynamic))
