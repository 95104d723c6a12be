"""The training loop: `Trainer(...).fit(train_loader, val_loader, epochs)`, or `fit(...)`.

Each epoch trains over the loader with a live progress bar (loss, accuracy, samples/s, ETA),
validates, steps the learning-rate scheduler, and runs the callbacks: early stopping, the best
and last checkpoints, the history (JSON lines and CSV) and the curves (PNG). A non-finite loss
stops training before the bad step is applied. A checkpoint holds everything needed to resume
as if training had never stopped: model, optimizer, scheduler, epoch, history, callback state,
the global RNG state and the train loader's generator state.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import rosenblatt as rb

from .callbacks import (
    Callback,
    EarlyStopping,
    HistoryLogger,
    ModelCheckpoint,
    PlotCurves,
    TensorBoardLogger,
)
from .metrics import RunningMean, accuracy
from .progress import ProgressBar


class NonFiniteLossError(RuntimeError):
    """Raised when the loss becomes nan or inf: the step that produced it is not applied."""


class Trainer:
    """Trains `model` with `loss_fn` and `optimizer`, validating after every epoch.

    scheduler: an `lr_scheduler` object, stepped once per epoch (`scheduler_interval="epoch"`)
        or after every optimizer step (`"step"`); `ReduceLROnPlateau` gets the monitored metric.
    out_dir: where `best.safetensors`, `last.safetensors`, `history.jsonl`, `history.csv`
        and `curves.png` go (nothing is written when None).
    monitor: the metric that decides the best checkpoint, early stopping and plateaus
        (`val_loss` by default, `train_loss` without a validation loader; `*_acc` is maximised).
    patience: stop after this many epochs without improvement (None: never stop early).
    config: JSON-able metadata stored in every checkpoint (e.g. how to rebuild the model).
    tensorboard: a folder for TensorBoard event files (`TensorBoardLogger`), None for none.
    train_step: replaces the default step (zero_grad, forward, loss, backward, optimizer step)
        with `train_step(trainer, inputs, target)`, which updates the model itself (e.g. a
        GAN's two optimizers) and returns the loss as a float, or a dict of floats whose
        'loss' is shown; the other keys' epoch means go into the history as `train_<key>`.
        It must check its losses for nan/inf itself (`NonFiniteLossError`).
    """

    def __init__(
        self,
        model: Any,
        loss_fn: Callable[[Any, Any], Any],
        optimizer: Any,
        scheduler: Any = None,
        *,
        scheduler_interval: str = "epoch",
        out_dir: str | os.PathLike | None = None,
        monitor: str | None = None,
        patience: int | None = None,
        callbacks: Sequence[Callback] = (),
        device: Any = None,
        grad_clip: float | None = None,
        progress: bool = True,
        verbose: bool = True,
        config: dict | None = None,
        tensorboard: str | os.PathLike | None = None,
        train_step: Callable[[Any, Any, Any], Any] | None = None,
    ) -> None:
        if scheduler_interval not in ("epoch", "step"):
            raise ValueError(f"scheduler_interval must be 'epoch' or 'step', "
                             f"got {scheduler_interval!r}")
        self.model = model
        self.loss_fn = loss_fn
        self.optimizer = optimizer
        self.scheduler = scheduler
        self.scheduler_interval = scheduler_interval
        self.out_dir = Path(out_dir) if out_dir is not None else None
        self.monitor = monitor
        self.patience = patience
        self.user_callbacks = list(callbacks)
        self.device = device
        self.grad_clip = grad_clip
        self.progress = progress
        self.verbose = verbose
        self.config = dict(config or {})
        self.tensorboard = tensorboard
        self.train_step = train_step
        self.history: list[dict] = []
        self.epoch = 0  # epochs completed
        self.global_step = 0
        self.callbacks: list[Callback] = []
        self.stop_reason: str | None = None
        self.train_loader: Any = None
        self._pending_state: dict | None = None
        self._measure_accuracy = True

    # ------------------------------------------------------------------ the loop
    def fit(self, train_loader: Iterable, val_loader: Iterable | None = None, epochs: int = 10,
            resume: str | os.PathLike | None = None) -> list[dict]:
        """Train until `epochs` epochs are done (counting those before a resume); the history."""
        self.train_loader = train_loader
        if self.monitor is None:
            self.monitor = "val_loss" if val_loader is not None else "train_loss"
        self.callbacks = self._build_callbacks()
        if resume is not None:
            self.load_checkpoint(resume)
        if self._pending_state is not None:
            self._restore_training_state(self._pending_state)
            self._pending_state = None
        self.stop_reason = None
        for cb in self.callbacks:
            cb.on_fit_start(self)
        try:
            while self.epoch < epochs and self.stop_reason is None:
                self._run_epoch(train_loader, val_loader, epochs)
        finally:
            for cb in self.callbacks:
                cb.on_fit_end(self)
        if self.verbose and self.stop_reason:
            print(self.stop_reason)
        return self.history

    def stop(self, reason: str) -> None:
        """Ask the trainer to stop after the current epoch."""
        self.stop_reason = reason

    def _build_callbacks(self) -> list[Callback]:
        cbs: list[Callback] = []
        if self.patience is not None:
            cbs.append(EarlyStopping(self.monitor, self.patience))
        cbs += self.user_callbacks
        if self.tensorboard is not None:
            cbs.append(TensorBoardLogger(self.tensorboard))
        if self.out_dir is not None:
            cbs += [ModelCheckpoint(self.out_dir, self.monitor),
                    HistoryLogger(self.out_dir), PlotCurves(self.out_dir / "curves.png")]
        return cbs

    def _run_epoch(self, train_loader: Iterable, val_loader: Iterable | None,
                   epochs: int) -> None:
        epoch = self.epoch + 1
        for cb in self.callbacks:
            cb.on_epoch_start(self, epoch)
        start = time.perf_counter()
        train = self._train_one_epoch(train_loader, epoch, epochs)
        record: dict[str, Any] = {"epoch": epoch, "train_loss": train["loss"],
                                  "train_acc": train["acc"]}
        record.update({f"train_{key}": mean.mean for key, mean in train["extra"].items()})
        if val_loader is not None:
            val = self.evaluate(val_loader)
            record.update(val_loss=val["loss"], val_acc=val["acc"])
        record["lr"] = self._lr()
        record["seconds"] = round(time.perf_counter() - start, 3)
        record["samples_per_s"] = round(train["samples"] / max(train["seconds"], 1e-9), 1)
        if self.scheduler is not None and self.scheduler_interval == "epoch":
            self._step_scheduler_epoch(record)
        self.epoch = epoch
        self.history.append(record)
        for cb in self.callbacks:
            cb.on_epoch_end(self, record)
        if self.verbose:
            print(self._epoch_line(record, epochs), flush=True)

    def _train_one_epoch(self, loader: Iterable, epoch: int, epochs: int) -> dict:
        self.model.train()
        loss_avg, acc_avg = RunningMean(), RunningMean()
        extra: dict[str, RunningMean] = {}
        total = len(loader) if hasattr(loader, "__len__") else None  # type: ignore[arg-type]
        bar = ProgressBar(total, f"epoch {epoch}/{epochs}", enabled=self.progress)
        start = time.perf_counter()
        try:
            for batch_index, batch in enumerate(loader, 1):
                inputs, target = self._to_device(batch)
                n = _batch_size(target)
                if self.train_step is None:
                    value, output = self._default_step(inputs, target, epoch, batch_index)
                else:
                    logs = self.train_step(self, inputs, target)
                    logs = dict(logs) if isinstance(logs, dict) else {"loss": logs}
                    value, output = float(logs.pop("loss")), None
                    for key, v in logs.items():
                        extra.setdefault(key, RunningMean()).update(float(v), n)
                if self.scheduler is not None and self.scheduler_interval == "step":
                    self.scheduler.step()
                self.global_step += 1
                loss_avg.update(value, n)
                acc = self._accuracy(output, target) if output is not None else None
                if acc is not None:
                    acc_avg.update(acc, n)
                bar.update(n, loss=loss_avg.mean, acc=acc_avg.mean if acc_avg.count else None)
                for cb in self.callbacks:
                    cb.on_batch_end(self, self.global_step, value)
        finally:
            bar.close(loss=loss_avg.mean, acc=acc_avg.mean if acc_avg.count else None)
        return {"loss": loss_avg.mean, "acc": acc_avg.mean if acc_avg.count else None,
                "samples": loss_avg.count, "seconds": time.perf_counter() - start,
                "extra": extra}

    def _default_step(self, inputs: Any, target: Any, epoch: int,
                      batch_index: int) -> tuple[float, Any]:
        """One optimizer step on loss_fn(model(inputs), target); (loss value, output)."""
        self.optimizer.zero_grad()
        output = self.model(inputs)
        loss = self.loss_fn(output, target)
        value = float(loss.item())
        if not math.isfinite(value):
            raise NonFiniteLossError(
                f"loss became {value} at step {self.global_step + 1} (epoch {epoch}, "
                f"batch {batch_index}); stopped before applying it. Try a lower "
                f"learning rate or check the inputs for nan/inf."
            )
        loss.backward()
        if self.grad_clip is not None:
            rb.nn.utils.clip_grad_norm_(self.model.parameters(), self.grad_clip)
        self.optimizer.step()
        return value, output

    def evaluate(self, loader: Iterable) -> dict:
        """Mean loss and accuracy over `loader` in eval mode without gradients."""
        was_training = getattr(self.model, "training", True)
        self.model.eval()
        loss_avg, acc_avg = RunningMean(), RunningMean()
        try:
            with rb.no_grad():
                for batch in loader:
                    inputs, target = self._to_device(batch)
                    output = self.model(inputs)
                    n = _batch_size(target)
                    loss_avg.update(float(self.loss_fn(output, target).item()), n)
                    acc = self._accuracy(output, target)
                    if acc is not None:
                        acc_avg.update(acc, n)
        finally:
            self.model.train(was_training)
        return {"loss": loss_avg.mean, "acc": acc_avg.mean if acc_avg.count else None,
                "samples": loss_avg.count}

    def predict(self, loader: Iterable) -> tuple[Any, Any]:
        """Model outputs and targets over `loader`, concatenated (eval mode, no gradients)."""
        was_training = getattr(self.model, "training", True)
        self.model.eval()
        outputs, targets = [], []
        try:
            with rb.no_grad():
                for batch in loader:
                    inputs, target = self._to_device(batch)
                    outputs.append(self.model(inputs))
                    targets.append(target)
        finally:
            self.model.train(was_training)
        return rb.cat(outputs), rb.cat(targets)

    # --------------------------------------------------------------- small parts
    def _to_device(self, batch: Any) -> tuple[Any, Any]:
        if not isinstance(batch, (tuple, list)) or len(batch) < 2:
            raise ValueError("Trainer: each batch must be (inputs, target)")
        inputs, target = batch[0], batch[1]
        if self.device is not None:
            inputs, target = inputs.to(self.device), target.to(self.device)
        return inputs, target

    def _accuracy(self, output: Any, target: Any) -> float | None:
        """Accuracy for classification outputs; None (and off from then on) otherwise."""
        if not self._measure_accuracy:
            return None
        out_shape, tgt_shape = tuple(output.shape), tuple(target.shape)
        classes = len(out_shape) == len(tgt_shape) + 1 and not target.is_floating_point()
        binary = out_shape == tgt_shape and target.is_floating_point()
        if not (classes or binary):
            self._measure_accuracy = False
            return None
        return accuracy(output, target)

    def _lr(self) -> float | None:
        groups = getattr(self.optimizer, "param_groups", None)
        return float(groups[0]["lr"]) if groups else None

    def _step_scheduler_epoch(self, record: dict) -> None:
        from rosenblatt.optim.lr_scheduler import ReduceLROnPlateau

        if isinstance(self.scheduler, ReduceLROnPlateau):
            key = self.monitor or "val_loss"
            if record.get(key) is None:
                raise KeyError(f"ReduceLROnPlateau needs {key!r}, not in the history")
            self.scheduler.step(record[key])
        else:
            self.scheduler.step()

    def _epoch_line(self, r: dict, epochs: int) -> str:
        width = len(str(epochs))
        parts = [f"epoch {r['epoch']:>{width}}/{epochs}", f"train loss {r['train_loss']:.4f}"]
        if r.get("train_acc") is not None:
            parts.append(f"acc {r['train_acc']:.2%}")
        if r.get("val_loss") is not None:
            parts.append(f"| val loss {r['val_loss']:.4f}")
            if r.get("val_acc") is not None:
                parts.append(f"acc {r['val_acc']:.2%}")
        if r.get("lr") is not None:
            parts.append(f"| lr {r['lr']:.3g}")
        parts.append(f"| {r['seconds']:.1f}s")
        if r.get("best"):
            parts.append("*")
        return "  ".join(parts)

    # --------------------------------------------------------------- checkpoints
    def state_dict(self) -> dict:
        """The full training state (what a checkpoint holds)."""
        loader_gen = getattr(self.train_loader, "generator", None)
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "epoch": self.epoch,
            "global_step": self.global_step,
            "history": list(self.history),
            "callbacks": [cb.state_dict() for cb in self.callbacks],
            "rng_state": rb.get_rng_state(),
            "loader_rng_state": loader_gen.get_state() if loader_gen is not None else None,
            "config": self.config,
        }

    def save_checkpoint(self, path: str | os.PathLike) -> Path:
        """Write the training state to `path` atomically (rosenblatt.save)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        rb.save(self.state_dict(), path)
        return path

    def load_checkpoint(self, path: str | os.PathLike) -> dict:
        """Load a checkpoint: model and optimizer now, the rest when `fit` starts."""
        state = rb.load(path)
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler is not None and state.get("scheduler") is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        self.epoch = int(state["epoch"])
        self.global_step = int(state["global_step"])
        self.history = [dict(r) for r in state.get("history") or []]
        self._pending_state = state
        return state

    def _restore_training_state(self, state: dict) -> None:
        """RNG states and callback states (needs the loader and callbacks of `fit`)."""
        rb.set_rng_state(state["rng_state"])
        loader_gen = getattr(self.train_loader, "generator", None)
        if loader_gen is not None and state.get("loader_rng_state") is not None:
            loader_gen.set_state(state["loader_rng_state"])
        saved = state.get("callbacks") or []
        if len(saved) == len(self.callbacks):
            for cb, cb_state in zip(self.callbacks, saved):
                if cb_state:
                    cb.load_state_dict(cb_state)


def _batch_size(target: Any) -> int:
    shape = getattr(target, "shape", None)
    return int(shape[0]) if shape else 1


def fit(model: Any, loss_fn: Callable, optimizer: Any, train_loader: Iterable,
        val_loader: Iterable | None = None, epochs: int = 10, **kwargs: Any) -> list[dict]:
    """Train with a `Trainer` built from `kwargs`; returns the history (one dict per epoch)."""
    resume = kwargs.pop("resume", None)
    trainer = Trainer(model, loss_fn, optimizer, **kwargs)
    return trainer.fit(train_loader, val_loader, epochs, resume=resume)
