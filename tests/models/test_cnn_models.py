"""LeNet-5, the 3-block CNN and the small ResNet: shapes, parameter names, and real learning."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import rosenblatt as rb
from rosenblatt import models, nn, optim
from rosenblatt.datasets import MNIST


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """Small products on BLAS threads crawl when pytest -n 2 already fills the cores
    (measured: a LeNet step 11 ms on one thread, 220+ ms on two on a loaded machine)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # comes with scikit-learn; without it the tests are just slower
        yield
        return
    with threadpool_limits(1, user_api="blas"):
        yield


@pytest.mark.parametrize("build,shape", [
    (lambda: models.lenet5(), (2, 1, 28, 28)),
    (lambda: models.lenet5(activation="tanh", pool="avg"), (1, 1, 28, 28)),
    (lambda: models.cnn3(), (2, 1, 28, 28)),
    (lambda: models.cnn3(in_channels=3, image_size=32, num_classes=5), (2, 3, 32, 32)),
    (lambda: models.resnet(), (2, 1, 28, 28)),
    (lambda: models.resnet(num_classes=7, in_channels=3), (2, 3, 32, 32)),
    (lambda: models.resnet20(), (1, 3, 32, 32)),
])
def test_output_shapes_and_gradients_reach_every_parameter(build, shape):
    model = build()
    out = model(rb.randn(*shape))
    assert tuple(out.shape) == (shape[0], model.config["num_classes"])
    out.sum().backward()
    missing = [name for name, p in model.named_parameters() if p.grad is None]
    assert missing == []


def test_lenet5_parameters_match_the_classic_network():
    model = models.lenet5()
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert shapes == {
        "features.0.weight": (6, 1, 5, 5), "features.0.bias": (6,),
        "features.3.weight": (16, 6, 5, 5), "features.3.bias": (16,),
        "classifier.1.weight": (120, 400), "classifier.1.bias": (120,),
        "classifier.3.weight": (84, 120), "classifier.3.bias": (84,),
        "classifier.5.weight": (10, 84), "classifier.5.bias": (10,),
    }
    assert sum(p.numel() for p in model.parameters()) == 61706
    with pytest.raises(RuntimeError, match=r"LeNet5: expected input of shape \(N, 1, 28, 28\)"):
        model(rb.randn(2, 1, 32, 32))


def test_resnet_block_names_follow_torchvision():
    keys = list(models.resnet().state_dict())
    for key in ("conv1.weight", "bn1.running_mean", "layer1.0.conv1.weight",
                "layer2.0.downsample.0.weight", "layer2.0.downsample.1.running_var",
                "layer3.0.bn2.weight", "fc.weight", "fc.bias"):
        assert key in keys
    assert "layer1.0.downsample.0.weight" not in keys  # same shape: identity shortcut


class _TorchBlock(torch.nn.Module):
    """torchvision's BasicBlock, for reference."""

    def __init__(self, inplanes: int, planes: int, stride: int) -> None:
        super().__init__()
        tnn = torch.nn
        self.conv1 = tnn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(planes)
        self.conv2 = tnn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = tnn.BatchNorm2d(planes)
        self.downsample = tnn.Sequential(tnn.Conv2d(inplanes, planes, 1, stride, bias=False),
                                         tnn.BatchNorm2d(planes))

    def forward(self, x):
        out = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        return torch.relu(out + self.downsample(x))


@pytest.mark.parametrize("training", [True, False])
def test_resnet_block_matches_torch(training):
    """A BasicBlock with a projection shortcut: outputs and every gradient as torchvision's."""
    block = models.BasicBlock(4, 8, stride=2)
    ref = _TorchBlock(4, 8, 2)
    ref.load_state_dict({k: torch.tensor(v.numpy()) for k, v in block.state_dict().items()})
    block.train(training)
    ref.train(training)
    x = np.random.default_rng(0).standard_normal((2, 4, 9, 9)).astype(np.float32)
    xo, xr = rb.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yo, yr = block(xo), ref(xr)
    np.testing.assert_allclose(yo.detach().numpy(), yr.detach().numpy(), rtol=1e-4, atol=1e-5)
    v = np.random.default_rng(1).standard_normal(yr.shape).astype(np.float32)
    (yo * rb.tensor(v)).sum().backward()
    (yr * torch.tensor(v)).sum().backward()
    np.testing.assert_allclose(xo.grad.numpy(), xr.grad.numpy(), rtol=1e-3, atol=1e-4)
    theirs = dict(ref.named_parameters())
    for name, p in block.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), theirs[name].grad.numpy(), rtol=1e-3,
                                   atol=1e-4, err_msg=name)


