"""`rosenblatt launch`: torchrun's command line, with MPI's `mpiexec` starting the processes.

`rosenblatt launch --nproc-per-node N script.py args` runs `mpiexec -n N` on this machine;
each process is a worker (`python -m rosenblatt.distributed.run --worker ...`) that sets
torchrun's environment (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, GROUP_RANK, MASTER_ADDR,
MASTER_PORT, TORCHELASTIC_RUN_ID) from MPI's, then runs the program as `rosenblatt run` does
(`import torch` is Rosenblatt), or a module with `-m`. A worker whose program fails aborts the
MPI job, so the other ranks stop too; the launcher returns that failure's status. Several
machines: `--nnodes M --hosts a,b` on one machine starts them all through MPI's launcher (ssh),
or `mpiexec -hosts a,b -ppn N python -m rosenblatt.distributed.run --worker script.py`.
"""

from __future__ import annotations

import argparse
import os
import runpy
import shutil
import subprocess
import sys
import uuid
from typing import Any, Sequence

_WORKER = "--worker"


def mpiexec() -> str:
    """The mpiexec next to this Python (the mpich wheel's), else one on PATH."""
    here = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    found = here if os.path.exists(here) else shutil.which("mpiexec")
    if found is None:
        raise ModuleNotFoundError(
            "rosenblatt launch needs the optional 'distributed' dependencies (mpi4py and an "
            "MPI with mpiexec, such as the mpich wheel): pip install -e '.[distributed]' in the "
            "checkout, or pip install 'rosenblatt[distributed]'", name="mpi4py")
    return found


def command(args: argparse.Namespace) -> list[str]:
    """The mpiexec command line that starts every worker."""
    nproc = _nproc(args.nproc_per_node)
    line = [mpiexec()]
    if args.nnodes > 1:
        hosts = [h for h in (args.hosts or "").split(",") if h]
        if len(hosts) != args.nnodes:
            raise SystemExit(f"rosenblatt launch: --nnodes {args.nnodes} needs --hosts with "
                             f"{args.nnodes} machine names (comma-separated); MPI starts the "
                             "processes on all of them from this one command")
        line += ["-hosts", ",".join(hosts), "-ppn", str(nproc)]
    line += ["-n", str(nproc * args.nnodes), sys.executable, "-m", "rosenblatt.distributed.run",
             _WORKER]
    return line + (["-m", args.script] if args.module else [args.script]) + list(args.args)


def _nproc(value: str) -> int:
    """--nproc-per-node: a number, or 'cpu'/'auto' for the CPU count (as torchrun)."""
    if value in ("cpu", "auto"):
        return os.cpu_count() or 1
    if not value.isdigit() or int(value) < 1:
        raise SystemExit(f"rosenblatt launch: --nproc-per-node {value}: expected a positive "
                         "number, 'cpu' or 'auto'")
    return int(value)


def launch(args: argparse.Namespace) -> int:
    """Run the workers under mpiexec; the first failure's exit status, or 0."""
    env = dict(os.environ, MASTER_ADDR=args.master_addr, MASTER_PORT=str(args.master_port),
               TORCHELASTIC_RUN_ID=args.rdzv_id or uuid.uuid4().hex,
               ROSENBLATT_NNODES=str(args.nnodes))
    if "OMP_NUM_THREADS" not in env and (_nproc(args.nproc_per_node) > 1):
        env["OMP_NUM_THREADS"] = "1"  # as torchrun: N processes must not each take every core
        print("rosenblatt launch: OMP_NUM_THREADS=1 in each process (set it to change that)",
              file=sys.stderr)
    status = subprocess.call(command(args), env=env)
    if status != 0:
        print(f"rosenblatt launch: a process failed (exit status {status}); MPI stopped the "
              "others", file=sys.stderr)
    return 1 if status < 0 else status


