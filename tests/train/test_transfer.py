"""Transfer learning: freezing by pattern, new heads, discriminative learning rates, gradual
unfreezing, and `rosenblatt train --init-from`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import rosenblatt as rb
from rosenblatt.cli import main
from rosenblatt.models import lenet5
from rosenblatt.models.mlp import MLP
from rosenblatt.train import LambdaCallback, Trainer
from rosenblatt.train.transfer import (
    GradualUnfreezing,
    freeze,
    head_name,
    layer_groups,
    load_matching,
    param_groups,
    replace_head,
    unfreeze,
)
from rosenblatt.utils.data import DataLoader, TensorDataset


def test_freeze_by_pattern_and_unfreeze() -> None:
    model = lenet5()
    names = freeze(model, "features.*")
    assert names == ["features.0.weight", "features.0.bias", "features.3.weight",
                     "features.3.bias"]
    assert [n for n, p in model.named_parameters() if not p.requires_grad] == names
    assert freeze(model, ["*.bias"])[-1] == "classifier.5.bias"
    unfreeze(model, "features")  # a module name covers all its parameters
    assert [n for n, p in model.named_parameters() if not p.requires_grad] == [
        "classifier.1.bias", "classifier.3.bias", "classifier.5.bias"]
    with pytest.raises(ValueError, match="no parameter matches.*layers: classifier.1"):
        freeze(model, "backbone.*")


def test_head_replacement_and_loading_what_matches() -> None:
    rb.manual_seed(0)
    source = lenet5(num_classes=10)
    model = lenet5(num_classes=10)
    assert head_name(model) == "classifier.5"
    replace_head(model, 3)
    assert model(rb.zeros(2, 1, 28, 28)).shape == (2, 3)
    report = load_matching(model, source.state_dict())
    assert report["skipped"] == ["classifier.5.weight", "classifier.5.bias"]
    np.testing.assert_array_equal(model.features[0].weight.detach().numpy(),
                                  source.features[0].weight.detach().numpy())
    fresh = lenet5(num_classes=10)
    report = load_matching(fresh, source.state_dict(), skip=["classifier.5"])
    assert report["missing"] == ["classifier.5.bias", "classifier.5.weight"]
    assert not np.array_equal(fresh.classifier[5].weight.detach().numpy(),
                              source.classifier[5].weight.detach().numpy())


def _points(n: int = 128, seed: int = 0) -> DataLoader:
    g = rb.Generator().manual_seed(seed)
    x = rb.randn(n, 2, generator=g)
    y = ((x[:, 0] * x[:, 1]) > 0).long()
    return DataLoader(TensorDataset(x, y), batch_size=32, shuffle=True, generator=g)


def test_discriminative_rates_and_frozen_layers_stay_put() -> None:
    rb.manual_seed(0)
    model = MLP(2, [16, 16], 2)
    groups = param_groups(model, lr=0.1, lr_backbone=0.001)
    assert [g["lr"] for g in groups] == [0.001, 0.1]
    assert [len(g["params"]) for g in groups] == [4, 2]
    freeze(model, "layers.1")
    optimizer = rb.optim.SGD(groups, lr=0.1)
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    Trainer(model, rb.nn.CrossEntropyLoss(), optimizer, progress=False,
            verbose=False).fit(_points(), epochs=1)
    after = model.state_dict()
    np.testing.assert_array_equal(after["layers.1.weight"].numpy(), before["layers.1.weight"])
    head_step = np.abs(after["layers.5.weight"].numpy() - before["layers.5.weight"]).max()
    body_step = np.abs(after["layers.3.weight"].numpy() - before["layers.3.weight"]).max()
    assert head_step > 10 * body_step > 0  # lr 0.1 against 0.001


def test_gradual_unfreezing_from_the_top() -> None:
    rb.manual_seed(0)
    model = MLP(2, [8, 8, 8], 2)
    assert layer_groups(model) == ["layers.1", "layers.3", "layers.5"]
    seen = []
    record = LambdaCallback(on_epoch_start=lambda t, e: seen.append(
        [n for n, p in model.named_parameters() if p.requires_grad and n.endswith("weight")]))
    before = model.layers[1].weight.detach().numpy().copy()
    trainer = Trainer(model, rb.nn.CrossEntropyLoss(),
                      rb.optim.Adam(model.parameters(), lr=0.01), progress=False,
                      verbose=False, callbacks=[GradualUnfreezing(every=2), record])
    trainer.fit(_points(), epochs=5)
    assert seen == [["layers.7.weight"], ["layers.7.weight"],
                    ["layers.5.weight", "layers.7.weight"],
                    ["layers.5.weight", "layers.7.weight"],
                    ["layers.3.weight", "layers.5.weight", "layers.7.weight"]]
    np.testing.assert_array_equal(model.layers[1].weight.detach().numpy(), before)  # frozen


def test_cli_init_from_freeze_new_head(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    base = ["--epochs", "2", "--no-progress", "--hidden", "16,16"]
    assert main(["train", "--dataset", "moons", "--out", str(tmp_path / "src"), *base]) == 0
    source = rb.load(tmp_path / "src" / "last.safetensors")["model"]
    capsys.readouterr()
    code = main(["train", "--dataset", "xor", "--out", str(tmp_path / "dst"), *base,
                 "--init-from", str(tmp_path / "src" / "last.safetensors"),
                 "--freeze", "layers.1", "--new-head", "2", "--lr-backbone", "0.001"])
    assert code == 0
    out = capsys.readouterr().out
    assert "transfer: init_from=" in out and "frozen=['layers.1']" in out
    state = rb.load(tmp_path / "dst" / "last.safetensors")
    tuned = state["model"]
    np.testing.assert_array_equal(tuned["layers.1.weight"].numpy(),
                                  source["layers.1.weight"].numpy())
    assert not np.array_equal(tuned["layers.3.weight"].numpy(),
                              source["layers.3.weight"].numpy())
    assert state["config"]["transfer"]["new_head"] is True
    assert [g["lr"] for g in state["optimizer"]["param_groups"]] == [0.001, 0.01]
    assert main(["evaluate", str(tmp_path / "dst" / "last.safetensors")]) == 0
    assert main(["train", "--dataset", "xor", "--freeze", "x", *base]) == 1
    assert "--freeze needs --init-from" in capsys.readouterr().err


def test_cli_gradual_unfreezing(tmp_path: Path) -> None:
    base = ["--epochs", "2", "--no-progress", "--hidden", "16,16"]
    assert main(["train", "--dataset", "moons", "--out", str(tmp_path / "src"), *base]) == 0
    source = rb.load(tmp_path / "src" / "last.safetensors")["model"]
    assert main(["train", "--dataset", "xor", "--out", str(tmp_path / "dst"), *base,
                 "--init-from", str(tmp_path / "src" / "last.safetensors"),
                 "--unfreeze-every", "1"]) == 0
    tuned = rb.load(tmp_path / "dst" / "last.safetensors")["model"]
    # epoch 1: the head alone; epoch 2: and layers.3; layers.1 not yet
    np.testing.assert_array_equal(tuned["layers.1.weight"].numpy(),
                                  source["layers.1.weight"].numpy())
    for name in ("layers.3.weight", "layers.5.weight"):
        assert not np.array_equal(tuned[name].numpy(), source[name].numpy())
