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
    # text and generate check their values with the same shared argument types
    (["text", "train", "--steps", "0"], "--steps: expected a positive integer, got '0'"),
    (["text", "generate", "x", "-n", "many"], "expected a positive integer, got 'many'"),
    (["generate", "train", "--model", "ae", "--minutes", "inf"], "expected a positive number"),
    (["generate", "sample", "x", "--n", "-3"], "expected a positive integer, got '-3'"),
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


# ------------------------------------------------------- issue 21: a newcomer's commands
def test_every_optional_extra_is_named_when_missing(capsys, monkeypatch):
    """Each optional extra of pyproject.toml has modules the CLI maps back to it, and a
    missing one makes the command say what to install (here: serve without uvicorn)."""
    import re
    from pathlib import Path

    from rosenblatt.cli import EXTRAS, missing_extra

    pyproject = (Path(__file__).parent.parent / "pyproject.toml").read_text()
    table = pyproject.split("[project.optional-dependencies]")[1].split("\n[")[0]
    extras = set(re.findall(r"^(\w+) = \[", table, re.M)) - {"test"}
    assert {"train", "serve", "images", "export", "gpu"} <= extras
    assert extras <= set(EXTRAS.values()), extras - set(EXTRAS.values())
    for module, extra in EXTRAS.items():
        hint = missing_extra(ModuleNotFoundError(f"No module named '{module}'", name=module))
        assert f"pip install -e '.[{extra}]'" in hint
    assert missing_extra(ModuleNotFoundError("x", name="rosenblatt.nothing")) is None
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # import uvicorn -> ModuleNotFoundError
    assert main(["serve", "--port", "1"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install -e '.[serve]'" in err and "uvicorn" in err


def test_missing_data_names_the_command_line_options(capsys, monkeypatch, tmp_path):
    from rosenblatt.apps.digits import synth

    monkeypatch.setenv("ROSENBLATT_DATA", str(tmp_path))
    monkeypatch.setattr(synth, "_CACHE", {})  # MNIST read by earlier tests in this process
    assert main(["train", "--dataset", "mnist", "--epochs", "1"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(tmp_path / "mnist") in err
    assert "--data-root" in err and "--download" in err and "download=True" not in err
    assert main(["text", "train", "--steps", "1"]) == 1
    err = capsys.readouterr().err
    assert "--data-root" in err and str(tmp_path / "tinyshakespeare") in err
    assert main(["zip", "make-samples", "--n", "1", "--out", str(tmp_path / "s")]) == 1
    err = capsys.readouterr().err
    assert "--data-root" in err and str(tmp_path / "mnist") in err


def test_one_data_root_rule_for_every_command(capsys, monkeypatch, tmp_path, data_dir):
    """--data-root, else $ROSENBLATT_DATA, else ~/.rosenblatt/data; said in each --help."""
    from rosenblatt.apps.digits import synth
    from rosenblatt.cli import build_parser
    from rosenblatt.datasets import data_root
    from rosenblatt.text.data import default_corpus

    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("ROSENBLATT_DATA")
    home = tmp_path / "home" / ".rosenblatt" / "data"
    assert data_root("mnist") == home / "mnist" and synth.data_dir() == home / "mnist"
    assert default_corpus() == home / "tinyshakespeare" / "input.txt"
    monkeypatch.setenv("ROSENBLATT_DATA", str(tmp_path / "env"))
    assert synth.data_dir() == tmp_path / "env" / "mnist"
    assert default_corpus() == tmp_path / "env" / "tinyshakespeare" / "input.txt"
    assert default_corpus(str(data_dir)) == data_dir / "tinyshakespeare" / "input.txt"
    # zip and serve commands make --data-root their process's $ROSENBLATT_DATA
    out = tmp_path / "fields"
    assert main(["zip", "make-samples", "--n", "1", "--out", str(out),
                 "--data-root", str(data_dir)]) == 0
    assert len(list(out.glob("*.png"))) == 1
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices
    for path in (["train"], ["evaluate"], ["samples"], ["serve"], ["text", "train"],
                 ["zip", "read"], ["zip", "evaluate"], ["zip", "make-samples"]):
        sub = commands[path[0]]
        if len(path) > 1:
            sub = sub._subparsers._group_actions[0].choices[path[1]]
        text = " ".join(sub.format_help().split())
        assert "--data-root" in text and "$ROSENBLATT_DATA, else ~/.rosenblatt/data" in text, path


def test_evaluate_hint_works_as_printed_and_lenet5_settings(capsys, monkeypatch, tmp_path,
                                                            data_dir):
    out = tmp_path / "run"
    assert main(["train", "--dataset", "mnist", "--model", "lenet5", "--data-root",
                 str(data_dir), "--epochs", "1", "--train-limit", "64", "--val-fraction", "0",
                 "--out", str(out)]) == 0
    captured = capsys.readouterr()
    settings = next(line for line in captured.out.splitlines() if line.startswith("settings:"))
    assert "hidden" not in settings and "dropout" not in settings and "epochs=1" in settings
    assert "\r" not in captured.err  # not a terminal: no progress-bar updates
    assert "epoch 1/1" in captured.out
    hint = next(line for line in captured.out.splitlines() if line.startswith("evaluate again:"))
    command = hint.split(": ", 1)[1].split()
    assert command[:2] == ["rosenblatt", "evaluate"]
    # a new shell: no data root in the environment, none on the command line
    monkeypatch.delenv("ROSENBLATT_DATA")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert main(command[1:]) == 0
    assert "mnist test set, 10,000 samples" in capsys.readouterr().out


def test_committed_weights_evaluate_by_name_and_by_path(capsys, tmp_path):
    from rosenblatt.models.lenet import WEIGHTS

    for spec in ("lenet5-mnist", str(WEIGHTS)):
        assert main(["evaluate", spec, "--out", str(tmp_path)]) == 0
        text = capsys.readouterr().out
        assert "accuracy 98.89%" in text and (tmp_path / "confusion.png").is_file()
    assert main(["evaluate", "lenet5-cifar"]) == 1
    assert "lenet5-mnist" in capsys.readouterr().err


def test_samples_writes_test_images_that_explain_reads(capsys, tmp_path):
    out = tmp_path / "samples"
    assert main(["samples", "--dataset", "mnist", "--n", "2", "--out", str(out)]) == 0
    assert capsys.readouterr().out.splitlines() == [f"{out / 'mnist-0.png'}: label 7",
                                                    f"{out / 'mnist-1.png'}: label 2"]
    assert main(["explain", "lenet5-mnist", str(out / "mnist-0.png"),
                 "--out", str(tmp_path / "x")]) == 0
    assert "prediction 7 " in capsys.readouterr().out
    assert main(["samples", "--dataset", "moons"]) == 1


@pytest.mark.parametrize("path", [["serve"], ["zip", "read"], ["zip", "evaluate"],
                                  ["zip", "make-samples"], ["zip", "calibrate"],
                                  ["zip", "train-cnn"], ["zip", "retrain"], ["text", "generate"],
                                  ["text", "train"], ["text", "attention"]])
def test_every_option_has_help_and_shows_its_default(path, monkeypatch):
    from rosenblatt.cli import build_parser

    monkeypatch.setenv("COLUMNS", "1000")  # no line breaks inside a default

    sub = build_parser()._subparsers._group_actions[0].choices[path[0]]
    if len(path) > 1:
        sub = sub._subparsers._group_actions[0].choices[path[1]]
    text = " ".join(sub.format_help().split())
    for action in sub._actions:
        assert action.help, (path, action.dest)
        if action.option_strings and action.default not in (None, False, "", "==SUPPRESS=="):
            assert f"(default: {action.default})" in text, (path, action.dest)
