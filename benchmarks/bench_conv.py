"""Convolutional networks side by side with PyTorch on the CPU: same weights, same threads.

3-block CNN (conv3x3-BN-ReLU-maxpool x 3, 32/64/128 channels, 256 hidden) batch 64 Adam
training step; LeNet-5 batch 64 Adam training step; LeNet-5 inference at batch 256 and at
batch 1; and the peak memory of the first 3 3-block CNN training steps (each framework in
a fresh process: the resident-set high-water mark during the steps minus the resident set
before them). Prints medians and ratios (rosenblatt / torch; lower is better); run.py
prints issue 22's goals beside them.

    python benchmarks/bench_conv.py [--threads 1] [--repeats 7] [--clock wall|cpu]
        [--only cnn,lenet,infer,infer1,memory]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from common import THREADS as _THREADS  # noqa: F401 - imported first: pins BLAS threads
from common import (GOALS, inference_calls, interleaved, memory_child, parse_repeats,
                    repeats_parser, step_peak_bytes)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as tnn  # noqa: E402
import torch.nn.functional as tF  # noqa: E402

import rosenblatt as rb  # noqa: E402
from rosenblatt import models  # noqa: E402
from rosenblatt.nn import functional as F  # noqa: E402

CLOCK = time.perf_counter  # --clock cpu: process time, steadier on a shared machine


def median_times(ours, theirs, repeats: int, warmup: int = 2) -> tuple[float, float]:
    """Median seconds of each function over `repeats` runs, the two run alternately so a
    busy machine slows both alike."""
    for _ in range(warmup):
        ours()
        theirs()
    times: tuple[list, list] = ([], [])
    for _ in range(repeats):
        for fn, out in ((ours, times[0]), (theirs, times[1])):
            start = CLOCK()
            fn()
            out.append(CLOCK() - start)
    return statistics.median(times[0]), statistics.median(times[1])


def torch_lenet5() -> tnn.Module:
    """The same network as rosenblatt.models.lenet5, with the same parameter names."""
    m = tnn.Module()
    m.features = tnn.Sequential(tnn.Conv2d(1, 6, 5, padding=2), tnn.ReLU(), tnn.MaxPool2d(2),
                                tnn.Conv2d(6, 16, 5), tnn.ReLU(), tnn.MaxPool2d(2))
    m.classifier = tnn.Sequential(tnn.Flatten(), tnn.Linear(400, 120), tnn.ReLU(),
                                  tnn.Linear(120, 84), tnn.ReLU(), tnn.Linear(84, 10))
    m.forward = lambda x: m.classifier(m.features(x))
    return m


def torch_cnn3() -> tnn.Module:
    """The same network as rosenblatt.models.cnn3."""
    def block(cin: int, cout: int) -> tnn.Sequential:
        return tnn.Sequential(tnn.Conv2d(cin, cout, 3, padding=1, bias=False),
                              tnn.BatchNorm2d(cout), tnn.ReLU(), tnn.MaxPool2d(2))

    m = tnn.Module()
    m.features = tnn.Sequential(block(1, 32), block(32, 64), block(64, 128))
    m.classifier = tnn.Sequential(tnn.Flatten(), tnn.Linear(128 * 9, 256), tnn.ReLU(),
                                  tnn.Dropout(0.5), tnn.Linear(256, 10))
    m.forward = lambda x: m.classifier(m.features(x))
    return m


def _pair(name: str) -> tuple:
    rb.manual_seed(0)
    ours = getattr(models, name)()
    theirs = {"lenet5": torch_lenet5, "cnn3": torch_cnn3}[name]()
    state = {k: torch.from_numpy(np.array(v.numpy())) for k, v in ours.state_dict().items()}
    theirs.load_state_dict(state)
    return ours, theirs


def _batch(n: int) -> tuple:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, n)
    return x, y


def _steps(name: str, batch: int) -> tuple:
    """One Adam training step for each framework, as closures."""
    ours, theirs = _pair(name)
    x, y = _batch(batch)
    rx, ry, tx, ty = rb.tensor(x), rb.tensor(y), torch.tensor(x), torch.tensor(y)
    opt = rb.optim.Adam(ours.parameters(), lr=1e-3)
    topt = torch.optim.Adam(theirs.parameters(), lr=1e-3)

    def step_ours():
        loss = F.cross_entropy(ours(rx), ry)
        opt.zero_grad()
        loss.backward()
        opt.step()

    def step_torch():
        loss = tF.cross_entropy(theirs(tx), ty)
        topt.zero_grad()
        loss.backward()
        topt.step()

    return step_ours, step_torch


def bench_train(name: str, batch: int, repeats: int) -> tuple[float, float]:
    step_ours, step_torch = _steps(name, batch)
    return median_times(step_ours, step_torch, repeats)


def bench_inference(repeats: int, batch: int = 256) -> tuple[float, float]:
    x, _ = _batch(batch)
    return median_times(*inference_calls(*_pair("lenet5"), x), repeats)


def bench_latency(quick: bool) -> dict:
    """LeNet-5 batch-1 inference under no_grad: seconds per call, one entry per round."""
    x, _ = _batch(1)
    ours, theirs = inference_calls(*_pair("lenet5"), x)
    return interleaved({"rosenblatt": ours, "torch": theirs}, 50 if quick else 200,
                       5 if quick else 15)


def measure_memory(framework: str) -> int:
    """Peak resident-set growth (bytes) during the first 3 3-block CNN training steps."""
    step_ours, step_torch = _steps("cnn3", 64)
    return step_peak_bytes(step_ours if framework == "rosenblatt" else step_torch, 3)


def bench_memory() -> tuple[int, int]:
    """Each framework's steps in its own fresh process; bytes of peak growth."""
    return memory_child(__file__, "rosenblatt"), memory_child(__file__, "torch")


