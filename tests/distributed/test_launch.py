"""`rosenblatt launch` (torchrun's flags over mpiexec) and `rosenblatt run` of DDP programs."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("mpi4py", reason="needs the 'distributed' extra (mpi4py, mpich)")
PROGRAMS = Path(__file__).parent / "programs"


def test_launch_runs_an_unmodified_pytorch_ddp_program(launch) -> None:
    result = launch("torch_program.py")
    assert result.returncode == 0, result.stderr
    for rank in (0, 1):
        assert f"rank {rank} of 2 local {rank} elastic True batches 3" in result.stdout


def test_launch_runs_a_module_and_rosenblatt_run_is_one_process() -> None:
    env = dict(os.environ, PYTHONPATH=str(PROGRAMS), OMP_NUM_THREADS="1")
    module = subprocess.run(
        [sys.executable, "-m", "rosenblatt.cli", "launch", "--nproc_per_node=2", "-m",
         "torch_program"], capture_output=True, text=True, timeout=60, env=env)
    assert module.returncode == 0, module.stderr
    assert "rank 1 of 2 local 1" in module.stdout
    alone = subprocess.run([sys.executable, "-m", "rosenblatt.cli", "run",
                            str(PROGRAMS / "torch_program.py")],
                           capture_output=True, text=True, timeout=60, env=env)
    assert alone.returncode != 0 and "KeyError: 'RANK'" in alone.stderr  # as under python
    env.update(RANK="0", WORLD_SIZE="1", LOCAL_RANK="0")
    alone = subprocess.run([sys.executable, "-m", "rosenblatt.cli", "run",
                            str(PROGRAMS / "torch_program.py")],
                           capture_output=True, text=True, timeout=60, env=env)
    assert alone.returncode == 0, alone.stderr
    assert "rank 0 of 1" in alone.stdout and "batches 6" in alone.stdout


def test_a_world_size_that_mpi_did_not_start_is_refused() -> None:
    env = dict(os.environ, RANK="0", WORLD_SIZE="2", LOCAL_RANK="0")
    result = subprocess.run([sys.executable, "-m", "rosenblatt.cli", "run",
                             str(PROGRAMS / "torch_program.py")],
                            capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode != 0
    assert "world size 2 was asked for, but MPI started this process with world size 1" \
        in result.stderr
    assert "rosenblatt launch --nproc-per-node N" in result.stderr


def test_several_machines_go_through_mpiexec_hosts() -> None:
    from rosenblatt.distributed import run

    parser = argparse.ArgumentParser()
    run.add_arguments(parser)
    args = parser.parse_args(["--nnodes", "2", "--hosts", "a,b", "--nproc-per-node", "4",
                              "train.py", "--epochs", "3"])
    line = run.command(args)
    assert line[1:7] == ["-hosts", "a,b", "-ppn", "4", "-n", "8"]
    assert line[-4:] == ["--worker", "train.py", "--epochs", "3"]
    with pytest.raises(SystemExit, match="--nnodes 2 needs --hosts with 2 machine names"):
        run.command(parser.parse_args(["--nnodes", "2", "train.py"]))
