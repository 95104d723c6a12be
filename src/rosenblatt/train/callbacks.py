"""Callbacks: small objects the `Trainer` calls at fixed points of training.

Each hook gets the trainer; `on_epoch_end` also gets the epoch's record (a dict with
epoch, train_loss, train_acc, val_loss, val_acc, lr, seconds). A callback with state that
must survive a resume (early stopping's best value and patience count) implements
`state_dict`/`load_state_dict`; the trainer stores it in the checkpoint.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import time
from pathlib import Path
from typing import Any


class Callback:
    """Base class: override the hooks you need."""

    def on_fit_start(self, trainer: Any) -> None:
        """Before the first epoch (also when resuming)."""

    def on_epoch_start(self, trainer: Any, epoch: int) -> None:
        """Before the training batches of `epoch` (1-based)."""

    def on_batch_end(self, trainer: Any, step: int, loss: float) -> None:
        """After an optimizer step; `step` counts steps since the start of training."""

    def on_epoch_end(self, trainer: Any, record: dict) -> None:
        """After validation; `record` is the epoch's line of history."""

    def on_fit_end(self, trainer: Any) -> None:
        """After the last epoch, early stopping or a stop for a non-finite loss."""

    def state_dict(self) -> dict:
        """What must be kept in a checkpoint to resume exactly."""
        return {}

    def load_state_dict(self, state: dict) -> None:
        """Restore `state_dict()`."""


def _mode_for(monitor: str, mode: str) -> str:
    if mode != "auto":
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min', 'max' or 'auto', got {mode!r}")
        return mode
    return "max" if "acc" in monitor else "min"


class Monitor:
    """Tracks the best value of one metric of the history (min for losses, max for accuracies)."""

    def __init__(self, monitor: str = "val_loss", mode: str = "auto", min_delta: float = 0.0):
        self.monitor = monitor
        self.mode = _mode_for(monitor, mode)
        self.min_delta = abs(min_delta)
        self.best: float | None = None
        self.best_epoch: int | None = None

    def value(self, record: dict) -> float:
        """The monitored value in this record (KeyError naming the choices if missing)."""
        if record.get(self.monitor) is None:
            keys = sorted(k for k, v in record.items() if isinstance(v, float))
            raise KeyError(f"monitored metric {self.monitor!r} is not in the history; "
                           f"choose one of {keys}")
        return float(record[self.monitor])

    def improved(self, record: dict) -> bool:
        """Update the best value; True when this record beats it by more than min_delta."""
        value = self.value(record)
        if math.isnan(value):
            return False
        better = (self.best is None
                  or (self.mode == "min" and value < self.best - self.min_delta)
                  or (self.mode == "max" and value > self.best + self.min_delta))
        if better:
            self.best, self.best_epoch = value, record["epoch"]
        return better

    def state_dict(self) -> dict:
        return {"best": self.best, "best_epoch": self.best_epoch}

    def load_state_dict(self, state: dict) -> None:
        self.best, self.best_epoch = state["best"], state["best_epoch"]


