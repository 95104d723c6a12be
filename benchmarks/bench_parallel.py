"""How Rosenblatt's own kernels scale with threads (issue 22 item 2), against PyTorch.

    python benchmarks/bench_parallel.py [--threads-list 1 2] [--pairs 3] [--repeats 5]
        [--only cnn adam]

Workloads: the 3-block CNN train step, batch 64 (bench_conv.py's), and one Adam step over a
10M-parameter model (an 8.4M matrix plus 80 small layers' weights and biases, a mix of
large and small parameters as in a transformer). Each measurement is a fresh process for
one library at one thread count (OMP/BLAS pinned by common.py, the kernel pool follows
OMP_NUM_THREADS), run A B C A B C ... (--pairs rounds): Rosenblatt, Rosenblatt with its
kernel pool off (BLAS still at N threads: what the pool adds), PyTorch. Prints the median
of each, and the 1 -> N speedups. Run it on an idle machine; on a loaded one the speedups
mean little.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
VARIANTS = ("rosenblatt", "rosenblatt-nopool", "torch")
SHAPES = [(2048, 4096), (2048,)] + [(140, 140), (140,)] * 80  # 8.4M + 80 x 19.7k = 10M


def _adam_step(lib: str):
    """One Adam step over the SHAPES parameters with fixed gradients, as a closure."""
    import numpy as np

    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s, dtype=np.float32) for s in SHAPES]
    if lib == "torch":
        import torch

        params = [torch.tensor(a, requires_grad=True) for a in arrays]
        for p in params:
            p.grad = torch.ones_like(p) * 0.01
        opt = torch.optim.Adam(params, lr=1e-3, weight_decay=0.01)
    else:
        import rosenblatt as rb

        params = [rb.tensor(a, requires_grad=True) for a in arrays]
        for p in params:
            p.grad = rb.ones_like(p) * 0.01
        opt = rb.optim.Adam(params, lr=1e-3, weight_decay=0.01)
    return opt.step


def _cnn_step(lib: str):
    """bench_conv.py's 3-block CNN batch-64 Adam train step for one library."""
    import bench_conv

    ours, theirs = bench_conv._steps("cnn3", 64)
    return theirs if lib == "torch" else ours


PARAMS = sum(math.prod(s) for s in SHAPES)
WORKLOADS = {"cnn": ("3-block CNN train step, b64", _cnn_step),
             "adam": (f"Adam step, {PARAMS / 1e6:.1f}M params", _adam_step)}


def child(name: str, variant: str, repeats: int) -> float:
    """Median seconds of `repeats` calls of a workload, in this (fresh) process."""
    sys.path.insert(0, str(HERE))
    import common  # pins BLAS/OMP threads from --threads before numpy loads

    lib = "torch" if variant == "torch" else "rosenblatt"
    fn = WORKLOADS[name][1](lib)
    if variant == "rosenblatt-nopool":
        from rosenblatt._backend import parallel

        parallel.set_threads(1)
    return common.median_seconds(fn, repeats)


def measure(name: str, variant: str, threads: int, repeats: int) -> float:
    """One fresh process: its median seconds."""
    command = [sys.executable, __file__, "--child", name, variant, "--threads", str(threads),
               "--repeats", str(repeats)]
    out = subprocess.run(command, capture_output=True, text=True, check=True, cwd=HERE)
    return json.loads(out.stdout.strip().splitlines()[-1])["seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads-list", type=int, nargs="+",
                        default=sorted({1, len(os.sched_getaffinity(0))}))
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--only", nargs="+", default=list(WORKLOADS), choices=list(WORKLOADS))
    parser.add_argument("--child", nargs=2, metavar=("WORKLOAD", "VARIANT"))
    parser.add_argument("--threads", type=int, default=1)  # read by common.py in a child
    args = parser.parse_args()
    if args.child:
        print(json.dumps({"seconds": child(*args.child, args.repeats)}))
        return
    results: dict = {}
    for name in args.only:
        for threads in args.threads_list:
            runs: dict[str, list[float]] = {v: [] for v in VARIANTS}
            for _ in range(args.pairs):
                for variant in VARIANTS:
                    runs[variant].append(measure(name, variant, threads, args.repeats))
            results[name, threads] = {v: statistics.median(t) for v, t in runs.items()}
            row = "  ".join(f"{v} {1e3 * s:8.1f} ms" for v, s in results[name, threads].items())
            print(f"{WORKLOADS[name][0]:32s} {threads:2d} threads: {row}", flush=True)
    first, last = args.threads_list[0], args.threads_list[-1]
    if first != last:
        print(f"\nspeedup {first} -> {last} threads (time at {first} / time at {last}):")
        for name in args.only:
            row = "  ".join(f"{v} {results[name, first][v] / results[name, last][v]:.2f}x"
                            for v in VARIANTS)
            print(f"{WORKLOADS[name][0]:32s} {row}")


if __name__ == "__main__":
    main()
