"""`rosenblatt run script.py [args]`: a PyTorch program runs unchanged, with torch and
torchvision resolved to Rosenblatt, as its own __main__ with its own argv."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import rosenblatt
from rosenblatt import run


def _program(tmp_path: Path, source: str, name: str = "prog.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return path


def _run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "rosenblatt.run", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def hook():
    """The hook installed for one test; the real torch (other tests use it) back after."""
    import torch

    run.install()
    yield
    run.uninstall()
    assert sys.modules["torch"] is torch


def test_torch_names_resolve_to_the_rosenblatt_modules(hook) -> None:
    import importlib

    assert importlib.import_module("torch") is rosenblatt
    lstm = importlib.import_module("torch.nn.modules.rnn").LSTM
    assert lstm is rosenblatt.nn.LSTM
    assert importlib.import_module("torch.utils.data").DataLoader is \
        rosenblatt.utils.data.DataLoader
    vision = importlib.import_module("torchvision.datasets")
    assert vision.MNIST is rosenblatt.vision.datasets.MNIST
    # the module keeps its own identity (a reload or find_spec sees the real name)
    assert importlib.import_module("torch.nn").__spec__.name == "rosenblatt.nn"


def test_a_missing_submodule_names_the_torch_path(hook) -> None:
    import importlib

    with pytest.raises(ModuleNotFoundError, match=r"torch\.nn\.no_such_part.*Rosenblatt does "
                                                  r"not have") as info:
        importlib.import_module("torch.nn.no_such_part")
    assert info.value.name == "torch.nn.no_such_part"


def test_program_gets_main_argv_and_its_folder_on_the_path(tmp_path: Path) -> None:
    (tmp_path / "helper.py").write_text("VALUE = 41\n")
    script = _program(tmp_path, """
        import sys
        import torch
        import torch.nn as nn
        import helper
        if __name__ == "__main__":
            x = torch.ones(2, 3)
            print(type(torch).__name__, torch.__name__, sys.argv[1:], helper.VALUE + 1,
                  nn.Linear(3, 1)(x).shape[0])
    """)
    out = _run_cli(str(script), "--epochs", "1", "-h", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["module", "rosenblatt", "['--epochs',", "'1',", "'-h']",
                                  "42", "2"]


def test_exit_status_and_traceback_are_the_programs(tmp_path: Path) -> None:
    failing = _program(tmp_path, "import torch\nraise ValueError('boom')\n", "bad.py")
    out = _run_cli(str(failing), cwd=tmp_path)
    assert out.returncode == 1 and "ValueError: boom" in out.stderr and "bad.py" in out.stderr
    assert "runpy" not in out.stderr and "rosenblatt/run.py" not in out.stderr  # as python does
    exiting = _program(tmp_path, "import sys\nsys.exit(3)\n", "exit3.py")
    assert _run_cli(str(exiting), cwd=tmp_path).returncode == 3
    missing = _run_cli(str(tmp_path / "nope.py"), cwd=tmp_path)
    assert missing.returncode == 2 and "no such program" in missing.stderr


def test_rosenblatt_command_has_run(tmp_path: Path) -> None:
    script = _program(tmp_path, "import torchvision, sys\nprint(torchvision.__name__, "
                                "sys.argv[1:])\n")
    out = subprocess.run([sys.executable, "-m", "rosenblatt.cli", "run", str(script), "--x", "1"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "rosenblatt.vision ['--x', '1']"


def test_run_path_restores_argv_and_path(tmp_path: Path) -> None:
    script = _program(tmp_path, """
        import sys, torch
        assert sys.argv[1:] == ["a"] and torch.__name__ == "rosenblatt"
        assert sys.path[0] == sys.argv[0].rsplit("/", 1)[0]
    """, "s.py")
    argv, path = list(sys.argv), list(sys.path)
    try:
        run.run_path(str(script), ["a"])
    finally:
        run.uninstall()
    assert sys.argv == argv and sys.path == path