def _set_environment() -> None:
    """torchrun's variables, from the ones MPI's launchers set (MPICH's, Open MPI's)."""
    get = os.environ.get
    rank = get("PMI_RANK") or get("OMPI_COMM_WORLD_RANK") or "0"
    size = get("PMI_SIZE") or get("OMPI_COMM_WORLD_SIZE") or "1"
    local = get("MPI_LOCALRANKID") or get("OMPI_COMM_WORLD_LOCAL_RANK") or "0"
    local_size = get("MPI_LOCALNRANKS") or get("OMPI_COMM_WORLD_LOCAL_SIZE") or size
    os.environ.update(RANK=rank, WORLD_SIZE=size, LOCAL_RANK=local, LOCAL_WORLD_SIZE=local_size,
                      GROUP_RANK=str(int(rank) // max(int(local_size), 1)),
                      ROLE_RANK=rank, ROLE_WORLD_SIZE=size)
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", "29500")
    os.environ.setdefault("TORCHELASTIC_RUN_ID", "none")


def _let_output_reach_the_launcher() -> None:
    """mpiexec relays each rank's stderr through a pipe; an abort right after the rank's
    traceback can kill the relay before it passes it on. A moment's wait lets it through."""
    import time

    time.sleep(0.5)


def worker(argv: Sequence[str]) -> int:
    """One process of the job: run the program; on failure, abort the whole MPI job."""
    _set_environment()
    from .. import run as rosenblatt_run
    if argv and argv[0] == "-m":
        status = _run_module(argv[1], argv[2:])
    else:
        status = rosenblatt_run._run(argv[0], argv[1:])
    if status != 0 and int(os.environ["WORLD_SIZE"]) > 1:
        from mpi4py import MPI
        sys.stderr.flush()
        print(f"rosenblatt launch: rank {os.environ['RANK']} failed (exit status {status}): "
              "stopping all ranks", file=sys.stderr, flush=True)
        _let_output_reach_the_launcher()
        MPI.COMM_WORLD.Abort(status)
    return status


def _run_module(name: str, args: Sequence[str]) -> int:
    """`python -m name args` with torch resolved to Rosenblatt; its exit status."""
    from .. import run as rosenblatt_run
    sys.argv = [name, *args]
    rosenblatt_run.install()
    try:
        runpy.run_module(name, run_name="__main__", alter_sys=True)
    except SystemExit as e:
        return rosenblatt_run._exit_status(e.code)
    except KeyboardInterrupt:
        raise
    except BaseException:  # noqa: BLE001 - the program's own error, reported as Python does
        import traceback
        traceback.print_exc()
        return 1
    return 0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """torchrun's flags (both --nproc-per-node and --nproc_per_node spellings)."""
    parser.add_argument("--nproc-per-node", "--nproc_per_node", default="1", metavar="N",
                        help="processes on each machine (a number, 'cpu' or 'auto')")
    parser.add_argument("--nnodes", type=int, default=1, help="how many machines")
    parser.add_argument("--node-rank", "--node_rank", type=int, default=0,
                        help="accepted for torchrun's command lines; MPI numbers the machines")
    parser.add_argument("--master-addr", "--master_addr", default="127.0.0.1",
                        help="exported as MASTER_ADDR (MPI does the rendezvous)")
    parser.add_argument("--master-port", "--master_port", type=int, default=29500,
                        help="exported as MASTER_PORT")
    parser.add_argument("--hosts", default=None,
                        help="with --nnodes > 1: the machines, comma-separated (MPI starts "
                             "the processes on them over ssh)")
    parser.add_argument("--standalone", action="store_true", help="accepted (one machine)")
    parser.add_argument("--rdzv-id", "--rdzv_id", default=None, help="the job's id")
    parser.add_argument("-m", "--module", action="store_true",
                        help="the program is a module name, run as python -m")
    parser.add_argument("script", help="the program (a .py file, or a module with -m)")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="the program's own arguments")


def register(subparsers: Any) -> None:
    """Add `rosenblatt launch` to the command line."""
    parser = subparsers.add_parser(
        "launch", help="run a program in several processes (torchrun's flags, over MPI)",
        description="Start N processes of a (PyTorch) program with torchrun's environment; "
                    "MPI's mpiexec starts them and connects them.")
    add_arguments(parser)
    parser.set_defaults(func=launch)


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m rosenblatt.distributed.run [--worker] ...`."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == _WORKER:
        return worker(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m rosenblatt.distributed.run")
    add_arguments(parser)
    return launch(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
