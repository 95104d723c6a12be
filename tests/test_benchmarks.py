"""benchmarks/run.py: each library timed in its own process, pairs summarized by medians."""

import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"bench_{name}_under_test", BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def run():
    return _load("run")


def test_selection_of_suites_and_single_workloads(run):
    chosen = run._selection(["conv:cnn", "seq", "conv:cnn", "engine:mlp_memory"])
    assert chosen == {"conv": ["cnn"], "seq": ["lstm", "gpt_written", "gpt", "gen", "decode",
                                              "memory"], "solo": ["mlp_memory"]}
    assert run._selection(["engine"])["solo"] == ["mlp_memory"]
    assert "import" in run._selection(["engine"])["engine"]
    with pytest.raises(SystemExit, match="unknown 'conv:gpt'"):
        run._selection(["conv:gpt"])


def test_ratio_is_the_median_of_the_pairs_and_scaling_compares_thread_counts(run):
    one = {"conv": {"cnn": {"rosenblatt": [0.2, 0.9, 0.3], "torch": [0.1, 0.3, 0.2]}}}
    many = {"conv": {"cnn": {"rosenblatt": [0.1, 0.1, 0.2], "torch": [0.05, 0.1, 0.05]}}}
    ours, theirs, ratio, ratios = run.summarize(one["conv"]["cnn"])
    assert (ours, theirs) == (0.3, 0.2) and ratios == pytest.approx([2, 3, 1.5]) and ratio == 2
    row = run.ratio_table(one, markdown=True)[2]
    assert row == ("| 3-block CNN train step, b64 (ms) | 300.0 | 200.0 | 2.00 | <= 1.1 | "
                   "no, +82% | 2.00 3.00 1.50 |")
    assert run.goals_line(one) == "goals met: 0 of 1; missed: conv:cnn"
    met = {"conv": {"cnn": {"rosenblatt": [0.1], "torch": [0.2]}}}
    assert run.goals_line(met) == "goals met: 1 of 1"
    row = run.scaling_table(one, many, 4, markdown=False)[1]
    assert "300.0 -> 100.0" in row and "3.00x" in row and "200.0 -> 50.0" in row


# issue 22's Goals table, row by row: the workloads that must carry each goal
ISSUE_22_GOALS = {
    "seq:gpt_written": 1.1, "seq:gpt": 1.1,  # GPT train step, written-out attention and SDPA
    "conv:cnn": 1.1, "conv:lenet": 0.9, "seq:lstm": 1.0, "mlp:train_step": 0.8,
    "mlp:latency_softmax": 0.5, "conv:infer1": 0.5, "seq:decode": 0.5,  # batch-1 inference
    "engine:overhead": 0.4, "engine:import": 1.2,
    "mlp:peak_rss": 1.0, "conv:memory": 1.0, "seq:memory": 1.0,  # training-run peak memory
}


def test_every_goal_of_issue_22_has_a_workload(run):
    assert run.GOALS == ISSUE_22_GOALS
    for key in run.GOALS:
        suite, _, name = key.partition(":")
        assert name in run.SUITES[suite][1], key
    assert run.goal_met(0.4, 0.4) == "yes" and run.goal_met(0.5, 0.4) == "no, +25%"
    assert run.goal_met(3.0, None) == ""


def test_written_out_attention_is_what_both_gpts_run_under_the_switch():
    torch = pytest.importorskip("torch")
    sys.path.insert(0, str(BENCH))
    seq = _load("bench_seq")
    ours, theirs = seq._gpt_pair()
    ids = [[1, 5, 9, 2, 7, 3]]
    with torch.no_grad(), seq.rb.no_grad():
        fused = ours(seq.rb.tensor(ids)).numpy(), theirs(torch.tensor(ids)).numpy()
        calls, original = [], seq.written_out_attention

        def spy(*args, **kwargs):
            calls.append(1)
            return original(*args, **kwargs)

        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(seq, "written_out_attention", spy)
            with seq._written_out():
                written = ours(seq.rb.tensor(ids)).numpy(), theirs(torch.tensor(ids)).numpy()
    assert len(calls) == 2 * 4  # 4 blocks in each library
    for a, b in zip(fused, written):
        assert abs(a - b).max() < 1e-4


def test_lib_flag_times_one_library_only(monkeypatch):
    common = _load("common")
    assert common.library_from_argv(["x.py", "--lib", "torch"]) == "torch"
    with pytest.raises(SystemExit, match="--lib"):
        common.library_from_argv(["x.py", "--lib", "jax"])
    calls = {"rosenblatt": 0, "torch": 0}

    def fn(name):
        return lambda: calls.__setitem__(name, calls[name] + 1)

    monkeypatch.setattr(common, "LIB", "torch")
    times = common.interleaved({"rosenblatt": fn("rosenblatt"), "torch": fn("torch")}, 2, 3)
    assert calls["rosenblatt"] == 0 and calls["torch"] > 0
    assert all(math.isnan(t) for t in times["rosenblatt"]) and min(times["torch"]) >= 0
    ours, theirs, ratio = common.one_library(fn("rosenblatt"), fn("torch"), 3)
    assert math.isnan(ours) and theirs >= 0 and math.isnan(ratio) and calls["rosenblatt"] == 0


def test_run_quick_pairs_two_processes(tmp_path):
    out = tmp_path / "r.json"
    proc = subprocess.run([sys.executable, str(BENCH / "run.py"), "--quick", "--only",
                           "engine:overhead", "seq:decode", "--threads", "1", "--json",
                           str(out)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    measured = json.loads(out.read_text())["1"]
    for values in (measured["engine"]["overhead"], measured["seq"]["decode"]):
        assert len(values["rosenblatt"]) == len(values["torch"]) == 1
        assert all(0 < v < 0.1 for v in values["rosenblatt"] + values["torch"])
    assert "per-op overhead" in proc.stdout and "pair 1/1: torch" in proc.stderr
    assert "<= 0.4" in proc.stdout and "<= 0.5" in proc.stdout and "goals met:" in proc.stdout
