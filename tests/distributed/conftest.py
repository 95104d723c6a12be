"""Runs a program in 2 MPI processes on this machine, bounded by a timeout."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest

PROGRAMS = Path(__file__).parent / "programs"


@pytest.fixture
def launch() -> Callable[..., subprocess.CompletedProcess]:
    """launch(program, *args, nproc=2, timeout=60): `rosenblatt launch` of tests/distributed/
    programs/<program>; its completed process (output captured)."""
    pytest.importorskip("mpi4py", reason="needs the 'distributed' extra (mpi4py, mpich)")

    def run(program: str, *args: str, nproc: int = 2,
            timeout: float = 60) -> subprocess.CompletedProcess:
        env = dict(os.environ, OMP_NUM_THREADS="1")
        command = [sys.executable, "-m", "rosenblatt.distributed.run", "--nproc-per-node",
                   str(nproc), str(PROGRAMS / program), *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
    return run
