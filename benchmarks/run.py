"""Run the benchmarks side by side with PyTorch and print the ratios (rosenblatt / PyTorch).

    python benchmarks/run.py [--threads N] [--quick] [--only NAME ...]

Thread counts are pinned before NumPy or PyTorch load, so both libraries run on the same
number of threads. Nothing here asserts: the numbers are for reading and for tracking.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="BLAS/OpenMP threads (both sides)")
    parser.add_argument("--quick", action="store_true", help="fewer repeats, smaller sizes")
    parser.add_argument("--only", nargs="*", default=None, help="run only these benchmarks")
    args = parser.parse_args(argv)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(args.threads)
    root = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root))
    from benchmarks import bench_engine  # noqa: E402 - after the thread variables are set

    bench_engine.run(threads=args.threads, quick=args.quick, only=args.only)


if __name__ == "__main__":
    main()
