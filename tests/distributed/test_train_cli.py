"""`rosenblatt launch -m rosenblatt train` in 2 processes: rank 0 writes; resume is exact."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import rosenblatt as rb

pytest.importorskip("mpi4py", reason="needs the 'distributed' extra (mpi4py, mpich)")


def train(out, epochs: int, *extra: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "rosenblatt", "launch", "--nproc-per-node", "2", "-m",
               "rosenblatt", "train", "--dataset", "moons", "--epochs", str(epochs),
               "--out", str(out), "--no-progress", *extra]
    return subprocess.run(command, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, OMP_NUM_THREADS="1"))


def test_two_processes_train_write_once_and_resume_exactly(tmp_path) -> None:
    straight = train(tmp_path / "straight", 3)
    assert straight.returncode == 0, straight.stderr
    assert straight.stdout.count("test accuracy") == 1  # rank 0 prints, the others are quiet
    assert straight.stdout.count("epoch 3/3") == 1
    first = train(tmp_path / "resumed", 2)
    assert first.returncode == 0, first.stderr
    resumed = train(tmp_path / "resumed", 3, "--resume",
                    str(tmp_path / "resumed" / "last.safetensors"))
    assert resumed.returncode == 0, resumed.stderr
    assert len((tmp_path / "resumed" / "history.jsonl").read_text().splitlines()) == 3
    a = rb.load(tmp_path / "straight" / "last.safetensors")["model"]
    b = rb.load(tmp_path / "resumed" / "last.safetensors")["model"]
    assert sorted(a) == sorted(b) and not any(k.startswith("module.") for k in a)
    for key in a:
        np.testing.assert_array_equal(a[key].numpy(), b[key].numpy(), err_msg=key)
