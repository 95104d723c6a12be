"""Batch-1 inference latency under no_grad: Rosenblatt eager, `rosenblatt.compile`d, and PyTorch
(eager), each library in its own process, the processes alternating round by round.

Workloads: MLP 784-100-100-10 ending in nn.Softmax; LeNet-5; a GPT (4 layers, 4 heads,
width 128) forward over a 1x64 context without a KV cache (a decode step that recomputes the
context: `compile` does not capture the cache argument). Prints per variant the median over
rounds of each round's median, and the median of per-round ratios to PyTorch (lower is better;
goal <= 0.5). On a loaded machine the numbers are noisy: compare ratios, not times.

    python benchmarks/bench_compile.py [--threads 1] [--rounds 5] [--number 300]
"""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import subprocess
import sys
import time

from common import LIB, THREADS

import numpy as np  # noqa: E402
import torch  # noqa: E402

import rosenblatt as rb  # noqa: E402
from bench_conv import _pair  # noqa: E402
from bench_seq import _gpt_pair, copy_into_torch  # noqa: E402

WORKLOADS = {
    "mlp_softmax": "MLP 784-100-100-10 + Softmax, batch 1 (us)",
    "lenet5": "LeNet-5, batch 1 (us)",
    "gpt": "GPT 4L/4H/128 forward, 1x64 context (us)",
}


def _mlp_pair() -> tuple:
    """The MLP in both libraries, with the same weights."""
    rb.manual_seed(0)
    ours = rb.nn.Sequential(rb.nn.Linear(784, 100), rb.nn.ReLU(), rb.nn.Linear(100, 100),
                            rb.nn.ReLU(), rb.nn.Linear(100, 10), rb.nn.Softmax(dim=1))
    tnn = torch.nn
    theirs = tnn.Sequential(tnn.Linear(784, 100), tnn.ReLU(), tnn.Linear(100, 100), tnn.ReLU(),
                            tnn.Linear(100, 10), tnn.Softmax(dim=1))
    copy_into_torch(ours, theirs)
    return ours, theirs


def _models(name: str) -> tuple:
    """(our model, torch's, an input of ours, torch's input)."""
    if name == "mlp_softmax":
        ours, theirs = _mlp_pair()
        x = np.random.default_rng(0).standard_normal((1, 784)).astype(np.float32)
    elif name == "lenet5":
        ours, theirs = _pair("lenet5")
        x = np.random.default_rng(0).standard_normal((1, 1, 28, 28)).astype(np.float32)
    else:
        ours, theirs = _gpt_pair()
        x = np.random.default_rng(0).integers(0, 65, (1, 64))
    return ours.eval(), theirs.eval(), rb.tensor(x), torch.from_numpy(x)


def _per_call(fn, number: int) -> float:
    """Seconds per call, the median of 5 timed batches of `number` calls after a warm-up."""
    for _ in range(max(3, number // 5)):
        fn()
    times = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - start) / number)
    return statistics.median(times)


def child(number: int) -> dict:
    """This process's timings: {workload: {variant: seconds}} for the --lib library."""
    result: dict = {}
    for name in WORKLOADS:
        ours, theirs, x, tx = _models(name)
        if LIB == "torch":
            with torch.no_grad():
                result[name] = {"torch": _per_call(functools.partial(theirs, tx), number)}
            continue
        compiled = rb.compile(ours)
        with rb.no_grad():
            np.testing.assert_array_equal(compiled(x).numpy(), ours(x).numpy())
            assert "eager" not in compiled.explain(), compiled.explain()
            times: dict = {"eager": [], "compiled": []}
            for _ in range(3):  # the two variants alternate
                times["eager"].append(_per_call(functools.partial(ours, x), number // 3 + 1))
                times["compiled"].append(_per_call(functools.partial(compiled, x),
                                                            number // 3 + 1))
        result[name] = {k: statistics.median(v) for k, v in times.items()}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--number", type=int, default=300, help="calls per timed batch")
    parser.add_argument("--lib", choices=["rosenblatt", "torch"])
    args = parser.parse_args()
    if args.lib:
        print(json.dumps(child(args.number)))
        return
    rounds: list[dict] = []
    for _ in range(args.rounds):  # A B A B: each library in a fresh process of its own
        merged: dict = {name: {} for name in WORKLOADS}
        for lib in ("rosenblatt", "torch"):
            out = subprocess.run([sys.executable, __file__, "--lib", lib, "--threads",
                                  str(THREADS), "--number", str(args.number)],
                                 check=True, capture_output=True, text=True).stdout
            for name, times in json.loads(out.splitlines()[-1]).items():
                merged[name].update(times)
        rounds.append(merged)
    print(f"batch-1 no_grad latency, {THREADS} thread(s), median of {args.rounds} rounds "
          "(ratio: median of per-round ratios to torch)")
    print(f"{'workload':44} {'eager':>9} {'compiled':>9} {'torch':>9} {'eager/t':>8} "
          f"{'comp/t':>7}")
    for name, title in WORKLOADS.items():
        med = {v: statistics.median(r[name][v] for r in rounds) * 1e6
               for v in ("eager", "compiled", "torch")}
        ratio = {v: statistics.median(r[name][v] / r[name]["torch"] for r in rounds)
                 for v in ("eager", "compiled")}
        print(f"{title:44} {med['eager']:9.1f} {med['compiled']:9.1f} {med['torch']:9.1f} "
              f"{ratio['eager']:8.2f} {ratio['compiled']:7.2f}")


if __name__ == "__main__":
    main()
