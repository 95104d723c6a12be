"""`rosenblatt quantize`: int8 models measured against float (size, accuracy, latency)."""

from __future__ import annotations

import json
import re

import pytest

import rosenblatt as rb
from rosenblatt.ao.quantize_cli import fusion_groups
from rosenblatt.cli import main
from rosenblatt.models import cnn3
from rosenblatt.train.cli import build_model, dataset_info


@pytest.fixture
def checkpoint(tmp_path):
    rb.manual_seed(0)
    info = dataset_info("digits")
    model, spec = build_model("mlp", info, {"hidden": [32]})
    path = tmp_path / "ck.safetensors"
    rb.save({"model": model.state_dict(), "config": {"model": spec, "dataset": "digits",
                                                     **info}}, path)
    return path


def _row(text: str, name: str) -> list[str]:
    line = next(line for line in text.splitlines() if line.startswith(name))
    return re.split(r"\s{2,}", line[len(name):].strip())


def test_static_with_onnx(checkpoint, tmp_path, capsys):
    pytest.importorskip("onnxruntime")
    out = tmp_path / "q" / "mlp.onnx"
    assert main(["quantize", str(checkpoint), "--mode", "static", "--onnx", str(out),
                 "--calibration-batches", "2", "--repeats", "2", "--markdown"]) == 0
    text = capsys.readouterr().out
    size = _row(text, "weights (bytes)")
    assert float(size[2]) < 0.45  # int8 weights (float biases and headers weigh in, tiny model)
    accuracy = _row(text, "test accuracy")
    assert abs(float(accuracy[0].rstrip("%")) - float(accuracy[1].rstrip("%"))) < 5
    assert _row(text, "latency, batch 256 (ms, Rosenblatt)")[0]
    assert _row(text, "latency, batch 256 (ms, onnxruntime)")[0]
    best, median = _row(text, "best-of latency, batch 256 (ms, Rosenblatt)"), \
        _row(text, "latency, batch 256 (ms, Rosenblatt)")
    assert all(float(b.replace(",", "")) <= float(m.replace(",", ""))
               for b, m in zip(best[:2], median[:2]))
    card = json.loads(out.with_suffix(".card.json").read_text())
    assert card["made"]["by"] == "rosenblatt quantize" and card["made"]["mode"] == "static"
    assert card["bytes"] == out.stat().st_size and card["trained_on"] == "digits"
    in_ort = _row(text, "test accuracy (onnxruntime)")  # the file's own accuracy, in the card
    assert f"{card['test_accuracy']:.2%}" == in_ort[1]
    report = card["made"]["report_float_int8"]
    assert report["weights (bytes)"] == [int(v.replace(",", "")) for v in size[:2]]
    row = text.strip().splitlines()[-1]
    assert row.startswith("| mlp (digits) | static |") and row.count(" -> ") == 7


def test_dynamic(checkpoint, capsys):
    assert main(["quantize", str(checkpoint), "--mode", "dynamic", "--repeats", "2"]) == 0
    assert float(_row(capsys.readouterr().out, "weights (bytes)")[2]) < 0.45


def test_fusion_groups_of_a_conv_net():
    groups = fusion_groups(cnn3())
    assert ["features.0.0", "features.0.1", "features.0.2"] in groups
    assert ["classifier.1", "classifier.2"] in groups and len(groups) == 4


def test_bad_requests_are_one_line_errors(checkpoint, capsys):
    assert main(["quantize", str(checkpoint), "--mode", "dynamic", "--onnx", "x.onnx"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == "rosenblatt quantize: error: --onnx exports static int8 models (QDQ); use " \
                  "--mode static"
    with pytest.raises(SystemExit):  # argparse: usage and one error line, exit 2
        main(["quantize", str(checkpoint), "--calibration-batches", "0"])
    assert "--calibration-batches: expected a positive integer, got '0'" in \
        capsys.readouterr().err