def _mnist(data_dir, train: bool, n: int):
    ds = MNIST(root=data_dir / "mnist", train=train)
    x = ds.data.numpy()[:n].astype(np.float32) / 255.0
    return rb.tensor(((x - 0.1307) / 0.3081)[:, None]), rb.tensor(ds.targets.numpy()[:n])


def _train(model, x, y, epochs: int, batch: int, lr: float, seed: int = 0) -> float:
    opt = optim.Adam(model.parameters(), lr=lr)
    rng = np.random.default_rng(seed)
    model.train()
    for _ in range(epochs):
        order = rng.permutation(len(y))
        for i in range(0, len(order), batch):
            idx = rb.tensor(order[i:i + batch])
            loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return float(loss.item())


def _accuracy(model, x, y) -> float:
    model.eval()
    with rb.no_grad():
        return float((model(x).argmax(1) == y).float().mean().item())


@pytest.mark.parametrize("build,train,test,epochs,batch,lr,floor", [
    # 2,000 training digits, 4 epochs (about 3 s): >= 92% on 1,000 test digits
    (models.lenet5, 2000, 1000, 4, 32, 2e-3, 0.92),
    # 1,000 training digits, one epoch: the BN + dropout net reaches >= 80% on 500 test digits
    (models.cnn3, 1000, 500, 1, 16, 1e-3, 0.80),
], ids=["lenet5", "cnn3"])
def test_learns_mnist(data_dir, build, train, test, epochs, batch, lr, floor):
    """A few epochs on a slice of MNIST reach the floor's accuracy on held-out digits."""
    rb.manual_seed(0)
    x, y = _mnist(data_dir, True, train)
    xt, yt = _mnist(data_dir, False, test)
    model = build()
    _train(model, x, y, epochs=epochs, batch=batch, lr=lr)
    assert _accuracy(model, xt, yt) >= floor


def test_resnet_fits_a_small_batch(data_dir):
    """The skip connections train: 30 full-batch steps on 32 digits cut the loss by 70%."""
    rb.manual_seed(0)
    x, y = _mnist(data_dir, True, 32)
    model = models.resnet(width=8)
    model.train()
    with rb.no_grad():
        first = float(nn.functional.cross_entropy(model(x), y).item())
    last = _train(model, x, y, epochs=30, batch=32, lr=3e-3)
    assert last < 0.3 * first


def test_pretrained_lenet5_matches_its_model_card(data_dir):
    """The committed weights load, match the card's sha256, and classify test digits."""
    import hashlib
    import json

    from rosenblatt.models.lenet import WEIGHTS

    card = json.loads(WEIGHTS.with_suffix(".json").read_text())
    assert hashlib.sha256(WEIGHTS.read_bytes()).hexdigest() == card["sha256"]
    model = models.lenet5(pretrained=True)
    assert not model.training
    ds = MNIST(root=data_dir / "mnist", train=False)
    x = rb.tensor(ds.data.numpy()[:2000, None].astype(np.float32) / 255.0)
    y = rb.tensor(ds.targets.numpy()[:2000])
    assert _accuracy(model, x, y) >= 0.98
    with pytest.raises(ValueError, match="takes no other arguments"):
        models.lenet5(pretrained=True, num_classes=5)


def test_training_example_smoke(data_dir, tmp_path, monkeypatch, capsys):
    """examples/train_lenet_mnist.py trains, saves weights + card, and evaluates them."""
    import json
    import runpy
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "examples" / "train_lenet_mnist.py"
    out = tmp_path / "lenet.safetensors"
    common = ["--data", str(data_dir), "--test-size", "300"]
    monkeypatch.setattr(sys, "argv", [str(script), "--epochs", "1", "--train-size", "256",
                                      "--out", str(out), *common])
    runpy.run_path(str(script), run_name="__main__")
    card = json.loads(out.with_suffix(".json").read_text())
    assert card["file"] == out.name and 0.0 <= card["test_accuracy"] <= 1.0
    monkeypatch.setattr(sys, "argv", [str(script), "--evaluate", str(out), *common])
    runpy.run_path(str(script), run_name="__main__")
    assert "inverted (black on white)" in capsys.readouterr().out
