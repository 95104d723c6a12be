"""Run every benchmark side by side with PyTorch and print the ratios (rosenblatt / PyTorch).

    python benchmarks/run.py [--threads N] [--quick] [--only engine mlp conv seq]

Each benchmark file runs in its own process, which pins the BLAS/OpenMP thread count before
NumPy and PyTorch load, so both libraries use the same number of threads. Nothing here
asserts: the numbers are for reading and tracking. Run it on an idle machine. The HTTP load
test (bench_serve.py) is separate: it starts a server.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

SUITES = ("engine", "mlp", "conv", "seq")


def main(argv: list[str] | None = None) -> int:
    """Run the chosen benchmark files one after another; returns the worst exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="BLAS/OpenMP threads (both sides)")
    parser.add_argument("--quick", action="store_true", help="fewer repeats, smaller sizes")
    parser.add_argument("--only", nargs="*", choices=SUITES, default=SUITES,
                        help="run only these benchmark files")
    args = parser.parse_args(argv)
    here = Path(__file__).resolve().parent
    status = 0
    for name in args.only:
        print(f"== bench_{name}.py", flush=True)
        command = [sys.executable, str(here / f"bench_{name}.py"), "--threads", str(args.threads)]
        if args.quick:
            command.append("--quick")
        status = max(status, subprocess.call(command))
    return status


if __name__ == "__main__":
    sys.exit(main())