def main() -> None:
    parser = repeats_parser(__doc__, "cnn,lenet,infer,infer1,memory")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="wall time (default) or process CPU time (for busy machines)")
    parser.add_argument("--memory-child", default=None, help=argparse.SUPPRESS)
    args = parse_repeats(parser)
    global CLOCK
    if args.clock == "cpu":
        CLOCK = time.process_time
    torch.set_num_threads(args.threads)
    if args.memory_child:
        print(json.dumps({"bytes": measure_memory(args.memory_child)}))
        return
    rows = {  # name: (label, unit per second or byte, -> (ours, theirs))
        "cnn": ("3-block CNN train step, batch 64 (ms)", 1e3,
                lambda: bench_train("cnn3", 64, args.repeats)),
        "lenet": ("LeNet-5 train step, batch 64 (ms)", 1e3,
                  lambda: bench_train("lenet5", 64, args.repeats)),
        "infer": ("LeNet-5 inference, batch 256 (ms)", 1e3,
                  lambda: bench_inference(args.repeats)),
        "infer1": ("LeNet-5 inference, batch 1 (us)", 1e6,
                   lambda: tuple(statistics.median(t) for t in
                                 bench_latency(args.quick).values())),
        "memory": ("3-block CNN 3 train steps, peak memory (MiB)", 2.0 ** -20, bench_memory),
    }
    print(f"threads={args.threads} repeats={args.repeats} clock={args.clock} "
          f"torch={torch.__version__} numpy={np.__version__}")
    print(f"{'benchmark':45s} {'rosenblatt':>11s} {'torch':>9s} {'ratio':>7s} {'goal':>6s}")
    for key in args.only.split(","):
        label, scale, run = rows[key]
        ours, theirs = run()
        goal = GOALS.get(f"conv:{key}")
        print(f"{label:45s} {ours * scale:11.2f} {theirs * scale:9.2f} {ours / theirs:7.2f} "
              f"{'<=' + str(goal) if goal else '':>6s}", flush=True)


if __name__ == "__main__":
    main()
