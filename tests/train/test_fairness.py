"""Group metrics, parity gaps, calibration and mitigations on hand-computed cases and
against scikit-learn; `rosenblatt evaluate --groups`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import precision_score, recall_score

import rosenblatt as rb
from rosenblatt import metrics as M
from rosenblatt.cli import main

# group a: selection 2/4, TPR 1/2, FPR 1/2; group b: selection 3/4, TPR 2/2, FPR 1/2
Y_TRUE = [1, 1, 0, 0, 1, 1, 0, 0]
Y_PRED = [1, 0, 1, 0, 1, 1, 0, 1]
GROUPS = ["a"] * 4 + ["b"] * 4


def test_parity_gaps_by_hand() -> None:
    assert M.demographic_parity_difference(Y_TRUE, Y_PRED, GROUPS) == pytest.approx(0.25)
    assert M.equalized_odds_difference(Y_TRUE, Y_PRED, GROUPS) == pytest.approx(0.5)
    # class 0 as the positive one: selection a 2/4, b 1/4; TPR a 1/2, b 1/2; FPR a 1/2, b 0
    assert M.demographic_parity_difference(Y_TRUE, Y_PRED, GROUPS, 0) == pytest.approx(0.25)
    assert M.equalized_odds_difference(Y_TRUE, Y_PRED, GROUPS, 0) == pytest.approx(0.5)
    same = M.demographic_parity_difference(Y_TRUE, Y_PRED, ["a"] * 8)
    assert same == 0.0


def test_group_metrics_match_scikit_learn() -> None:
    rng = np.random.default_rng(0)
    t = rng.integers(0, 4, 300)
    groups = rng.choice(["x", "y", "z"], 300)
    t[groups == "z"] %= 2  # group z holds classes 0 and 1 only; 2 and 3 are still predicted
    logits = rng.normal(size=(300, 4)) + 2 * np.eye(4)[t] * rng.uniform(0, 1, (300, 1))
    rows = M.group_metrics(rb.tensor(t), rb.tensor(logits.astype(np.float32)), groups)
    pred = logits.argmax(1)
    assert set(pred[groups == "z"]) == {0, 1, 2, 3}
    assert [r.group for r in rows] == ["x", "y", "z"]
    for r in rows:
        m = groups == r.group
        assert r.n == m.sum()
        assert r.accuracy == pytest.approx((t[m] == pred[m]).mean())
        own = np.unique(t[m])
        assert r.precision == pytest.approx(
            precision_score(t[m], pred[m], labels=own, average="macro", zero_division=0))
        assert r.recall == pytest.approx(
            recall_score(t[m], pred[m], labels=own, average="macro", zero_division=0))
        assert 0 <= r.ece <= 1


def test_positive_class_rates_by_hand() -> None:
    rows = M.group_metrics(Y_TRUE, Y_PRED, GROUPS, positive=1)
    a, b = rows
    assert (a.selection_rate, a.tpr, a.fpr) == (0.5, 0.5, 0.5)
    assert (b.selection_rate, b.tpr, b.fpr) == (0.75, 1.0, 0.5)
    assert a.ece is None  # labels, not scores


def test_ece_and_reliability_by_hand() -> None:
    # positive-class probabilities -> confidences 0.9, 0.75, 0.7, 0.6; predictions 1 1 0 1
    p = np.array([0.9, 0.75, 0.3, 0.6])
    y = [1, 0, 0, 1]  # right, wrong, right, right
    d = M.reliability_diagram(y, p, n_bins=5)
    assert d.count.tolist() == [0, 0, 1, 2, 1]
    np.testing.assert_allclose(d.confidence[2:], [0.6, 0.725, 0.9])
    np.testing.assert_allclose(d.accuracy[2:], [1.0, 0.5, 1.0])
    # (|1 - .6| * 1 + |.5 - .725| * 2 + |1 - .9| * 1) / 4
    assert M.expected_calibration_error(y, p, n_bins=5) == pytest.approx(0.2375)
    # logits and their softmax give the same ECE; a perfectly confident right model has 0
    logits = np.log(np.stack([1 - p, p], 1))
    assert M.expected_calibration_error(y, logits, 5) == pytest.approx(0.2375)
    assert M.expected_calibration_error([0, 1], [[1.0, 0.0], [0.0, 1.0]]) == 0.0


def test_reweighing_makes_group_and_label_independent() -> None:
    rng = np.random.default_rng(1)
    groups = rng.choice([0, 1], 500, p=[0.7, 0.3])
    y = (rng.uniform(size=500) < np.where(groups == 1, 0.8, 0.3)).astype(int)
    w = M.reweighing_weights(y, groups)
    total = w.sum()
    for g in (0, 1):
        for label in (0, 1):
            joint = w[(groups == g) & (y == label)].sum() / total
            assert joint == pytest.approx((groups == g).mean() * (y == label).mean())
    assert total == pytest.approx(500)


def test_equal_opportunity_thresholds() -> None:
    rng = np.random.default_rng(2)
    groups = np.repeat(["a", "b"], 400)
    y = rng.integers(0, 2, 800)
    scores = np.clip(0.5 * y + rng.normal(0, 0.2, 800) - 0.25 * (groups == "b"), 0, 1)
    th = M.equal_opportunity_thresholds(y, scores, groups, target_tpr=0.8)
    assert th["b"] < th["a"]  # group b's scores are lower: its threshold too
    for g in ("a", "b"):
        m = (groups == g) & (y == 1)
        tpr = (scores[m] >= th[g]).mean()
        assert 0.8 <= tpr < 0.8 + 2 / m.sum()
    pred = (scores >= np.vectorize(th.get)(groups)).astype(int)
    shared = (scores >= 0.5).astype(int)
    assert M.equalized_odds_difference(y, pred, groups) < \
        M.equalized_odds_difference(y, shared, groups)


def test_report_and_group_files(tmp_path: Path) -> None:
    text = M.fairness_report(Y_TRUE, np.eye(2)[Y_PRED] * 0.8 + 0.1, GROUPS, positive=1)
    assert "demographic parity difference (class 1): 0.2500" in text
    assert "equalized odds difference (class 1): 0.5000" in text
    lines = tmp_path / "groups.csv"
    lines.write_text("group\n" + "\n".join(GROUPS) + "\n")
    assert M.load_groups(lines, Y_TRUE).tolist() == GROUPS
    mapping = tmp_path / "groups.json"
    mapping.write_text(json.dumps({"zero": "g0", "1": "g1"}))
    assert M.load_groups(mapping, [0, 1, 1], ["zero", "one"]).tolist() == ["g0", "g1", "g1"]
    with pytest.raises(ValueError, match="3 group labels for 8"):
        lines.write_text("a\nb\nc\n")
        M.load_groups(lines, Y_TRUE)


def test_cli_evaluate_groups(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    run = tmp_path / "run"
    assert main(["train", "--dataset", "xor", "--epochs", "2", "--no-progress",
                 "--out", str(run)]) == 0
    groups = tmp_path / "groups.txt"
    groups.write_text("\n".join("left" if i % 3 else "right" for i in range(1000)) + "\n")
    capsys.readouterr()
    assert main(["evaluate", str(run / "last.safetensors"), "--groups", str(groups),
                 "--positive", "1"]) == 0
    out = capsys.readouterr().out
    assert "by group" in out and "equalized odds difference (class 1)" in out
    assert (run / "reliability.png").stat().st_size > 0
