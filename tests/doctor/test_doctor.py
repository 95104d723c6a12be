"""The training doctor: a healthy setup passes; each deliberately broken one is flagged."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_digits

import rosenblatt as rb
from rosenblatt import doctor
from rosenblatt.cli import main
from rosenblatt.doctor import checks as C
from rosenblatt.utils.data import DataLoader, TensorDataset

_DIGITS = load_digits()


def _data(n: int = 600, scale: float = 1 / 16, labels: np.ndarray | None = None
          ) -> tuple[rb.Tensor, rb.Tensor]:
    x = rb.tensor((_DIGITS.data[:n] * scale).astype(np.float32))
    y = rb.tensor(_DIGITS.target[:n] if labels is None else labels).long()
    return x, y


def _loader(x: rb.Tensor, y: rb.Tensor, batch: int = 32) -> DataLoader:
    return DataLoader(TensorDataset(x, y), batch_size=batch, shuffle=True,
                      generator=rb.Generator().manual_seed(0))


def _mlp(*layers: rb.nn.Module) -> rb.nn.Module:
    rb.manual_seed(0)
    return rb.nn.Sequential(*(layers or (rb.nn.Linear(64, 64), rb.nn.ReLU(),
                                         rb.nn.Linear(64, 10))))


def _check(model: rb.nn.Module, x: rb.Tensor | None = None, y: rb.Tensor | None = None,
           lr: float = 1e-3, checks: list | None = None, **kwargs) -> doctor.Report:
    if x is None:
        x, y = _data()
    optimizer = rb.optim.Adam(model.parameters(), lr=lr)
    return doctor.check(model, _loader(x, y), rb.nn.CrossEntropyLoss(), optimizer,
                        checks=checks, **kwargs)


def test_healthy_setup_passes_and_is_left_as_it_was(tmp_path: Path) -> None:
    model = _mlp(rb.nn.Linear(64, 64), rb.nn.BatchNorm1d(64), rb.nn.ReLU(), rb.nn.Dropout(0.2),
                 rb.nn.Linear(64, 10))
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    x, y = _data(800)
    test = DataLoader(TensorDataset(*_data_slice(800, 1000)), batch_size=100)
    loader = _loader(x, y)
    rng, loader_rng = rb.get_rng_state(), loader.generator.get_state()
    report = doctor.check(model, loader, rb.nn.CrossEntropyLoss(),
                          rb.optim.Adam(model.parameters(), lr=1e-3), test_loader=test,
                          out_dir=tmp_path)
    assert rb.equal(rb.get_rng_state(), rng) and rb.equal(loader.generator.get_state(),
                                                           loader_rng)
    assert report.ok, str(report)
    assert [f.status for f in report.findings] == ["ok"] * len(C.CHECKS), str(report)
    assert [f.name for f in report.findings] == [C.CHECK_NAMES[c] for c in C.CHECKS]
    assert (tmp_path / "lr_range.png").stat().st_size > 0
    assert 1e-4 < report["learning-rate range"].data["suggested"] < 1
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v.numpy(), before[k])
    assert all(p.grad is None for p in model.parameters())
    assert "10 of 10 checks passed" in str(report)


def _data_slice(start: int, stop: int) -> tuple[rb.Tensor, rb.Tensor]:
    return (rb.tensor((_DIGITS.data[start:stop] / 16).astype(np.float32)),
            rb.tensor(_DIGITS.target[start:stop]).long())


def test_unnormalised_inputs() -> None:
    report = _check(_mlp(), *_data(scale=1.0), checks=[C.check_inputs])
    assert report["inputs"].status == "fail" and "not normalised" in report["inputs"].evidence


def test_labels_out_of_range_float_and_imbalanced() -> None:
    x, y = _data()
    report = _check(_mlp(), x, y + 1, checks=[C.check_labels])
    assert report["labels"].status == "fail" and "[1, 10]" in report["labels"].evidence
    # the checks that cannot compute a loss with such labels fail under their usual names
    report = _check(_mlp(), x, y + 1)
    assert [f.name for f in report.findings] == [C.CHECK_NAMES[c] for c in C.CHECKS]
    assert "the check raised IndexError" in report["nan/inf"].evidence
    optimizer = rb.optim.SGD(_mlp().parameters(), lr=0.1)
    report = doctor.check(_mlp(), _loader(x, y.float()), rb.nn.MSELoss(), optimizer,
                          checks=[C.check_labels])
    assert report["labels"].status == "fail" and "float32" in report["labels"].evidence
    skewed = np.where(np.arange(600) % 20 == 0, _DIGITS.target[:600], 0)
    report = _check(_mlp(), x, rb.tensor(skewed).long(), checks=[C.check_labels])
    assert report["labels"].status == "warn" and "imbalanced" in report["labels"].evidence


def test_train_test_duplicates() -> None:
    x, y = _data()
    test = DataLoader(TensorDataset(*_data_slice(590, 700)), batch_size=50)
    report = _check(_mlp(), x, y, test_loader=test, checks=[C.check_leakage])
    assert report["leakage"].status == "fail"
    assert report["leakage"].data == {"shared": 10, "test": 110}


def test_overconfident_initialisation() -> None:
    model = _mlp()
    with rb.no_grad():
        model[2].weight.mul_(100)
    report = _check(model, checks=[C.check_initial_loss])
    assert report["initial loss"].status == "fail"


def test_learning_rate_far_too_small_cannot_overfit() -> None:
    report = _check(_mlp(), lr=1e-7, checks=[C.check_overfit_batch, C.check_lr_range])
    assert report["overfit one batch"].status == "fail"
    assert report["learning-rate range"].status == "warn"


def test_learning_rate_far_too_high() -> None:
    report = _check(_mlp(), lr=5.0, checks=[C.check_lr_range, C.check_gradients])
    assert report["learning-rate range"].status == "fail"
    assert report["gradients"].status == "fail" and "times its size" in report[
        "gradients"].evidence


def test_vanishing_and_exploding_gradients() -> None:
    layers = [rb.nn.Linear(64, 32), rb.nn.Sigmoid()]
    for _ in range(8):
        layers += [rb.nn.Linear(32, 32), rb.nn.Sigmoid()]
    deep = _mlp(*layers, rb.nn.Linear(32, 10))
    report = _check(deep, checks=[C.check_gradients])
    assert report["gradients"].status == "fail" and "vanishing" in report["gradients"].evidence
    layers = [rb.nn.Linear(64, 64)] + [rb.nn.Linear(64, 64) for _ in range(6)]
    big = _mlp(*layers, rb.nn.Linear(64, 10))
    with rb.no_grad():
        for p in big.parameters():
            p.mul_(8)  # each layer multiplies the signal by about 4.6
    report = _check(big, checks=[C.check_gradients])
    assert report["gradients"].status == "fail" and "exploding" in report["gradients"].evidence


def test_dead_relus_and_saturated_tanh() -> None:
    model = _mlp()
    with rb.no_grad():
        model[0].bias.fill_(-50)
    report = _check(model, checks=[C.check_activations])
    assert report["activations"].status == "fail" and "100% dead" in report[
        "activations"].evidence
    model = _mlp(rb.nn.Linear(64, 64), rb.nn.Tanh(), rb.nn.Linear(64, 10))
    with rb.no_grad():
        model[0].weight.mul_(60)
    report = _check(model, checks=[C.check_activations])
    assert report["activations"].status == "fail" and "saturated" in report[
        "activations"].evidence


class _Log(rb.nn.Module):
    def forward(self, x: rb.Tensor) -> rb.Tensor:
        return (x - 2).log()  # nan for every value below 2


class _SqrtNet(rb.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = rb.nn.Linear(64, 10)

    def forward(self, x: rb.Tensor) -> rb.Tensor:
        return self.fc(x).sqrt()  # nan for every negative score, made outside any layer


def test_nan_made_in_forwards_own_code_names_the_op() -> None:
    rb.manual_seed(0)
    report = _check(_SqrtNet(), checks=[C.check_finite])
    finding = report["nan/inf"]
    assert finding.status == "fail" and finding.data["module"] is None
    assert "outside any layer" in finding.evidence and "Sqrt produced nan" in finding.evidence


def test_nan_names_the_layer_that_made_it() -> None:
    model = _mlp(rb.nn.Linear(64, 32), _Log(), rb.nn.Linear(32, 10))
    report = _check(model, checks=[C.check_finite])
    assert report["nan/inf"].status == "fail"
    assert report["nan/inf"].data["module"] == "1 (_Log)"
    assert "Log produced nan in forward" in report["nan/inf"].evidence  # the op itself


def test_eval_mode_and_missing_zero_grad() -> None:
    model = _mlp(rb.nn.Linear(64, 64), rb.nn.ReLU(), rb.nn.Dropout(0.3), rb.nn.Linear(64, 10))
    model.eval()
    report = _check(model, checks=[C.check_training_step])
    assert report["training step"].status == "fail" and "eval mode" in report[
        "training step"].evidence
    assert not model.training  # left as given

    model = _mlp()
    optimizer = rb.optim.SGD(model.parameters(), lr=1e-4)
    loss_fn = rb.nn.CrossEntropyLoss()

    def step_without_zero_grad(x: rb.Tensor, y: rb.Tensor) -> None:
        loss_fn(model(x), y).backward()
        optimizer.step()

    x, y = _data()
    report = doctor.check(model, _loader(x, y), loss_fn, optimizer,
                          train_step=step_without_zero_grad, checks=[C.check_training_step])
    assert report["training step"].status == "fail" and "accumulate" in report[
        "training step"].evidence
    assert all(p.grad is None for p in model.parameters())


def test_full_report_flags_only_the_broken_part() -> None:
    x, y = _data()
    report = _check(_mlp(), x, y + 1)  # off-by-one labels: label 10 of 10 classes
    assert not report.ok
    assert "labels" in report.failed()
    assert "fix: make labels 0-based" in str(report)


def test_cli_doctor(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code = main(["doctor", "--dataset", "digits", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "[ok  ] initial loss" in out and (tmp_path / "lr_range.png").is_file()
    code = main(["doctor", "--dataset", "digits", "--lr", "20", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 1 and "[FAIL] learning-rate range" in out


def test_cli_doctor_on_a_runs_config(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["train", "--dataset", "xor", "--epochs", "1", "--hidden", "16,16",
                 "--no-progress", "--out", str(tmp_path / "run")]) == 0
    capsys.readouterr()
    code = main(["doctor", "--config", str(tmp_path / "run" / "last.safetensors"),
                 "--out", str(tmp_path / "d")])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "doctor: mlp on xor, adam lr 0.01" in out and "layers.5.weight" in out  # 16,16
    config = rb.load(tmp_path / "run" / "last.safetensors")["config"]
    config["settings"]["lr"] = 30.0
    (tmp_path / "bad.json").write_text(json.dumps(config))
    assert main(["doctor", "--config", str(tmp_path / "bad.json"), "--out",
                 str(tmp_path / "d")]) == 1
    assert "[FAIL] learning-rate range" in capsys.readouterr().out
    assert main(["doctor"]) == 1
    assert "give --dataset or --config" in capsys.readouterr().err
