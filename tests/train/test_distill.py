"""Knowledge distillation: Hinton et al.'s loss against PyTorch, the hook, and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import rosenblatt as rb
from rosenblatt.cli import main
from rosenblatt.train.distill import DistillationLoss, distillation_loss


@pytest.mark.parametrize("temperature,alpha", [(4.0, 0.9), (1.0, 0.5), (2.5, 0.0)])
def test_loss_and_gradient_as_pytorch_computes_them(temperature, alpha):
    rng = np.random.default_rng(0)
    s, t = (rng.standard_normal((6, 5)).astype(np.float32) for _ in range(2))
    y = rng.integers(0, 5, 6)
    ours = rb.tensor(s, requires_grad=True)
    loss = distillation_loss(ours, rb.tensor(t), rb.tensor(y), temperature, alpha)
    loss.backward()
    theirs = torch.tensor(s, requires_grad=True)
    soft = TF.kl_div(TF.log_softmax(theirs / temperature, 1),
                     TF.softmax(torch.tensor(t) / temperature, 1), reduction="batchmean")
    ref = alpha * temperature ** 2 * soft + (1 - alpha) * TF.cross_entropy(theirs,
                                                                           torch.tensor(y))
    ref.backward()
    assert float(loss.item()) == pytest.approx(float(ref.item()), rel=1e-5)
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_the_teacher_runs_on_training_batches_only():
    rb.manual_seed(0)
    student, teacher = rb.nn.Linear(4, 3), rb.nn.Linear(4, 3)
    loss_fn = DistillationLoss(teacher, temperature=2.0, alpha=0.7)
    loss_fn.attach(student)
    assert "teacher" not in dict(loss_fn.named_modules())  # not trained with the loss
    x, y = rb.randn(5, 4), rb.tensor([0, 1, 2, 0, 1])
    out = student.train()(x)
    expected = distillation_loss(out, teacher(x).detach(), y, 2.0, 0.7)
    assert float(loss_fn(out, y)) == pytest.approx(float(expected))
    out = student.eval()(x)  # validation: plain cross-entropy
    assert float(loss_fn(out, y)) == pytest.approx(float(rb.nn.functional.cross_entropy(out, y)))
    with pytest.raises(ValueError, match="temperature"):
        DistillationLoss(teacher, temperature=0)


def test_train_with_a_teacher(tmp_path, capsys):
    common = ["train", "--dataset", "digits", "--model", "mlp", "--epochs", "2",
              "--no-progress", "--val-fraction", "0"]
    assert main(common + ["--hidden", "64", "--out", str(tmp_path / "teacher")]) == 0
    teacher = tmp_path / "teacher" / "last.safetensors"
    assert main(common + ["--hidden", "8", "--out", str(tmp_path / "student"), "--teacher",
                          str(teacher), "--distill-temperature", "3"]) == 0
    out = capsys.readouterr().out
    assert "distilling from" in out
    card_path = Path(out.split("model card: ")[1].split()[0])
    config = rb.load(tmp_path / "student" / "last.safetensors")["config"]
    assert config["distillation"] == {"teacher": str(teacher), "temperature": 3.0,
                                      "alpha": 0.9}
    card = json.loads(card_path.read_text())  # beside the checkpoint, best (else last)
    result = json.loads((tmp_path / "student" / "result.json").read_text())
    assert card["test_accuracy"] == result["test_accuracy"] and card["trained_on"] == "digits"
    assert card["made"]["teacher_test_accuracy"] == json.loads(
        (tmp_path / "teacher" / "result.json").read_text())["test_accuracy"]
    assert card["made"]["temperature"] == 3.0 and card["made"]["alpha"] == 0.9
    assert card["bytes"] == (tmp_path / "student" / card["file"]).stat().st_size
    assert card_path.parent == tmp_path / "student"
    assert main(["evaluate", str(tmp_path / "student" / "last.safetensors")]) == 0
    assert main(common + ["--out", str(tmp_path / "x"), "--teacher", "lenet5-mnist"]) == 1
    assert "teacher" in capsys.readouterr().err
