"""What every benchmark shares: thread pinning before NumPy/PyTorch load, interleaved timing.

Import this module first in a benchmark script: it reads `--threads N` (default 1) from the
command line and pins BLAS/OpenMP thread counts for both libraries before either loads.
`--lib rosenblatt|torch` (set by run.py) makes the process time one library only: the
timers below then run just that library's function and give NaN for the other, so its
thread pools never compete with the other library's in the same process.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from typing import Any, Callable

LIBRARIES = ("rosenblatt", "torch")


def threads_from_argv(argv: list[str] | None = None) -> int:
    """The value of `--threads N` / `--threads=N` on the command line (1 by default)."""
    argv = sys.argv if argv is None else argv
    for i, a in enumerate(argv):
        if a == "--threads" and i + 1 < len(argv):
            return int(argv[i + 1])
        if a.startswith("--threads="):
            return int(a.split("=", 1)[1])
    return 1


def library_from_argv(argv: list[str] | None = None) -> str | None:
    """The value of `--lib NAME` on the command line (None: time both libraries)."""
    argv = sys.argv if argv is None else argv
    for i, a in enumerate(argv[:-1]):
        if a == "--lib":
            if argv[i + 1] not in LIBRARIES:
                raise SystemExit(f"--lib: expected one of {LIBRARIES}, got {argv[i + 1]!r}")
            return argv[i + 1]
    return None


THREADS = threads_from_argv()
LIB = library_from_argv()
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = str(THREADS)


def timed_libraries() -> tuple[str, ...]:
    """The libraries this process times: the `--lib` one, else both."""
    return (LIB,) if LIB else LIBRARIES


def interleaved(fns: dict[str, Callable[[], object]], number: int, rounds: int) -> dict:
    """Seconds per call of each function, one entry per round; the functions alternate
    within each round, so load on a shared machine slows them alike. Under `--lib` only
    that library's function runs; the other's entries are NaN."""
    skipped = {name for name in fns if LIB is not None and name in LIBRARIES and name != LIB}
    fns = {name: fn for name, fn in fns.items() if name not in skipped}
    for fn in fns.values():  # warm up caches and allocators
        for _ in range(max(1, number // 5)):
            fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            start = time.perf_counter()
            for _ in range(number):
                fn()
            times[name].append((time.perf_counter() - start) / number)
    return {**times, **{name: [float("nan")] * rounds for name in skipped}}


def one_library(ours: Callable[[], object], theirs: Callable[[], object], repeats: int,
                warmup: int = 2) -> tuple[float, float, float]:
    """What run.py puts in place of a suite's paired timer under `--lib`: (rosenblatt median
    seconds, torch median seconds, NaN ratio), NaN for the library this process does not run."""
    median = median_seconds(ours if LIB == "rosenblatt" else theirs, repeats, warmup)
    nan = float("nan")
    return (median, nan, nan) if LIB == "rosenblatt" else (nan, median, nan)


def median_seconds(fn: Callable[[], object], repeats: int, warmup: int = 2) -> float:
    """Median seconds of `repeats` timed calls of `fn`, after `warmup` untimed ones."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def inference_calls(ours: object, theirs: object, x: object) -> tuple[Callable[[], None],
                                                                    Callable[[], None]]:
    """(rosenblatt call, torch call): each twin model, put in eval mode, run on the NumPy
    batch x under its library's no_grad."""
    import torch

    import rosenblatt as rb

    ours.eval()  # type: ignore[attr-defined]
    theirs.eval()  # type: ignore[attr-defined]
    rx, tx = rb.tensor(x), torch.tensor(x)

    def infer_ours() -> None:
        with rb.no_grad():
            ours(rx)  # type: ignore[operator]

    def infer_torch() -> None:
        with torch.no_grad():
            theirs(tx)  # type: ignore[operator]

    return infer_ours, infer_torch


def repeats_parser(doc: str, only: str) -> Any:
    """The argument parser of a paired-timing suite: --threads, --repeats (7), --quick (3
    repeats) and --only (comma-separated rows, default `only`); parse with parse_repeats."""
    import argparse

    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="3 repeats instead of --repeats")
    parser.add_argument("--only", default=only)
    return parser


def parse_repeats(parser: Any) -> Any:
    """The parsed arguments of a repeats_parser, --quick applied to repeats."""
    args = parser.parse_args()
    if args.quick:
        args.repeats = 3
    return args


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def step_peak_bytes(step: Callable[[], object], steps: int = 1) -> int:
    """Peak resident-set growth (bytes) while `step` runs `steps` times (Linux >= 4.0): the
    kernel's high-water mark (VmHWM) is reset just before (5 to /proc/self/clear_refs), so
    the result is the steps' own peak over the resident set before them."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    before = _status_kib("VmRSS")
    for _ in range(steps):
        step()
    return (_status_kib("VmHWM") - before) * 1024


def memory_child(script: str, lib: str, *args: str) -> int:
    """The bytes a suite's fresh `script --memory-child LIB` process reports (last line JSON)."""
    import json
    import subprocess

    out = subprocess.run([sys.executable, script, "--threads", str(THREADS), "--memory-child",
                          lib, *args], capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{script} --memory-child {lib} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])["bytes"]


# Issue 22's goals, "suite:workload" -> the highest ratio (rosenblatt / PyTorch at the same
# threads; `import numpy` for engine:import) that meets it. run.py prints them beside each row.
GOALS = {
    "seq:gpt_written": 1.1, "seq:gpt": 1.1, "conv:cnn": 1.1, "conv:lenet": 0.9,
    "seq:lstm": 1.0, "mlp:train_step": 0.8, "mlp:latency_softmax": 0.5, "conv:infer1": 0.5,
    "seq:decode": 0.5, "engine:overhead": 0.4, "engine:import": 1.2, "mlp:peak_rss": 1.0,
    "conv:memory": 1.0, "seq:memory": 1.0,
}
