"""Time Rosenblatt against PyTorch, each library in its own process, and print the ratios.

    python benchmarks/run.py [--threads N ...] [--pairs 3] [--quick] [--only engine conv:cnn]
        [--markdown] [--json OUT]

Two libraries in one process disturb each other: with more than one thread, PyTorch's
OpenMP workers and NumPy's BLAS threads spin against each other. So every measurement is a
pair of fresh processes, one per library (`--lib rosenblatt`, then `--lib torch`, the
suites' own workloads with the other library's half skipped), run one after the other
(A B A B ...); a workload's ratio (rosenblatt time / PyTorch time, lower is better) is the
median of the pairs' ratios. Each thread count is measured this way: by default all the
cores this process may use (PyTorch's default thread count) first, then 1; and the last
table shows how each workload's time scales from 1 thread to N for both libraries. Peak
memory rows come from the suites' own fresh-process measurements, one per library; the
import row's PyTorch column is `import numpy`, the goal's yardstick. Each row with a goal
of issue 22 (common.GOALS) shows it and whether the ratio meets it, and a line after each
table counts the goals met. The engine's memory use against the ideal has no PyTorch side:
bench_engine.py prints it at the end.
Nothing here asserts: the numbers are for reading. Run it on an idle machine. The HTTP
load test (bench_serve.py) is separate: it starts a server.
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
from typing import Any, Callable, NamedTuple

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from common import GOALS  # noqa: E402 - pins this process's threads; children pin their own


class Workload(NamedTuple):
    """One timed row: how a child process measures it for its library, and its unit."""

    label: str
    scale: float  # seconds (or bytes) -> the unit shown
    unit: str
    measure: Callable[[Any, bool], Any]  # (suite module, quick) -> the suite's result


def _memory(steps: bool = False) -> Callable[[Any, bool], Any]:
    """A suite's own fresh-process peak-memory measurement, for this child's library."""
    def measure(module: Any, quick: bool) -> dict:
        import common

        args = ["--steps", "40"] if quick and steps else []
        return {common.LIB: [common.memory_child(module.__file__, common.LIB, *args)]}
    return measure


def _repeats(quick: bool) -> int:
    return 3 if quick else 7


def _rounds(quick: bool) -> int:
    return 5 if quick else 15


# suite: (the suite's paired timer that run.py replaces under --lib, its workloads)
SUITES: dict[str, tuple[str | None, dict[str, Workload]]] = {
    "engine": (None, {
        "overhead": Workload("per-op overhead, 4 ops fwd+bwd 32x32", 1e6, "us",
                             lambda m, q: m.measure_overhead(q)),
        "matmul": Workload("matmul 256 fwd+bwd", 1e6, "us", lambda m, q: m.measure_matmul(q)),
        "mlp_step": Workload("MLP step on plain tensors, b64", 1e3, "ms",
                             lambda m, q: m.measure_mlp_step(q)),
        "chain": Workload("chain of 100k ops fwd+bwd", 1e3, "ms",
                          lambda m, q: m.measure_chain(q)),
        "import": Workload("import rosenblatt (PyTorch column: import numpy)", 1e3, "ms",
                           lambda m, q: m.measure_import(q)),
    }),
    "mlp": (None, {
        "train_step": Workload("MLP 784-512-256-10 train step, b64", 1e3, "ms",
                               lambda m, q: m.bench_train_step(_rounds(q), q)),
        "latency": Workload("MLP 784-100-100-10 batch-1 inference", 1e6, "us",
                            lambda m, q: m.bench_latency(_rounds(q), q)),
        "latency_softmax": Workload("same MLP + final Softmax (DL Primer), batch-1 inference",
                                    1e6, "us",
                                    lambda m, q: m.bench_latency(_rounds(q), q, softmax=True)),
        "throughput": Workload("same MLP, batch 1000 inference", 1e3, "ms",
                               lambda m, q: m.bench_throughput(_rounds(q), q)),
        "peak_rss": Workload("MNIST MLP training run, peak RSS", 2.0 ** -20, "MiB",
                             _memory(steps=True)),
    }),
    "conv": ("median_times", {
        "cnn": Workload("3-block CNN train step, b64", 1e3, "ms",
                        lambda m, q: m.bench_train("cnn3", 64, _repeats(q))),
        "lenet": Workload("LeNet-5 train step, b64", 1e3, "ms",
                          lambda m, q: m.bench_train("lenet5", 64, _repeats(q))),
        "infer": Workload("LeNet-5 inference, b256", 1e3, "ms",
                          lambda m, q: m.bench_inference(_repeats(q))),
        "infer1": Workload("LeNet-5 batch-1 inference", 1e6, "us",
                           lambda m, q: m.bench_latency(q)),
        "memory": Workload("3-block CNN first 3 train steps, peak memory", 2.0 ** -20, "MiB",
                           _memory()),
    }),
    "seq": ("paired_times", {
        "lstm": Workload("LSTM 2x256 train step, b32 t64", 1e3, "ms",
                         lambda m, q: m.bench_lstm(_repeats(q))),
        "gpt_written": Workload("GPT 4L/4H/128 train step, b32 t64, attention written out",
                                1e3, "ms", lambda m, q: m.bench_gpt_written(_repeats(q))),
        "gpt": Workload("same GPT train step with F.scaled_dot_product_attention", 1e3, "ms",
                        lambda m, q: m.bench_gpt(_repeats(q))),
        "gen": Workload("GPT generate 500 chars", 1e3, "ms",
                        lambda m, q: m.bench_generation(max(3, _repeats(q) // 2))),
        "decode": Workload("GPT decode step (1 token, context 63, KV cache), no_grad", 1e6,
                           "us", lambda m, q: m.bench_decode(q)),
        "memory": Workload("GPT first 3 train steps, peak memory", 2.0 ** -20, "MiB",
                           _memory()),
    }),
}


SOLO = ("mlp_memory",)  # bench_engine.py's row against an ideal, not PyTorch


def _seconds(result: Any, lib: str) -> float:
    """This library's median from a suite's result: {lib: [per round]} or (ours, theirs, ...)."""
    if isinstance(result, dict):
        return statistics.median(result[lib])
    return float(result[0 if lib == "rosenblatt" else 1])


def child(suite: str, names: list[str], quick: bool) -> dict:
    """In a `--lib` process: measure the workloads for that library alone -> {name: value}."""
    import common  # pinned the thread counts from --threads before NumPy/PyTorch load

    import importlib

    module = importlib.import_module(f"bench_{suite}")
    timer, workloads = SUITES[suite]
    if timer is not None:
        setattr(module, timer, common.one_library)  # the suite's functions look it up
    import torch

    import rosenblatt as rb

    torch.set_num_threads(common.THREADS)
    rb.set_num_threads(common.THREADS)
    values = {name: _seconds(workloads[name].measure(module, quick), common.LIB)
              for name in names}
    return {"lib": common.LIB, "threads": common.THREADS, "values": values}


def _run_child(suite: str, names: list[str], lib: str, threads: int, quick: bool) -> dict:
    command = [sys.executable, __file__, "--child", suite, "--lib", lib, "--threads",
               str(threads), "--names", ",".join(names)] + (["--quick"] if quick else [])
    out = subprocess.run(command, capture_output=True, text=True, cwd=HERE)
    if out.returncode != 0:
        raise RuntimeError(f"bench_{suite}.py --lib {lib} --threads {threads} failed:\n"
                           f"{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(selection: dict[str, list[str]], threads: int, pairs: int, quick: bool,
            log: Callable[[str], None]) -> dict:
    """{suite: {name: {"rosenblatt": [per pair], "torch": [per pair]}}} at `threads`, each
    pair a rosenblatt process then a torch process."""
    results: dict = {}
    for suite, names in selection.items():
        values: dict = {name: {"rosenblatt": [], "torch": []} for name in names}
        for pair in range(pairs):
            for lib in ("rosenblatt", "torch"):
                log(f"  {suite} ({', '.join(names)}), {threads} thread(s), pair {pair + 1}/"
                    f"{pairs}: {lib}")
                got = _run_child(suite, names, lib, threads, quick)
                for name, value in got["values"].items():
                    values[name][lib].append(value)
        results[suite] = values
    return results


def summarize(pair_values: dict) -> tuple[float, float, float, list[float]]:
    """(rosenblatt median, torch median, median of the pairs' ratios, the ratios)."""
    ours, theirs = pair_values["rosenblatt"], pair_values["torch"]
    ratios = [a / b for a, b in zip(ours, theirs)]
    return statistics.median(ours), statistics.median(theirs), statistics.median(ratios), ratios


def _number(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:,.1f}" if value >= 10 else f"{value:.2f}"


def goal_met(ratio: float, goal: float | None) -> str:
    """'yes', or 'no' and by how much the ratio is over the goal ('' without a goal)."""
    if goal is None:
        return ""
    return "yes" if ratio <= goal else f"no, +{ratio / goal - 1:.0%}"


def ratio_table(results: dict, markdown: bool) -> list[str]:
    """One row per workload: both libraries' medians, the median ratio and each pair's, and
    issue 22's goal for the ratio with whether it is met."""
    head = ("workload", "rosenblatt", "PyTorch", "ratio", "goal", "met", "pairs")
    rows = []
    for suite, workloads in results.items():
        for name, values in workloads.items():
            work, goal = SUITES[suite][1][name], GOALS.get(f"{suite}:{name}")
            ours, theirs, ratio, ratios = summarize(values)
            rows.append((f"{work.label} ({work.unit})", _number(ours * work.scale),
                         _number(theirs * work.scale), f"{ratio:.2f}",
                         "" if goal is None else f"<= {goal}", goal_met(ratio, goal),
                         " ".join(f"{r:.2f}" for r in ratios)))
    return _table(head, rows, markdown)


def goals_line(results: dict) -> str:
    """How many of the measured goals are met, naming the missed ones."""
    missed, total = [], 0
    for suite, workloads in results.items():
        for name, values in workloads.items():
            if f"{suite}:{name}" in GOALS:
                total += 1
                if not summarize(values)[2] <= GOALS[f"{suite}:{name}"]:
                    missed.append(f"{suite}:{name}")
    return f"goals met: {total - len(missed)} of {total}" + (
        f"; missed: {', '.join(missed)}" if missed else "")


def scaling_table(low: dict, high: dict, threads: int, markdown: bool) -> list[str]:
    """How each workload's time changes from 1 thread to `threads`, for both libraries."""
    head = ("workload", f"rosenblatt 1 -> {threads}", "speed-up", f"PyTorch 1 -> {threads}",
            "speed-up")
    rows = []
    for suite, workloads in high.items():
        for name, values in workloads.items():
            work = SUITES[suite][1][name]
            row = [f"{work.label} ({work.unit})"]
            for lib in ("rosenblatt", "torch"):
                one = statistics.median(low[suite][name][lib])
                many = statistics.median(values[lib])
                row += [f"{_number(one * work.scale)} -> {_number(many * work.scale)}",
                        f"{one / many:.2f}x"]
            rows.append(tuple(row))
    return _table(head, rows, markdown)


def _table(head: tuple, rows: list[tuple], markdown: bool) -> list[str]:
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
        return lines + ["| " + " | ".join(row) + " |" for row in rows]
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    return ["  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w)
                      for i, (c, w) in enumerate(zip(r, widths))) for r in [head, *rows]]


