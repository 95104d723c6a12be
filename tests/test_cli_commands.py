"""The `rosenblatt` command: train, evaluate, summary, and one-line errors."""

import json
import subprocess
import sys

import pytest

from rosenblatt.cli import main


def _one_line_error(capsys, argv, code=2):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == code
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "error" in err
    return err


@pytest.mark.parametrize("argv, words", [
    (["train", "--dataset", "cifar"], "invalid choice"),
    (["train"], "--dataset"),
    (["train", "--dataset", "xor", "--epochs", "0"], "positive integer"),
    (["train", "--dataset", "xor", "--lr", "fast"], "positive number"),
    (["train", "--dataset", "xor", "--optimizer", "lbfgs"], "invalid choice"),
    (["train", "--dataset", "xor", "--hidden", "12,x"], "layer widths"),
    (["train", "--dataset", "xor", "--dropout", "1.5"], "[0, 1)"),
    (["summary", "--model", "vgg"], "invalid choice"),
])
def test_bad_arguments_give_one_line_and_exit_2(capsys, argv, words):
    assert words in _one_line_error(capsys, argv)


def test_runtime_errors_give_one_line_and_exit_1(capsys, tmp_path):
    assert main(["evaluate", str(tmp_path / "missing.safetensors")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no checkpoint" in err
    argv = ["train", "--dataset", "digits", "--model", "lenet5", "--out", str(tmp_path)]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "28x28" in err
    assert main(["train", "--dataset", "xor", "--model", "cnn3"]) == 1
    assert "image data" in capsys.readouterr().err


def test_console_script_exit_status():
    out = subprocess.run([sys.executable, "-m", "rosenblatt.cli", "train", "--dataset", "x"],
                         capture_output=True, text=True)
    assert out.returncode == 2 and out.stderr.count("\n") == 1


def test_train_evaluate_and_resume_end_to_end(capsys, tmp_path):
    out = tmp_path / "run"
    argv = ["train", "--dataset", "moons", "--epochs", "2", "--out", str(out), "--seed", "3"]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "test accuracy:" in text and str(out / "best.safetensors") in text
    assert str(out / "curves.png") in text
    for name in ("best.safetensors", "last.safetensors", "history.csv", "history.jsonl",
                 "curves.png", "result.json"):
        assert (out / name).is_file(), name
    result = json.loads((out / "result.json").read_text())
    assert result["epochs"] == 2 and 0.5 < result["test_accuracy"] <= 1

    assert main(["evaluate", str(out / "best.safetensors")]) == 0
    text = capsys.readouterr().out
    assert "accuracy" in text and "precision" in text and (out / "confusion.png").is_file()

    assert main(argv[:3] + ["--epochs", "3", "--out", str(out), "--seed", "3",
                            "--resume", str(out / "last.safetensors")]) == 0
    capsys.readouterr()
    lines = (out / "history.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in lines] == [1, 2, 3]


def test_summary_command(capsys):
    assert main(["summary", "--model", "mlp", "--dataset", "mnist", "--hidden", "100,100"]) == 0
    text = capsys.readouterr().out
    assert "89,610" in text and "358,440" in text and "89,400" in text
    assert main(["summary", "--model", "lenet5", "--dataset", "mnist",
                 "--optimizer", "sgd_momentum"]) == 0
    text = capsys.readouterr().out
    assert "Conv2d" in text and "SGD with momentum" in text
