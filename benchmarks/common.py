"""What every benchmark shares: thread pinning before NumPy/PyTorch load, interleaved timing.

Import this module first in a benchmark script: it reads `--threads N` (default 1) from the
command line and pins BLAS/OpenMP thread counts for both libraries before either loads.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Callable


def threads_from_argv(argv: list[str] | None = None) -> int:
    """The value of `--threads N` / `--threads=N` on the command line (1 by default)."""
    argv = sys.argv if argv is None else argv
    for i, a in enumerate(argv):
        if a == "--threads" and i + 1 < len(argv):
            return int(argv[i + 1])
        if a.startswith("--threads="):
            return int(a.split("=", 1)[1])
    return 1


THREADS = threads_from_argv()
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = str(THREADS)


def interleaved(fns: dict[str, Callable[[], object]], number: int, rounds: int) -> dict:
    """Seconds per call of each function, one entry per round; the functions alternate
    within each round, so load on a shared machine slows them alike."""
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
    return times