def _selection(only: list[str]) -> dict[str, list[str]]:
    """{suite: workload names} from --only items `suite` or `suite:workload`."""
    chosen: dict[str, list[str]] = {}
    for item in only:
        suite, _, name = item.partition(":")
        if suite == "engine" and name in SOLO:
            chosen.setdefault("solo", []).append(name)
            continue
        if suite not in SUITES or (name and name not in SUITES[suite][1]):
            known = ", ".join(f"{s}[:{'|'.join([*w, *(SOLO if s == 'engine' else ())])}]"
                              for s, (_, w) in SUITES.items())
            raise SystemExit(f"--only: unknown {item!r}; choose from {known}")
        names = chosen.setdefault(suite, [])
        for n in [name] if name else list(SUITES[suite][1]):
            if n not in names:
                names.append(n)
        if suite == "engine" and not name:
            chosen.setdefault("solo", []).extend(SOLO)
    return chosen


def _log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def all_cores() -> int:
    """The cores this process may use (CPU affinity), PyTorch's default thread count."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def main(argv: list[str] | None = None) -> int:
    """Measure, then print the all-cores table, the 1-thread table and the scaling."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, nargs="+", default=None,
                        help="thread counts to measure (default: all cores, then 1)")
    parser.add_argument("--pairs", type=int, default=None,
                        help="process pairs per thread count (default 3; --quick: 1)")
    parser.add_argument("--quick", action="store_true", help="fewer repeats, smaller sizes")
    parser.add_argument("--only", nargs="*", default=list(SUITES), metavar="SUITE[:WORKLOAD]",
                        help=f"suites ({', '.join(SUITES)}) or single workloads, e.g. conv:cnn")
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables")
    parser.add_argument("--json", default=None, metavar="OUT", help="also write the raw "
                                                                    "per-pair values as JSON")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--lib", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--names", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.names.split(","), args.quick)))
        return 0
    selection = _selection(args.only)
    solo = sorted(set(selection.pop("solo", [])), key=SOLO.index)
    counts = sorted(set(args.threads or {all_cores(), 1}), reverse=True)  # all cores first
    pairs = args.pairs or (1 if args.quick else 3)
    if pairs < 1 or any(t < 1 for t in counts):
        raise SystemExit("--pairs and --threads must be positive")
    results = {t: measure(selection, t, pairs, args.quick, _log) for t in counts}
    for t in counts:
        what = "all cores, the CPUs this process may use: " if t == all_cores() else ""
        print(f"\n{what}{t} thread(s) each; ratio = rosenblatt / PyTorch, median of {pairs} "
              f"pair(s) of processes\n")
        print("\n".join(ratio_table(results[t], args.markdown)))
        print(f"\n{goals_line(results[t])}", flush=True)
    many = max(counts)
    if 1 in results and many > 1:
        print(f"\nscaling from 1 to {many} threads (time at 1 / time at {many})\n")
        print("\n".join(scaling_table(results[1], results[many], many, args.markdown)),
              flush=True)
    if solo:
        print(f"\nRosenblatt alone (bench_engine.py --only {','.join(solo)})\n", flush=True)
        subprocess.run([sys.executable, str(HERE / "bench_engine.py"), "--only", ",".join(solo)]
                       + (["--quick"] if args.quick else []), check=True, cwd=HERE)
    if args.json:
        Path(args.json).write_text(json.dumps({str(t): r for t, r in results.items()},
                                              indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
