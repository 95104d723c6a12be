"""Engine benchmarks, side by side with PyTorch CPU in one process (same thread count).

- overhead: forward+backward of ((a * b + c).relu().sum()) on 32x32 float32, where Python
  overhead per op dominates (goal: rosenblatt / PyTorch <= 0.4)
- matmul / mlp_step: compute-bound references
- import: `python -c "import rosenblatt"` against `python -c "import numpy"` (goal <= 1.2)
- chain: backward through a chain of 100,000 ops
- mlp_memory: tracemalloc peak of forward+backward of a 50-layer MLP (width 1024, batch 256)
  against parameters + gradients + activations (goal <= 1.2)

Timings interleave the two libraries round by round and report medians, so a noisy machine
slows both sides alike.
"""

from __future__ import annotations

from common import THREADS  # noqa: F401 - imported first: pins BLAS threads
from common import GOALS, interleaved, timed_libraries

import gc
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Callable

import numpy as np
import torch

import rosenblatt as rb

ROOT = Path(__file__).resolve().parent.parent


def _report(title: str, times: dict[str, list[float]], unit: float = 1e6, goal: float | None = None,
            label: str = "us") -> float:
    ours, theirs = statistics.median(times["rosenblatt"]), statistics.median(times["torch"])
    # Each round times both libraries back to back, so the median of per-round ratios
    # cancels most of the load a shared machine puts on both.
    ratio = statistics.median(a / b for a, b in zip(times["rosenblatt"], times["torch"]))
    best = min(times["rosenblatt"]) / min(times["torch"])
    goal_text = f"  (goal <= {goal})" if goal is not None else ""
    print(f"{title:<13} rosenblatt {ours * unit:9.1f} {label}   torch {theirs * unit:9.1f} {label}"
          f"   ratio {ratio:5.2f} (best-of {best:4.2f}){goal_text}")
    return ratio


def _pair(shape: tuple, count: int, requires_grad: bool = True) -> tuple[list, list]:
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(shape).astype(np.float32) for _ in range(count)]
    ours = [rb.tensor(a, requires_grad=requires_grad) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=requires_grad) for a in arrays]
    return ours, theirs


def measure_overhead(quick: bool) -> dict:
    """Per-op overhead: four small ops forward and backward; seconds per call per round."""
    (a, b, c), (ta, tb, tc) = _pair((32, 32), 3)

    def ours() -> None:
        (a * b + c).relu().sum().backward()

    def theirs() -> None:
        (ta * tb + tc).relu().sum().backward()

    # Short rounds, many of them: on a busy machine some rounds run undisturbed.
    return interleaved({"rosenblatt": ours, "torch": theirs}, number=50,
                       rounds=20 if quick else 100)


def measure_matmul(quick: bool) -> dict:
    """Compute-bound: (256x256) @ (256x256) forward and backward."""
    (a, b), (ta, tb) = _pair((256, 256), 2)

    def ours() -> None:
        (a @ b).sum().backward()

    def theirs() -> None:
        (ta @ tb).sum().backward()

    return interleaved({"rosenblatt": ours, "torch": theirs}, number=10,
                       rounds=5 if quick else 20)


def measure_mlp_step(quick: bool) -> dict:
    """A training step of a 3-layer MLP (batch 64, width 256) written on plain tensors."""
    rng = np.random.default_rng(0)
    shapes = [(784, 256), (256,), (256, 256), (256,), (256, 10), (10,)]
    arrays = [rng.standard_normal(s).astype(np.float32) * 0.05 for s in shapes]
    x = rng.standard_normal((64, 784)).astype(np.float32)

    def step(lib, params, inputs) -> None:
        h = inputs
        for i in range(0, len(params), 2):
            h = h @ params[i] + params[i + 1]
            if i < len(params) - 2:
                h = h.relu()
        loss = (h * h).mean()
        loss.backward()
        with lib.no_grad():
            for p in params:
                p -= 0.01 * p.grad
                p.grad = None

    ours_p = [rb.tensor(a, requires_grad=True) for a in arrays]
    theirs_p = [torch.tensor(a, requires_grad=True) for a in arrays]
    ours_x, theirs_x = rb.tensor(x), torch.tensor(x)
    return interleaved({"rosenblatt": lambda: step(rb, ours_p, ours_x),
                        "torch": lambda: step(torch, theirs_p, theirs_x)},
                       number=5, rounds=5 if quick else 20)


CHAIN = 100_000


def measure_chain(quick: bool, length: int = CHAIN) -> dict:
    """Forward and backward through a chain of `length` multiplications (under --lib, NaN
    for the library not run)."""
    runs = 1 if quick else 3
    times: dict[str, list[float]] = {"rosenblatt": [float("nan")] * runs,
                                     "torch": [float("nan")] * runs}
    for name in timed_libraries():
        lib, times[name] = {"rosenblatt": rb, "torch": torch}[name], []
        for _ in range(runs):
            x = lib.ones(1, requires_grad=True)
            start = time.perf_counter()
            y = x
            for _ in range(length):
                y = y * 1.0
            y.sum().backward()
            times[name].append(time.perf_counter() - start)
            assert x.grad is not None
            del y
            gc.collect()
    return times


