"""Real accuracies on learnable data: XOR, two moons, the digits main job, MNIST (small)."""

import json

import pytest

import rosenblatt as rb
from rosenblatt import nn
from rosenblatt.cli import main
from rosenblatt.train import Trainer
from rosenblatt.utils.data import DataLoader, TensorDataset


def _train(tmp_path, *argv):
    out = tmp_path / "run"
    assert main(["train", "--no-progress", "--out", str(out), *argv]) == 0
    return json.loads((out / "result.json").read_text())


def test_the_four_xor_points_are_learned():
    x = rb.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = rb.tensor([0, 1, 1, 0])
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2))
    opt = rb.optim.Adam(model.parameters(), lr=0.05)
    loader = DataLoader(TensorDataset(x, y), batch_size=4)
    trainer = Trainer(model, nn.CrossEntropyLoss(), opt, progress=False, verbose=False)
    history = trainer.fit(loader, epochs=300)
    assert history[-1]["train_acc"] == 1.0 and history[-1]["train_loss"] < 0.05
    with rb.no_grad():
        assert model(x).argmax(dim=1).tolist() == [0, 1, 1, 0]


def test_xor_dataset_command_comes_near_the_best_possible(tmp_path):
    from rosenblatt.train.cli import load_split

    result = _train(tmp_path, "--dataset", "xor")
    # noise moves points near the axes across the boundary: the true rule applied to the
    # noisy test points is (about) the best any classifier can do
    x, y = load_split("xor", train=False).tensors
    oracle = (((x[:, 0] > 0) != (x[:, 1] > 0)).long() == y).float().mean().item()
    assert oracle < 0.97 and result["test_accuracy"] >= oracle - 0.03


def test_moons_reaches_97_percent(tmp_path):
    result = _train(tmp_path, "--dataset", "moons")
    assert result["test_accuracy"] >= 0.97


def test_digits_main_job_reaches_97_percent(tmp_path):
    result = _train(tmp_path, "--dataset", "digits")
    assert result["test_accuracy"] >= 0.97


@pytest.mark.slow
def test_mnist_mlp_small_scale(tmp_path, data_dir):
    result = _train(tmp_path, "--dataset", "mnist", "--data-root", str(data_dir),
                    "--train-limit", "3000", "--epochs", "3", "--val-fraction", "0",
                    "--no-augment")
    assert result["test_accuracy"] >= 0.90  # 3,000 images, 3 epochs; the full test set
