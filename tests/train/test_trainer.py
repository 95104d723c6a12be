"""The training loop: learning, checkpoints, logs, early stopping, schedulers, NaN, resume."""

import csv
import json

import numpy as np
import pytest

import rosenblatt as rb
from rosenblatt import nn
from rosenblatt.models.mlp import MLP
from rosenblatt.optim import lr_scheduler
from rosenblatt.train import LambdaCallback, NonFiniteLossError, Trainer, fit
from rosenblatt.utils.data import DataLoader, TensorDataset


def _moons_loaders(n_train=400, n_val=200, batch_size=32, seed=0):
    x, y = rb.datasets.moons(n_train, noise=0.15, seed=1)
    xv, yv = rb.datasets.moons(n_val, noise=0.15, seed=2)
    gen = rb.Generator().manual_seed(seed)
    train = DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=True, generator=gen)
    return train, DataLoader(TensorDataset(xv, yv), batch_size=100)


def _setup(lr=0.01, dropout=0.1, scheduler=None):
    rb.manual_seed(0)
    model = MLP(2, [16, 16], 2, dropout=dropout)
    opt = rb.optim.Adam(model.parameters(), lr=lr)
    sched = scheduler(opt) if scheduler else None
    return model, opt, sched


def test_fit_learns_and_writes_checkpoints_logs_and_curves(tmp_path):
    model, opt, _ = _setup()
    train, val = _moons_loaders()
    trainer = Trainer(model, nn.CrossEntropyLoss(), opt, out_dir=tmp_path, progress=False,
                      verbose=False, config={"note": "hello"})
    history = trainer.fit(train, val, epochs=6)
    assert [r["epoch"] for r in history] == list(range(1, 7))
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    assert history[-1]["val_acc"] > 0.9
    for name in ("best.safetensors", "last.safetensors", "history.jsonl", "history.csv",
                 "curves.png"):
        assert (tmp_path / name).is_file(), name
    lines = [json.loads(line) for line in (tmp_path / "history.jsonl").read_text().splitlines()]
    assert [r["val_loss"] for r in lines] == pytest.approx([r["val_loss"] for r in history])
    rows = list(csv.DictReader((tmp_path / "history.csv").read_text().splitlines()))
    assert len(rows) == 6 and float(rows[-1]["train_loss"]) == pytest.approx(
        history[-1]["train_loss"])
    best_epoch = min(history, key=lambda r: r["val_loss"])["epoch"]
    best = rb.load(tmp_path / "best.safetensors")
    assert best["epoch"] == best_epoch and best["config"] == {"note": "hello"}
    last = rb.load(tmp_path / "last.safetensors")
    assert last["epoch"] == 6
    # the last checkpoint holds the final weights
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(last["model"][k].numpy(), v.numpy())
    # evaluate() agrees with the recorded validation metrics
    again = trainer.evaluate(val)
    assert again["loss"] == pytest.approx(history[-1]["val_loss"], rel=1e-5)


def test_resume_is_bit_identical_to_training_straight_through(tmp_path):
    def make():
        model, opt, sched = _setup(scheduler=lambda o: lr_scheduler.StepLR(o, 1, gamma=0.7))
        train, val = _moons_loaders()
        return model, opt, sched, train, val

    model, opt, sched, train, val = make()
    straight = Trainer(model, nn.CrossEntropyLoss(), opt, sched, out_dir=tmp_path / "a",
                       progress=False, verbose=False).fit(train, val, epochs=4)

    model, opt, sched, train, val = make()
    Trainer(model, nn.CrossEntropyLoss(), opt, sched, out_dir=tmp_path / "b",
            progress=False, verbose=False).fit(train, val, epochs=2)
    rb.manual_seed(123)  # a fresh process would start from another RNG state
    model, opt, sched, train, val = make()
    resumed = Trainer(model, nn.CrossEntropyLoss(), opt, sched, out_dir=tmp_path / "b",
                      progress=False, verbose=False)
    history = resumed.fit(train, val, epochs=4, resume=tmp_path / "b" / "last.safetensors")
    keys = ("train_loss", "train_acc", "val_loss", "val_acc", "lr")
    assert [[r[k] for k in keys] for r in history] == [[r[k] for k in keys] for r in straight]
    a = rb.load(tmp_path / "a" / "last.safetensors")["model"]
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(a[k].numpy(), v.numpy())
    assert len((tmp_path / "b" / "history.jsonl").read_text().splitlines()) == 4


