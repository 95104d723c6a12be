"""Anomaly detection: stop at the first NaN/inf, naming the op that made it."""

from __future__ import annotations

from .grad_mode import set_anomaly_switch, state


def set_detect_anomaly(mode: bool) -> None:
    """Turn anomaly detection on or off for the whole process."""
    set_anomaly_switch(bool(mode))


def is_anomaly_enabled() -> bool:
    """True while anomaly detection is on."""
    return state.anomaly


class detect_anomaly:  # noqa: N801 - PyTorch's name
    """Within this block every op checks its output (and backward its gradients) for NaN/inf."""

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan

    def __enter__(self) -> None:
        self._previous = state.anomaly
        set_anomaly_switch(self.check_nan)

    def __exit__(self, *exc: object) -> None:
        set_anomaly_switch(self._previous)
