"""`torch.jit`: scripting and tracing as documented pass-throughs (the code runs eagerly, with
the same results); saving or loading TorchScript archives is not there and raises.
"""

from __future__ import annotations

from typing import Any, Callable, NoReturn

__all__ = ["script", "trace", "ignore", "unused", "export", "is_scripting", "is_tracing",
           "save", "load"]


def script(obj: Any, *args: Any, **kwargs: Any) -> Any:
    """obj itself: a function or module runs eagerly (no TorchScript compilation)."""
    return obj


def trace(func: Any, example_inputs: Any = None, *args: Any, **kwargs: Any) -> Any:
    """func itself: no graph is recorded, the function or module runs eagerly."""
    return func


def ignore(drop: Any = False, **kwargs: Any) -> Any:
    """Decorator leaving a function as it is (`@torch.jit.ignore` or `@ignore(drop=True)`)."""
    return drop if callable(drop) else (lambda fn: fn)


def unused(fn: Callable) -> Callable:
    """Decorator leaving a function as it is."""
    return fn


def export(fn: Callable) -> Callable:
    """Decorator leaving a method as it is."""
    return fn


def is_scripting() -> bool:
    """False: code never runs as TorchScript here."""
    return False


def is_tracing() -> bool:
    """False: no tracer runs."""
    return False


def _missing(name: str) -> NoReturn:
    raise NotImplementedError(f"torch.jit.{name}: Rosenblatt does not read or write TorchScript "
                              "archives; save a state_dict (or the module) with torch.save")


def save(m: Any, f: Any, *args: Any, **kwargs: Any) -> None:
    """Raises: no TorchScript archives."""
    _missing("save")


def load(f: Any, *args: Any, **kwargs: Any) -> Any:
    """Raises: no TorchScript archives."""
    _missing("load")