def _child_seconds(code: str, env: dict) -> float:
    """Wall seconds of a fresh `python -c code`."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env=env)
    return time.perf_counter() - start


def _import_env() -> dict:
    """The environment of a fresh import: bytecode caches as an installed package has them
    (kept out of the source tree), written by one import of each first."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "rosenblatt-bench-pycache")
    for name in IMPORTED.values():
        _child_seconds(f"import {name}", env)
    return env


# library column -> the module imported: run.py's PyTorch column holds `import numpy`, the
# floor of `import rosenblatt` (the goal compares the two)
IMPORTED = {"rosenblatt": "rosenblatt", "torch": "numpy"}


def measure_import(quick: bool) -> dict:
    """Wall seconds of fresh `import rosenblatt` and (torch column) `import numpy` processes,
    alternating; under --lib only that column's, the other NaN."""
    env, runs = _import_env(), 5 if quick else 15
    times: dict[str, list[float]] = {lib: [float("nan")] * runs for lib in IMPORTED}
    for lib in timed_libraries():
        times[lib] = []
    for _ in range(runs):
        for lib in timed_libraries():
            times[lib].append(_child_seconds(f"import {IMPORTED[lib]}", env))
    return times


def bench_import(quick: bool) -> float:
    """Import time of rosenblatt against numpy (which it needs), best of many fresh runs."""
    walls = measure_import(quick)
    ours, numpy_s = min(walls["rosenblatt"]), min(walls["torch"])
    print(f"{'import':<13} rosenblatt {ours * 1e3:9.1f} ms   numpy {numpy_s * 1e3:9.1f} ms   "
          f"ratio {ours / numpy_s:5.2f}  (goal <= {GOALS['engine:import']})")
    return ours / numpy_s


def bench_mlp_memory(quick: bool) -> float:
    """Peak traced memory of forward+backward against params + grads + activations."""
    layers, width, batch = (10 if quick else 50), 1024, 256
    gc.collect()
    tracemalloc.start()
    rng = np.random.default_rng(0)
    weights = [rb.tensor(rng.standard_normal((width, width), dtype=np.float32) * 0.03,
                         requires_grad=True) for _ in range(layers)]
    biases = [rb.zeros(width, requires_grad=True) for _ in range(layers)]
    x = rb.tensor(rng.standard_normal((batch, width), dtype=np.float32))
    start = time.perf_counter()
    h = x
    for w, b in zip(weights, biases):
        h = (h @ w + b).relu()
    h.sum().backward()
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    param_bytes = sum(w.nbytes + b.nbytes for w, b in zip(weights, biases))
    activation_bytes = (layers + 1) * batch * width * 4  # the input and each layer's output
    ideal = 2 * param_bytes + activation_bytes  # parameters, their gradients, activations
    ratio = peak / ideal
    print(f"{'mlp memory':<13} peak {peak / 2**20:8.1f} MiB   params+grads+activations "
          f"{ideal / 2**20:8.1f} MiB   ratio {ratio:5.2f}  (goal <= 1.2; {layers} layers, "
          f"{seconds:.1f} s)")
    return ratio


def line_count() -> int:
    """Code lines of the package (growth should be visible)."""
    total = 0
    for path in (ROOT / "src" / "rosenblatt").rglob("*.py"):
        total += sum(1 for line in path.read_text().splitlines() if line.strip()
                     and not line.strip().startswith("#"))
    return total


# name: (how to measure -> {library: seconds per round}, title, unit, label, goal); run.py
# runs these with each library in its own process
PAIRED = {
    "overhead": (measure_overhead, "overhead", 1e6, "us", GOALS["engine:overhead"]),
    "matmul": (measure_matmul, "matmul 256", 1e6, "us", None),
    "mlp_step": (measure_mlp_step, "mlp step", 1e6, "us", None),
    "chain": (measure_chain, f"chain {CHAIN // 1000}k", 1e3, "ms", None),
}


def _paired(name: str) -> Callable[[bool], float]:
    measure, title, unit, label, goal = PAIRED[name]
    return lambda quick: _report(title, measure(quick), unit, goal, label)


# rosenblatt against numpy or an ideal, not against PyTorch
SOLO = {"import": bench_import, "mlp_memory": bench_mlp_memory}
BENCHMARKS = {**{name: _paired(name) for name in PAIRED}, **SOLO}


def run(threads: int = 1, quick: bool = False, only: list[str] | None = None) -> dict:
    """Run the selected benchmarks and print one line each; returns {name: ratio}."""
    torch.set_num_threads(threads)
    print(f"rosenblatt {rb.__version__} vs torch {torch.__version__} | numpy {np.__version__} | "
          f"threads {threads} | package lines {line_count()}")
    results = {}
    for name, bench in BENCHMARKS.items():
        if only and name not in only:
            continue
        results[name] = bench(quick)
    return results


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Engine benchmarks against PyTorch.")
    parser.add_argument("--threads", type=int, default=1, help="BLAS/OpenMP threads (both sides)")
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--only", default=None,
                        help="comma-separated names: " + ",".join(BENCHMARKS))
    args = parser.parse_args()
    run(args.threads, args.quick, args.only.split(",") if args.only else None)