def test_non_finite_loss_stops_with_step_and_epoch():
    model, opt, _ = _setup(dropout=0.0)
    x, y = rb.datasets.moons(64, seed=1)
    x[40] = float("nan")
    loader = DataLoader(TensorDataset(x, y), batch_size=16)
    trainer = Trainer(model, nn.CrossEntropyLoss(), opt, progress=False, verbose=False)
    before = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(NonFiniteLossError, match=r"nan at step 3 \(epoch 1, batch 3\)"):
        trainer.fit(loader, epochs=2)
    assert trainer.global_step == 2
    after = list(model.parameters())
    assert all(np.isfinite(p.detach().numpy()).all() for p in after)
    assert any(not np.array_equal(b.numpy(), a.detach().numpy()) for b, a in zip(before, after))


def test_early_stopping_with_patience():
    model, opt, _ = _setup(lr=1e-12, dropout=0.0)  # nothing improves
    train, val = _moons_loaders(n_train=64)
    trainer = Trainer(model, nn.CrossEntropyLoss(), opt, patience=2, progress=False,
                      verbose=False)
    history = trainer.fit(train, val, epochs=20)
    assert len(history) < 20
    assert "early stopping" in trainer.stop_reason


def test_reduce_lr_on_plateau_gets_the_validation_metric():
    seen = []

    class Spy(lr_scheduler.ReduceLROnPlateau):
        def step(self, metrics, epoch=None):
            seen.append(metrics)
            super().step(metrics)

    model, opt, sched = _setup(scheduler=lambda o: Spy(o, patience=0))
    train, val = _moons_loaders(n_train=64)
    history = Trainer(model, nn.CrossEntropyLoss(), opt, sched, progress=False,
                      verbose=False).fit(train, val, epochs=3)
    assert seen == [r["val_loss"] for r in history]


def test_per_step_scheduler_and_callbacks():
    model, opt, sched = _setup(
        scheduler=lambda o: lr_scheduler.OneCycleLR(o, max_lr=0.01, total_steps=20))
    train, _ = _moons_loaders(n_train=160, batch_size=32)  # 5 steps per epoch
    events = []
    cb = LambdaCallback(on_batch_end=lambda t, step, loss: events.append(step),
                        on_epoch_end=lambda t, r: events.append(("epoch", r["epoch"])))
    history = fit(model, nn.CrossEntropyLoss(), opt, train, epochs=4, scheduler=sched,
                  scheduler_interval="step", callbacks=[cb], progress=False, verbose=False)
    assert sched.last_epoch == 20
    assert events[:6] == [1, 2, 3, 4, 5, ("epoch", 1)]
    assert "val_loss" not in history[0] and history[-1]["train_loss"] < history[0]["train_loss"]


def test_progress_bar_and_epoch_lines_are_shown(capsys, monkeypatch):
    import sys

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # the bar is for terminals only
    model, opt, _ = _setup()
    train, val = _moons_loaders(n_train=64)
    Trainer(model, nn.CrossEntropyLoss(), opt).fit(train, val, epochs=2)
    out, err = capsys.readouterr()
    assert "epoch 1/2" in out and "val loss" in out and "acc" in out
    assert "batch/s" in err and "epoch 2/2" in err


def test_progress_bar_shows_loss_accuracy_and_rate(capsys, monkeypatch):
    import sys

    from rosenblatt.train import ProgressBar

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)

    bar = ProgressBar(3, "epoch 1/1", file=sys.stderr, min_interval=0)
    for _ in range(3):
        bar.update(32, loss=0.5, acc=0.75)
    assert bar.samples == 96 and bar.rate > 0
    bar.close(loss=0.5, acc=0.75)
    err = capsys.readouterr().err
    assert "loss=0.5000" in err and "acc=75.00%" in err and "samples/s" in err


def test_bad_batches_and_options_are_errors():
    model, opt, _ = _setup()
    with pytest.raises(ValueError, match="scheduler_interval"):
        Trainer(model, nn.CrossEntropyLoss(), opt, scheduler_interval="batch")
    with pytest.raises(ValueError, match=r"\(inputs, target\)"):
        Trainer(model, nn.CrossEntropyLoss(), opt, progress=False).fit([rb.zeros(2, 2)])


def test_no_progress_bar_when_the_output_is_not_a_terminal(capsys):
    """Redirected output (a log file, CI) gets the epoch lines only, no carriage returns."""
    import sys

    from rosenblatt.train import ProgressBar

    assert not sys.stderr.isatty()
    model, opt, _ = _setup()
    train, val = _moons_loaders(n_train=64)
    Trainer(model, nn.CrossEntropyLoss(), opt).fit(train, val, epochs=2)
    out, err = capsys.readouterr()
    assert "epoch 2/2" in out and "batch/s" not in err and "\r" not in err
    bar = ProgressBar(3, "epoch 1/1", file=sys.stderr, min_interval=0)
    bar.update(32, loss=0.5)
    bar.close(loss=0.5)
    assert capsys.readouterr().err == ""

