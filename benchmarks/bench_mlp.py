"""MLPs side by side with PyTorch on the CPU: same weights, same data, same threads.

- train_step: 784-512-256-10 (ReLU, Dropout 0.2), batch 64, Adam: one training step
  (zero_grad, forward, cross-entropy, backward, step). Goal: rosenblatt / torch <= 0.8.
- latency: 784-100-100-10 inference on one input, no gradients.
- latency_softmax: the same with a final nn.Softmax, as the DL Primer's MLP. Goal: <= 0.5.
- throughput: the same network on batches of 1,000 (the ratio is time per batch).
- peak_rss: peak resident memory of a whole MNIST MLP training run (10,000 images, one epoch
  of the 784-512-256-10 network, batch 64, Adam), each framework in a fresh process
  (VmHWM / ru_maxrss, which includes the framework's import). Goal: <= 1.0.

Rounds of the two libraries interleave and medians are reported, so a busy machine slows
both sides alike; still, run it on a quiet machine.

    python benchmarks/bench_mlp.py [--threads 1] [--rounds 15] [--quick]
        [--only train_step,latency,latency_softmax,throughput,peak_rss]

The goals are issue 22's (common.GOALS); run.py prints them beside its ratios.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import THREADS as _THREADS  # noqa: F401 - imported first: pins BLAS threads
from common import GOALS, inference_calls, interleaved

ROOT = Path(__file__).resolve().parent.parent


def _data_dir() -> Path:
    return Path(os.environ.get("ROSENBLATT_DATA") or ROOT.parent / "shared" / "data")


# ------------------------------------------------------------------ the networks
def _torch_mlp(sizes: list[int], dropout: float):
    import torch.nn as tnn

    layers: list = []
    for a, b in zip(sizes[:-2], sizes[1:-1]):
        layers += [tnn.Linear(a, b), tnn.ReLU()] + ([tnn.Dropout(dropout)] if dropout else [])
    layers.append(tnn.Linear(sizes[-2], sizes[-1]))
    return tnn.Sequential(tnn.Flatten(), *layers)


def _twins(sizes: list[int], dropout: float):
    """A rosenblatt MLP and a torch MLP with the same weights."""
    import torch

    import rosenblatt as rb
    from rosenblatt.models.mlp import MLP

    torch.manual_seed(0)
    theirs = _torch_mlp(sizes, dropout)
    ours = MLP(sizes[0], sizes[1:-1], sizes[-1], dropout=dropout)
    # both are Sequential(Flatten, Linear, ReLU, [Dropout], ...): the same layer indices
    ours.load_state_dict({f"layers.{k}": rb.tensor(v.detach().numpy())
                          for k, v in theirs.state_dict().items()})
    return ours, theirs


def bench_train_step(rounds: int, quick: bool) -> dict:
    import numpy as np
    import torch

    import rosenblatt as rb

    ours, theirs = _twins([784, 512, 256, 10], 0.2)
    rng = np.random.default_rng(0)
    x = rng.random((64, 784), dtype=np.float32)
    y = rng.integers(0, 10, 64)
    rx, ry, tx, ty = rb.tensor(x), rb.tensor(y), torch.tensor(x), torch.tensor(y)
    r_opt = rb.optim.Adam(ours.parameters(), lr=1e-3)
    t_opt = torch.optim.Adam(theirs.parameters(), lr=1e-3)
    r_loss, t_loss = rb.nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss()

    def r_step():
        r_opt.zero_grad()
        r_loss(ours(rx), ry).backward()
        r_opt.step()

    def t_step():
        t_opt.zero_grad()
        t_loss(theirs(tx), ty).backward()
        t_opt.step()

    return interleaved({"rosenblatt": r_step, "torch": t_step}, 10 if quick else 30, rounds)


def _inference_fns(batch: int, softmax: bool = False) -> dict:
    """The 784-100-100-10 twins' no_grad calls on a batch, with a final Softmax if asked."""
    import numpy as np
    import torch

    import rosenblatt as rb

    x = np.random.default_rng(1).random((batch, 784), dtype=np.float32)
    ours, theirs = _twins([784, 100, 100, 10], 0.0)
    if softmax:  # the DL Primer's MLP: Sequential(Flatten, Linear, ReLU, ..., Softmax)
        ours.layers.append(rb.nn.Softmax(dim=1))
        theirs.append(torch.nn.Softmax(dim=1))
    r_infer, t_infer = inference_calls(ours, theirs, x)
    return {"rosenblatt": r_infer, "torch": t_infer}


def bench_latency(rounds: int, quick: bool, softmax: bool = False) -> dict:
    return interleaved(_inference_fns(1, softmax), 200 if quick else 1000, rounds)


def bench_throughput(rounds: int, quick: bool) -> dict:
    return interleaved(_inference_fns(1000), 5 if quick else 20, rounds)


