"""Switches for recording the graph: no_grad, enable_grad, set_grad_enabled."""

from __future__ import annotations

import functools
import threading
from typing import Any, Callable, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


class _State(threading.local):
    """Autograd's switches, read on every op.

    Grad mode is per thread, as in PyTorch: a server thread inside no_grad must not switch
    recording off (or, on leaving, back on) for another thread. Anomaly detection is one
    switch for the whole process, also as in PyTorch: it lives on the class
    (`set_anomaly_switch`), which every thread reads through.
    """

    enabled = True
    anomaly = False


state = _State()


def set_anomaly_switch(mode: bool) -> None:
    """Turn anomaly detection on or off in every thread."""
    _State.anomaly = mode


def is_grad_enabled() -> bool:
    """True when ops record the graph for backward."""
    return state.enabled


class _GradMode:
    """A context manager and decorator that sets grad mode on entry and restores it."""

    mode = True

    def __enter__(self) -> None:
        self._previous = state.enabled
        state.enabled = self.mode

    def __exit__(self, *exc: object) -> None:
        state.enabled = self._previous

    def __call__(self, fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class no_grad(_GradMode):  # noqa: N801 - PyTorch's name
    """Do not record ops for backward inside this block (inference, parameter updates)."""

    mode = False


class enable_grad(_GradMode):  # noqa: N801 - PyTorch's name
    """Record ops for backward inside this block, even within no_grad."""

    mode = True


class set_grad_enabled(_GradMode):  # noqa: N801 - PyTorch's name
    """Turn recording on or off; works as a call, a context manager or a decorator."""

    def __init__(self, mode: bool) -> None:
        self.mode = mode
        self._previous = state.enabled
        state.enabled = mode

    def __enter__(self) -> None:
        pass

    def __call__(self, fn: F) -> F:
        state.enabled = self._previous
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class inference_mode(no_grad):  # noqa: N801 - PyTorch's name
    """Same as no_grad here (there is no separate inference tensor type)."""

    def __init__(self, mode: bool = True) -> None:
        self.mode = not mode
