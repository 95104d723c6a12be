"""`rosenblatt prune`: iterative global pruning with fine-tuning, its curve and checkpoint."""

from __future__ import annotations

import json

import pytest

import rosenblatt as rb
from rosenblatt.cli import main
from rosenblatt.train.cli import build_model, dataset_info


def test_prune_writes_the_curve_and_a_checkpoint_evaluate_reads(tmp_path, capsys):
    rb.manual_seed(0)
    info = dataset_info("digits")
    model, spec = build_model("mlp", info, {"hidden": [32]})
    rb.save({"model": model.state_dict(), "config": {"model": spec, "dataset": "digits",
                                                     **info}}, tmp_path / "ck.safetensors")
    out = tmp_path / "out"
    assert main(["prune", str(tmp_path / "ck.safetensors"), "--sparsity", "0.5,0.8",
                 "--train-limit", "256", "--out", str(out)]) == 0
    points = json.loads((out / "pruning.json").read_text())
    assert [round(p["sparsity"], 3) for p in points] == [0.0, 0.5, 0.8]
    assert all(0 <= p["accuracy"] <= 1 for p in points)
    assert (out / "pruning.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    state = rb.load(out / "pruned.safetensors")
    assert not any(k.endswith(("_orig", "_mask")) for k in state["model"])  # made permanent
    weights = [v for k, v in state["model"].items() if k.endswith("weight")]
    zeros = sum(int((w == 0).sum()) for w in weights) / sum(w.numel() for w in weights)
    assert zeros == pytest.approx(0.8, abs=1e-3)
    capsys.readouterr()
    assert main(["evaluate", str(out / "pruned.safetensors"), "--out", str(tmp_path)]) == 0
    assert f"accuracy {points[-1]['accuracy']:.2%}" in capsys.readouterr().out
    card = json.loads((out / "pruned.card.json").read_text())
    assert card["test_accuracy"] == points[-1]["accuracy"] and card["trained_on"] == "digits"
    assert card["made"]["by"] == "rosenblatt prune" and card["made"]["sparsity"] == \
        pytest.approx(0.8, abs=1e-3)
    assert card["bytes"] == (out / "pruned.safetensors").stat().st_size
    # exporting the pruned model keeps the chain of how it was made
    assert main(["export", str(out / "pruned.safetensors"), "--onnx", str(out / "p.onnx")]) == 0
    chain = json.loads((out / "p.card.json").read_text())["made"]
    assert chain["by"] == "rosenblatt export" and chain["from"]["by"] == "rosenblatt prune"


def test_bad_sparsities_are_refused(capsys):
    with pytest.raises(SystemExit):
        main(["prune", "lenet5-mnist", "--sparsity", "0.8,0.5"])
    assert "increasing fractions" in capsys.readouterr().err
