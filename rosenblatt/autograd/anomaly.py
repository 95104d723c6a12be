"""Anomaly detection: stop at the first NaN/inf, naming the op that made it."""

from __future__ import annotations

from .grad_mode import state


def set_detect_anomaly(mode: bool) -> None:
    """Turn anomaly detection on or off for the whole process."""
    state.anomaly = bool(mode)


def is_anomaly_enabled() -> bool:
    """True while anomaly detection is on."""
    return state.anomaly


class detect_anomaly:  # noqa: N801 - PyTorch's name
    """Within this block every op checks its output (and backward its gradients) for NaN/inf."""

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan

    def __enter__(self) -> None:
        self._previous = state.anomaly
        state.anomaly = self.check_nan

    def __exit__(self, *exc: object) -> None:
        state.anomaly = self._previous
