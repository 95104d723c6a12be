"""A live progress bar for one epoch: loss, accuracy, samples/s and ETA (tqdm, loaded lazily).

Without tqdm installed, with `enabled=False`, or when the output is not a terminal, the bar
is silent; the trainer still prints one plain summary line per epoch.
"""

from __future__ import annotations

import sys
import time
from typing import Any


class ProgressBar:
    """Progress over the batches of one epoch; `update` after each batch, `close` at the end."""

    def __init__(self, total: int | None, desc: str, enabled: bool = True,
                 file: Any = None, min_interval: float = 0.1) -> None:
        self.samples = 0
        self.start = time.perf_counter()
        self._last_postfix = 0.0
        self._min_interval = min_interval
        self._bar: Any = None
        stream = file or sys.stderr
        # redirected output (a log file, CI) gets no bar: its carriage-return updates would
        # leave a stuck line per epoch there; the trainer's plain epoch line says it all
        if enabled and getattr(stream, "isatty", lambda: False)():
            try:
                from tqdm import tqdm
            except ImportError:
                return
            self._bar = tqdm(total=total, desc=desc, unit="batch", leave=False,
                             dynamic_ncols=True, file=stream, mininterval=min_interval)

    @property
    def rate(self) -> float:
        """Samples per second since the bar started."""
        return self.samples / max(time.perf_counter() - self.start, 1e-9)

    def update(self, batch_size: int, **metrics: float) -> None:
        """Count one batch of `batch_size` samples and show the running metrics."""
        self.samples += batch_size
        if self._bar is None:
            return
        self._bar.update(1)
        now = time.perf_counter()
        if now - self._last_postfix >= self._min_interval:
            self._last_postfix = now
            self._bar.set_postfix_str(_fmt(metrics, self.rate), refresh=False)

    def close(self, **metrics: float) -> None:
        """Show the final metrics of the epoch and close the bar."""
        if self._bar is not None:
            self._bar.set_postfix_str(_fmt(metrics, self.rate), refresh=False)
            self._bar.close()

    def write(self, text: str) -> None:
        """Print a line without breaking the bar."""
        if self._bar is not None:
            self._bar.write(text, file=self._bar.fp)
        else:
            print(text, file=sys.stderr)


def _fmt(metrics: dict, rate: float) -> str:
    parts = []
    for key, value in metrics.items():
        if value is None:
            continue
        parts.append(f"{key}={value:.4f}" if "acc" not in key else f"{key}={value:.2%}")
    parts.append(f"{rate:,.0f} samples/s")
    return ", ".join(parts)