class EarlyStopping(Callback):
    """Stop when the monitored metric has not improved for `patience` epochs."""

    def __init__(self, monitor: str = "val_loss", patience: int = 5, mode: str = "auto",
                 min_delta: float = 0.0) -> None:
        if patience < 1:
            raise ValueError(f"EarlyStopping: patience must be >= 1, got {patience}")
        self.tracker = Monitor(monitor, mode, min_delta)
        self.patience = patience
        self.wait = 0

    def on_epoch_end(self, trainer: Any, record: dict) -> None:
        if self.tracker.improved(record):
            self.wait = 0
            return
        self.wait += 1
        if self.wait >= self.patience:
            trainer.stop(
                f"early stopping: {self.tracker.monitor} has not improved for {self.patience} "
                f"epochs (best {self.tracker.best:.4f} at epoch {self.tracker.best_epoch})"
            )

    def state_dict(self) -> dict:
        return {"wait": self.wait, **self.tracker.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.wait = state["wait"]
        self.tracker.load_state_dict(state)


class ModelCheckpoint(Callback):
    """Save `last` after every epoch and `best` when the monitored metric improves.

    Both files hold the full training state (model, optimizer, scheduler, epoch, RNG states,
    history), written atomically by `rosenblatt.save`, so either can resume training.
    """

    def __init__(self, directory: str | os.PathLike, monitor: str = "val_loss",
                 mode: str = "auto", save_last: bool = True, save_best: bool = True,
                 suffix: str = ".safetensors") -> None:
        self.directory = Path(directory)
        self.tracker = Monitor(monitor, mode)
        self.save_last = save_last
        self.save_best = save_best
        self.best_path = self.directory / f"best{suffix}"
        self.last_path = self.directory / f"last{suffix}"

    def on_epoch_end(self, trainer: Any, record: dict) -> None:
        improved = self.tracker.improved(record)
        record["best"] = improved
        if self.save_best and improved:
            trainer.save_checkpoint(self.best_path)
        if self.save_last:
            trainer.save_checkpoint(self.last_path)

    def state_dict(self) -> dict:
        return self.tracker.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.tracker.load_state_dict(state)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


class HistoryLogger(Callback):
    """Write the history as JSON lines and CSV after every epoch (rewritten whole, atomically)."""

    def __init__(self, directory: str | os.PathLike, name: str = "history") -> None:
        self.directory = Path(directory)
        self.jsonl_path = self.directory / f"{name}.jsonl"
        self.csv_path = self.directory / f"{name}.csv"

    def on_epoch_end(self, trainer: Any, record: dict) -> None:
        self.write(trainer.history)

    def write(self, history: list[dict]) -> None:
        """Write both files from the full history."""
        self.directory.mkdir(parents=True, exist_ok=True)
        _write_atomic(self.jsonl_path, "".join(json.dumps(r) + "\n" for r in history))
        fields: list[str] = []
        for r in history:
            fields += [k for k in r if k not in fields]
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(history)
        _write_atomic(self.csv_path, out.getvalue())


class PlotCurves(Callback):
    """Draw loss and accuracy curves to a PNG at the end (and every `interval` s of training)."""

    def __init__(self, path: str | os.PathLike, interval: float = 30.0, title: str = "") -> None:
        self.path = Path(path)
        self.interval = interval
        self.title = title
        self._last = time.perf_counter()

    def on_epoch_end(self, trainer: Any, record: dict) -> None:
        if time.perf_counter() - self._last >= self.interval:
            self.draw(trainer.history)

    def on_fit_end(self, trainer: Any) -> None:
        if trainer.history:
            self.draw(trainer.history)

    def draw(self, history: list[dict]) -> None:
        from .plots import plot_history

        plot_history(history, self.path, self.title)
        self._last = time.perf_counter()


class TensorBoardLogger(Callback):
    """Log training to TensorBoard: every epoch's record as scalars (`loss/train`,
    `loss/val`, `accuracy/train`, ..., `lr`), the loss of every `log_every`-th step
    (`batch/loss`), with `histograms` each parameter's values once an epoch, and at the end
    the config's settings with the last losses and accuracies for the HParams dashboard."""

    def __init__(self, log_dir: str | os.PathLike, log_every: int = 10,
                 histograms: bool = False) -> None:
        self.log_dir = Path(log_dir)
        self.log_every = log_every
        self.histograms = histograms
        self.writer: Any = None

    def on_fit_start(self, trainer: Any) -> None:
        from rosenblatt.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(self.log_dir)
        if trainer.config:
            self.writer.add_text("config", "```\n" + json.dumps(trainer.config, indent=2)
                                 + "\n```", trainer.global_step)

    def on_batch_end(self, trainer: Any, step: int, loss: float) -> None:
        if self.log_every and step % self.log_every == 0:
            self.writer.add_scalar("batch/loss", loss, step)

    def on_epoch_end(self, trainer: Any, record: dict) -> None:
        epoch = record["epoch"]
        for key, value in record.items():
            if key in ("epoch", "best") or not isinstance(value, (int, float)):
                continue
            split, _, metric = key.partition("_")
            tag = f"{'accuracy' if metric == 'acc' else metric}/{split}" \
                if split in ("train", "val") else key
            self.writer.add_scalar(tag, value, epoch)
        if self.histograms:
            for name, p in trainer.model.named_parameters():
                self.writer.add_histogram(f"parameters/{name}", p, epoch)
        self.writer.flush()

    def on_fit_end(self, trainer: Any) -> None:
        if self.writer is None:
            return
        settings = trainer.config.get("settings") or {}
        if settings and trainer.history:  # one row of the HParams dashboard per run
            hparams = {k: v if isinstance(v, (bool, int, float, str)) else str(v)
                       for k, v in settings.items() if v is not None}
            last = trainer.history[-1]
            metrics = {f"hparam/{k}": v for k, v in last.items()
                       if k.endswith(("_loss", "_acc")) and isinstance(v, (int, float))}
            self.writer.add_hparams(hparams, metrics, run_name="hparams",
                                    global_step=last["epoch"])
        self.writer.close()


class LambdaCallback(Callback):
    """A callback from plain functions: `LambdaCallback(on_epoch_end=lambda t, r: ...)`."""

    def __init__(self, **hooks: Any) -> None:
        for name, fn in hooks.items():
            if not hasattr(Callback, name) or not name.startswith("on_"):
                raise ValueError(f"LambdaCallback: unknown hook {name!r}")
            setattr(self, name, fn)
