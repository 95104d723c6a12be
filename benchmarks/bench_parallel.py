"""How Rosenblatt's own kernels scale with threads (issue 22 item 2), against PyTorch.

    python benchmarks/bench_parallel.py [--threads-list 1 2] [--pairs 3] [--repeats 5]
        [--only cnn adam] [--kernels]

Workloads: the 3-block CNN train step, batch 64 (bench_conv.py's), and one Adam step over a
10M-parameter model (an 8.4M matrix plus 80 small layers' weights and biases, a mix of
large and small parameters as in a transformer). Each measurement is a fresh process for
one library at one thread count (OMP/BLAS pinned by common.py, the kernel pool follows
OMP_NUM_THREADS), run A B C A B C ... (--pairs rounds): Rosenblatt, Rosenblatt with its
kernel pool off (BLAS still at N threads: what the pool adds), PyTorch. Prints the median
of each, and the 1 -> N speedups. Run it on an idle machine; on a loaded one the speedups
mean little.

--kernels: instead, one process times single ops (forward, then forward and backward) on
large float32 arrays at each thread count of the kernel pool: median wall and CPU time
(all threads' CPU: what the split costs in total).
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


def _kernel_cases() -> dict:
    """name: (closure running the op once with backward or not) on batch-64 CNN-sized data."""
    import numpy as np

    import rosenblatt as rb
    import rosenblatt.nn.functional as F

    rng = np.random.default_rng(0)

    def data(*shape):
        return rng.standard_normal(shape, dtype=np.float32)

    image, rows = data(64, 32, 28, 28), data(2048, 512)  # 1.6M and 1M elements
    bias, weight = data(1, 32, 1, 1), data(32)
    cases = {
        "relu": (lambda x: F.relu(x), image),
        "add (same shape)": (lambda x: x + x, image),
        "mul (bias)": (lambda x: x * rb.tensor(bias), image),
        "exp": (lambda x: x.exp(), image),
        "sigmoid": (lambda x: x.sigmoid(), image),
        "gelu": (lambda x: F.gelu(x), image),
        "batch_norm (train)": (lambda x: F.batch_norm(x, None, None, rb.tensor(weight),
                                                      rb.tensor(weight), training=True), image),
        "max_pool2d 2x2": (lambda x: F.max_pool2d(x, 2), image),
        "avg_pool2d 2x2": (lambda x: F.avg_pool2d(x, 2), image),
        "dropout": (lambda x: F.dropout(x, 0.5), image),
        "layer_norm": (lambda x: F.layer_norm(x, (512,)), rows),
        "softmax": (lambda x: F.softmax(x, dim=-1), rows),
        "cross_entropy": (lambda x: F.cross_entropy(x, rb.tensor(np.arange(2048) % 512)), rows),
    }
    out = {}
    for name, (op, array) in cases.items():
        x = rb.tensor(array, requires_grad=True)
        grad = rb.tensor(np.ones(op(x).shape, dtype=np.float32))

        def forward(op=op, x=x):
            with rb.no_grad():
                op(x)

        def both(op=op, x=x, grad=grad):
            x.grad = None
            op(x).backward(grad)

        out[name] = (forward, both)
    return out


def kernel_table(threads_list: list[int], repeats: int) -> None:
    """Per-op median wall and CPU ms at each kernel-pool thread count, in this process."""
    import time

    from rosenblatt._backend import parallel

    def timed(fn) -> tuple[float, float]:
        fn()
        walls, cpus = [], []
        for _ in range(repeats):
            wall, cpu = time.perf_counter(), time.process_time()
            fn()
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
        return 1e3 * statistics.median(walls), 1e3 * statistics.median(cpus)

    cases = _kernel_cases()
    head = "".join(f"  {t}T fwd wall/cpu  {t}T f+b wall/cpu" for t in threads_list)
    print(f"{'op (ms)':20s}{head}")
    for name, (forward, both) in cases.items():
        row = ""
        for threads in threads_list:
            parallel.set_threads(threads)
            (fw, fc), (bw, bc) = timed(forward), timed(both)
            row += f"  {fw:6.2f} / {fc:6.2f}   {bw:6.2f} / {bc:6.2f}  "
        print(f"{name:20s}{row}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads-list", type=int, nargs="+",
                        default=sorted({1, len(os.sched_getaffinity(0))}))
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--only", nargs="+", default=list(WORKLOADS), choices=list(WORKLOADS))
    parser.add_argument("--child", nargs=2, metavar=("WORKLOAD", "VARIANT"))
    parser.add_argument("--threads", type=int, default=1)  # read by common.py in a child
    parser.add_argument("--kernels", action="store_true", help="time single ops instead")
    args = parser.parse_args()
    if args.kernels:
        kernel_table(args.threads_list, args.repeats)
        return
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
