"""Convolutional networks side by side with PyTorch on the CPU: same weights, same threads.

3-block CNN (conv3x3-BN-ReLU-maxpool x 3, 32/64/128 channels, 256 hidden) batch 64 Adam
training step; LeNet-5 batch 64 Adam training step; LeNet-5 batch 256 inference; and the
peak memory of one 3-block CNN training step (each framework in a fresh process: the
resident-set high-water mark during the step minus the resident set before it).
Prints medians and ratios (rosenblatt / torch; lower is better). Goals: <= 1.5, 1.3, 1.5
and <= 1.5 for the memory.

    python benchmarks/bench_conv.py [--threads 1] [--repeats 7] [--clock wall|cpu]
        [--only cnn,lenet,infer,memory]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

from common import THREADS as _THREADS  # noqa: F401 - imported first: pins BLAS threads
from common import inference_calls, parse_repeats, repeats_parser

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


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def measure_memory(framework: str) -> int:
    """Peak resident-set growth (bytes) during the first 3-block CNN training step.

    The kernel's high-water mark (VmHWM) is reset just before the step (Linux >= 4.0:
    writing 5 to /proc/self/clear_refs), so the result is the step's own peak.
    """
    step_ours, step_torch = _steps("cnn3", 64)
    step = step_ours if framework == "rosenblatt" else step_torch
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    before = _status_kib("VmRSS")
    step()
    return (_status_kib("VmHWM") - before) * 1024


def bench_memory() -> tuple[float, float]:
    """Each framework's step in its own fresh process; MiB of peak growth."""
    out = []
    for framework in ("rosenblatt", "torch"):
        result = subprocess.run(
            [sys.executable, __file__, "--threads", str(_THREADS), "--memory-child", framework],
            capture_output=True, text=True, check=True)
        out.append(json.loads(result.stdout.strip().splitlines()[-1])["bytes"] / 2**20)
    return out[0], out[1]


def main() -> None:
    parser = repeats_parser(__doc__, "cnn,lenet,infer,memory")
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
    rows = {
        "cnn": ("3-block CNN train step, batch 64 (ms)", "1.5",
                lambda: bench_train("cnn3", 64, args.repeats)),
        "lenet": ("LeNet-5 train step, batch 64 (ms)", "1.3",
                  lambda: bench_train("lenet5", 64, args.repeats)),
        "infer": ("LeNet-5 inference, batch 256 (ms)", "1.5",
                  lambda: bench_inference(args.repeats)),
        "memory": ("3-block CNN train step peak memory (MiB)", "1.5", bench_memory),
    }
    print(f"threads={args.threads} repeats={args.repeats} clock={args.clock} "
          f"torch={torch.__version__} numpy={np.__version__}")
    print(f"{'benchmark':45s} {'rosenblatt':>11s} {'torch':>9s} {'ratio':>7s} {'goal':>6s}")
    for key in args.only.split(","):
        label, goal, run = rows[key]
        ours, theirs = run()
        scale = 1 if key == "memory" else 1e3
        print(f"{label:45s} {ours * scale:11.2f} {theirs * scale:9.2f} {ours / theirs:7.2f} "
              f"{'<=' + goal:>6s}", flush=True)


if __name__ == "__main__":
    main()
