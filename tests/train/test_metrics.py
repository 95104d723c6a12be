"""Metrics against scikit-learn and plain NumPy on random predictions."""

import numpy as np
import pytest
from sklearn import metrics as skm

import rosenblatt as rb
from rosenblatt.train import metrics as M
from rosenblatt.train.plots import plot_confusion_matrix, plot_history


@pytest.fixture
def preds():
    rng = np.random.default_rng(1)
    y_true = rng.integers(0, 5, size=300)
    logits = rng.normal(size=(300, 5))
    logits[np.arange(300), y_true] += 1.0  # better than chance, not perfect
    logits[:, 4] -= 5.0  # class 4 is never predicted: precision 0/0
    return y_true, logits


def test_accuracy_from_logits_labels_and_tensors(preds):
    y, logits = preds
    expected = skm.accuracy_score(y, logits.argmax(1))
    assert M.accuracy(logits, y) == pytest.approx(expected)
    assert M.accuracy(rb.tensor(logits), rb.tensor(y)) == pytest.approx(expected)
    assert M.accuracy(logits.argmax(1), y) == pytest.approx(expected)


def test_accuracy_binary_logits():
    out = np.array([[-2.0], [0.5], [3.0], [-0.1]])
    tgt = np.array([[0.0], [1.0], [0.0], [0.0]])
    assert M.accuracy(out, tgt) == pytest.approx(0.75)


def test_accuracy_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="shape"):
        M.accuracy(np.zeros((4, 3)), np.zeros(5, dtype=int))


@pytest.mark.parametrize("k", [1, 2, 4])
def test_top_k_accuracy_matches_sklearn(preds, k):
    y, logits = preds
    expected = skm.top_k_accuracy_score(y, logits, k=k, labels=range(5))
    assert M.top_k_accuracy(logits, y, k=k) == pytest.approx(expected)


def test_confusion_matrix_matches_sklearn(preds):
    y, logits = preds
    cm = M.confusion_matrix(y, logits)
    np.testing.assert_array_equal(cm, skm.confusion_matrix(y, logits.argmax(1), labels=range(5)))
    assert cm.dtype == np.int64
    assert M.confusion_matrix([0, 1], [1, 1], num_classes=4).shape == (4, 4)


def test_precision_recall_f1_match_sklearn(preds):
    y, logits = preds
    pred = logits.argmax(1)
    s = M.precision_recall_f1(y, pred, num_classes=5)
    p, r, f, sup = skm.precision_recall_fscore_support(y, pred, labels=range(5), zero_division=0)
    np.testing.assert_allclose(s.precision, p)
    np.testing.assert_allclose(s.recall, r)
    np.testing.assert_allclose(s.f1, f)
    np.testing.assert_array_equal(s.support, sup)
    assert s.precision[4] == 0.0
    for avg in ("macro", "weighted"):
        p, r, f, _ = skm.precision_recall_fscore_support(
            y, pred, labels=range(5), average=avg, zero_division=0)
        got = getattr(s, avg)
        assert (got["precision"], got["recall"], got["f1"]) == pytest.approx((p, r, f))


def test_classification_report_lists_every_class(preds):
    y, logits = preds
    text = M.classification_report(y, logits, class_names=list("abcde"))
    lines = text.splitlines()
    assert [line.split()[0] for line in lines[1:6]] == list("abcde")
    acc = skm.accuracy_score(y, logits.argmax(1))
    assert f"{acc:.4f}" in next(line for line in lines if line.strip().startswith("accuracy"))


def test_rosenblatt_metrics_alias():
    from rosenblatt.train import fairness, plots

    assert rb.metrics.accuracy is M.accuracy
    public = {"ClassScores", "RunningMean", "accuracy", "classification_report",
              "confusion_matrix", "precision_recall_f1", "top_k_accuracy", "plot_confusion_matrix",
              "GroupScores", "Reliability", "demographic_parity_difference",
              "equal_opportunity_thresholds", "equalized_odds_difference",
              "expected_calibration_error", "fairness_report", "group_metrics", "load_groups",
              "plot_reliability_diagram", "reliability_diagram", "reweighing_weights"}
    assert set(rb.metrics.__all__) == public and len(rb.metrics.__all__) == len(public)
    for name in public:  # the very objects of the modules that define them
        home = M if name in M.__all__ else fairness if name in fairness.__all__ else plots
        assert getattr(rb.metrics, name) is getattr(home, name), name


def _is_png(path):
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plots_write_png(tmp_path, preds):
    y, logits = preds
    cm = M.confusion_matrix(y, logits)
    assert _is_png(plot_confusion_matrix(cm, tmp_path / "cm.png", normalize=True))
    history = [{"epoch": e, "train_loss": 1 / e, "val_loss": 1.1 / e, "train_acc": 0.5,
                "val_acc": None} for e in range(1, 4)]
    assert _is_png(plot_history(history, tmp_path / "sub" / "curves.png"))
