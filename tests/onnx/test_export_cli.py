"""`rosenblatt export CHECKPOINT --onnx OUT` for checkpoints the CLI writes."""

import json

import numpy as np
import pytest

import rosenblatt as rb
from rosenblatt.cli import main
from rosenblatt.train.cli import build_model, dataset_info

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


@pytest.mark.parametrize("name", ["mlp", "cnn3"])
def test_export_a_trained_checkpoint(tmp_path, capsys, name):
    info = dataset_info("fashion-mnist")
    model, spec = build_model(name, info)
    config = {"model": spec, "dataset": "fashion-mnist", **info}
    rb.save({"model": model.state_dict(), "config": config}, tmp_path / "best.safetensors")
    (tmp_path / "result.json").write_text('{"test_accuracy": 0.875}')  # as train writes it
    out = tmp_path / "out" / "model.onnx"
    assert main(["export", str(tmp_path / "best.safetensors"), "--onnx", str(out)]) == 0
    assert "onnxruntime check" in capsys.readouterr().out
    card = json.loads((tmp_path / "out" / "model.card.json").read_text())
    assert card["test_accuracy"] == 0.875 and card["trained_on"] == "fashion-mnist"
    assert card["architecture"] == name and card["bytes"] == out.stat().st_size
    assert card["made"]["by"] == "rosenblatt export" and card["made"]["opset"] == 17
    assert card["made"]["onnxruntime_max_relative_difference"] < 1e-5
    onnx.checker.check_model(onnx.load(str(out)), full_check=True)
    x = rb.randn(4, *info["input_shape"])
    got = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"]).run(
        None, {"input": x.numpy()})[0]
    ref = model.eval()(x).detach().numpy()
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5 * float(np.abs(ref).max()))


def test_export_a_committed_model_by_name_and_a_missing_file(tmp_path, capsys):
    assert main(["export", "lenet5-mnist", "--onnx", str(tmp_path / "l.onnx")]) == 0
    assert (tmp_path / "l.onnx").stat().st_size > 100_000
    card = json.loads((tmp_path / "l.card.json").read_text())
    assert card["test_accuracy"] > 0.98 and "MNIST" in card["trained_on"]  # the committed card
    assert main(["export", str(tmp_path / "none.safetensors"), "--onnx", "x.onnx"]) == 1
    assert "no checkpoint at" in capsys.readouterr().err


@pytest.mark.parametrize("kind,outputs", [("lstm", 3), ("gpt", 1)])
def test_export_a_text_checkpoint(tmp_path, capsys, kind, outputs):
    from rosenblatt.text.tokenizer import CharTokenizer
    from rosenblatt.text.train import make_model, save_checkpoint

    tokenizer = CharTokenizer.from_text("hello world")
    args = {"hidden_size": 16, "embed_dim": 8, "num_layers": 1} if kind == "lstm" else \
        {"n_layer": 1, "n_head": 2, "n_embd": 16}
    model = make_model(kind, tokenizer.vocab_size, 16, args)
    save_checkpoint(tmp_path / "text.safetensors", model, tokenizer)
    out = tmp_path / "text.onnx"
    assert main(["export", str(tmp_path / "text.safetensors"), "--onnx", str(out)]) == 0
    assert "onnxruntime check" in capsys.readouterr().out
    session = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"])
    ids = rb.randint(0, tokenizer.vocab_size, (3, 11))  # another batch size and length
    got = session.run(None, {"input": ids.numpy()})
    ref = model.eval()(ids)
    ref = ref[0] if isinstance(ref, tuple) else ref
    assert len(got) == outputs
    np.testing.assert_allclose(got[0], ref.detach().numpy(), rtol=1e-5,
                               atol=1e-5 * float(np.abs(ref.detach().numpy()).max()))