# ------------------------------------------------------------------ peak memory
def _read_idx(path: Path):
    import numpy as np

    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    shape = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def _peak_rss() -> int:
    """Peak resident bytes of this process: VmHWM from /proc (ru_maxrss would count the
    parent's memory at fork, which survives exec on Linux), else ru_maxrss."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    scale = 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale


def memory_child(framework: str, steps: int | None) -> dict:
    """One MNIST MLP training epoch in this (fresh) process; its peak RSS in bytes."""
    start = time.perf_counter()
    mnist = _data_dir() / "mnist"
    if framework == "torch":
        import torch
        from torch.utils.data import DataLoader, TensorDataset

        torch.manual_seed(0)
        images = _read_idx(mnist / "train-images-idx3-ubyte.gz")
        labels = _read_idx(mnist / "train-labels-idx1-ubyte.gz")
        x = torch.from_numpy(images).float().div_(255).unsqueeze(1)
        y = torch.from_numpy(labels.astype("int64"))
        loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True)
        model = _torch_mlp([784, 512, 256, 10], 0.2)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        loss_fn = torch.nn.CrossEntropyLoss()
    else:
        import rosenblatt as rb
        from rosenblatt.models.mlp import MLP
        from rosenblatt.utils.data import DataLoader

        rb.manual_seed(0)
        loader = DataLoader(rb.datasets.MNIST(mnist, train=True), batch_size=64, shuffle=True)
        model = MLP(784, [512, 256], 10, dropout=0.2)
        opt = rb.optim.Adam(model.parameters(), lr=1e-3)
        loss_fn = rb.nn.CrossEntropyLoss()
    n = 0
    for xb, yb in loader:
        opt.zero_grad()
        loss_fn(model(xb), yb).backward()
        opt.step()
        n += 1
        if steps is not None and n >= steps:
            break
    return {"bytes": _peak_rss(), "steps": n, "seconds": time.perf_counter() - start}


def bench_peak_rss(quick: bool) -> dict:
    results = {}
    for framework in ("rosenblatt", "torch"):
        cmd = [sys.executable, __file__, "--threads", str(_THREADS), "--memory-child", framework]
        if quick:
            cmd += ["--steps", "40"]
        out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
        if out.returncode != 0:
            raise RuntimeError(f"{framework} memory run failed:\n{out.stderr[-2000:]}")
        results[framework] = json.loads(out.stdout.strip().splitlines()[-1])
    return results


# ------------------------------------------------------------------------ report
def _line(name: str, ours: float, theirs: float, unit: str, scale: float) -> float:
    ratio = ours / theirs
    goal = GOALS.get(f"mlp:{name}")
    mark = "" if goal is None else f"  (goal <= {goal}: {'ok' if ratio <= goal else 'MISSED'})"
    print(f"{name:<15} rosenblatt {ours * scale:10.1f} {unit:<9} torch {theirs * scale:10.1f} "
          f"{unit:<9} ratio {ratio:5.2f}{mark}", flush=True)
    return ratio


def run(threads: int = 1, quick: bool = False, only: list[str] | None = None,
        rounds: int = 15) -> dict:
    """Run the selected benchmarks, print a line each, return {name: ratio}."""
    import torch

    torch.set_num_threads(threads)
    chosen = only or ["train_step", "latency", "latency_softmax", "throughput", "peak_rss"]
    rounds = min(rounds, 5) if quick else rounds
    print(f"MLP benchmarks: {threads} thread(s), medians of {rounds} interleaved rounds, "
          f"ratio = rosenblatt / torch")
    ratios = {}
    if "train_step" in chosen:
        t = bench_train_step(rounds, quick)
        ratios["train_step"] = _line("train_step", statistics.median(t["rosenblatt"]),
                                     statistics.median(t["torch"]), "ms/step", 1e3)
    for name in ("latency", "latency_softmax"):
        if name in chosen:
            t = bench_latency(rounds, quick, softmax=name == "latency_softmax")
            ratios[name] = _line(name, statistics.median(t["rosenblatt"]),
                                 statistics.median(t["torch"]), "us", 1e6)
    if "throughput" in chosen:
        t = bench_throughput(rounds, quick)
        ours, theirs = statistics.median(t["rosenblatt"]), statistics.median(t["torch"])
        ratios["throughput"] = _line("throughput", ours, theirs, "ms/1000", 1e3)
        print(f"{'':<15} = {1000 / ours:,.0f} vs {1000 / theirs:,.0f} samples/s")
    if "peak_rss" in chosen:
        r = bench_peak_rss(quick)
        ratios["peak_rss"] = _line("peak_rss", r["rosenblatt"]["bytes"], r["torch"]["bytes"],
                                   "MiB", 1 / 2**20)
        print(f"{'':<15} ({r['rosenblatt']['steps']} steps; training run took "
              f"{r['rosenblatt']['seconds']:.1f}s vs {r['torch']['seconds']:.1f}s)")
    return ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1, help="threads for both libraries")
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds")
    parser.add_argument("--quick", action="store_true", help="fewer repeats and steps")
    parser.add_argument("--only", default=None, help="comma-separated subset")
    parser.add_argument("--memory-child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--steps", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        print(json.dumps(memory_child(args.memory_child, args.steps)))
        return
    only = args.only.split(",") if args.only else None
    run(args.threads, args.quick, only, args.rounds)


if __name__ == "__main__":
    main()
