"""Evaluation by group and calibration: is the model as good, and as honest, for everyone?

- `group_metrics`: per group, the number of samples, accuracy, macro precision/recall,
  selection rate, true- and false-positive rates (of a `positive` class) and ECE.
- `demographic_parity_difference`: the largest gap between groups in how often the positive
  class is predicted; `equalized_odds_difference`: the largest gap in true- or false-positive
  rate (the definitions of Fairlearn). Without a `positive` class, each class is taken
  one-vs-rest and the worst is reported.
- `expected_calibration_error` / `reliability_diagram` / `plot_reliability_diagram`: does a
  confidence of 0.9 mean right 90% of the time? (Guo et al., 2017: equal-width bins.)
- Mitigations: `reweighing_weights` (Kamiran & Calders: sample weights that make group and
  label independent) and `equal_opportunity_thresholds` (per-group thresholds on a binary
  score giving every group the same true-positive rate).
- `fairness_report`: all of it as text; `load_groups` reads a group file for
  `rosenblatt evaluate --groups FILE`.

Inputs may be tensors, arrays or lists; scores are (N, C) probabilities or logits (softmax is
applied when rows do not sum to 1), or (N,) probabilities of the positive class.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from rosenblatt._backend import np

from .metrics import _array, _labels, _safe_div, precision_recall_f1

__all__ = ["GroupScores", "Reliability", "demographic_parity_difference",
           "equal_opportunity_thresholds", "equalized_odds_difference",
           "expected_calibration_error", "fairness_report", "group_metrics", "load_groups",
           "plot_reliability_diagram", "reliability_diagram", "reweighing_weights"]


def probabilities(scores: Any) -> Any:
    """(N, C) probabilities from probabilities or logits (softmax unless rows sum to 1), or
    (N,) positive-class probabilities as (N, 2)."""
    s = _array(scores).astype(np.float64)
    if s.ndim == 1:
        if s.min() < 0 or s.max() > 1:
            raise ValueError("probabilities: a 1-D score must be a probability in [0, 1]")
        return np.stack([1 - s, s], axis=1)
    if s.min() >= 0 and np.allclose(s.sum(axis=1), 1, atol=1e-4):
        return s
    e = np.exp(s - s.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


# ------------------------------------------------------------------ calibration
@dataclass
class Reliability:
    """Per confidence bin: edges (B+1,), count, mean confidence and accuracy (B,) each."""

    edges: Any
    count: Any
    confidence: Any
    accuracy: Any

    @property
    def ece(self) -> float:
        """Expected calibration error: the count-weighted mean |accuracy - confidence|."""
        n = self.count.sum()
        return float((self.count * np.abs(self.accuracy - self.confidence)).sum() / max(n, 1))


def reliability_diagram(y_true: Any, scores: Any, n_bins: int = 15) -> Reliability:
    """Bin samples by confidence (the top probability) into `n_bins` equal-width bins."""
    p = probabilities(scores)
    y = _labels(y_true).astype(np.int64)
    confidence, correct = p.max(axis=1), (p.argmax(axis=1) == y).astype(np.float64)
    edges = np.linspace(0, 1, n_bins + 1)
    # right-closed bins (lo, hi], as in Guo et al.; a confidence of 0 joins the first bin
    index = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, n_bins - 1)
    count = np.bincount(index, minlength=n_bins)
    conf = _safe_div(np.bincount(index, confidence, n_bins), count)
    acc = _safe_div(np.bincount(index, correct, n_bins), count)
    return Reliability(edges, count, conf, acc)


def expected_calibration_error(y_true: Any, scores: Any, n_bins: int = 15) -> float:
    """ECE in [0, 1]: how far confidence is from accuracy, averaged over samples."""
    return reliability_diagram(y_true, scores, n_bins).ece


def plot_reliability_diagram(diagrams: dict[str, Reliability], path: str | os.PathLike,
                             title: str = "reliability diagram") -> Path:
    """Accuracy against confidence per bin for each named diagram (e.g. one per group)."""
    from .plots import _figure, _save

    fig = _figure(5, 5)
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], color="grey", linestyle="--", label="perfectly calibrated")
    for name, d in diagrams.items():
        used = d.count > 0
        ax.plot(d.confidence[used], d.accuracy[used], marker="o",
                label=f"{name} (ECE {d.ece:.3f})")
    ax.set_xlabel("confidence")
    ax.set_ylabel("accuracy")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(fontsize=8)
    ax.set_title(title)
    return _save(fig, path)


# ---------------------------------------------------------------- group rates
def _groups(groups: Any, n: int) -> Any:
    g = np.asarray(_array(groups)).reshape(-1)
    if len(g) != n:
        raise ValueError(f"groups: {len(g)} group labels for {n} samples")
    return g


def _rates(y_true: Any, y_pred: Any, groups: Any, positive: int) -> dict:
    """Per group: selection rate, true-positive rate and false-positive rate of `positive`."""
    out = {}
    for g in np.unique(groups):
        mask = groups == g
        t, p = y_true[mask] == positive, y_pred[mask] == positive
        out[g] = {"selection_rate": float(p.mean()),
                  "tpr": float(p[t].mean()) if t.any() else float("nan"),
                  "fpr": float(p[~t].mean()) if (~t).any() else float("nan")}
    return out


def _spread(values: list[float]) -> float:
    values = [v for v in values if v == v]  # a group without positives has no TPR
    return float(max(values) - min(values)) if values else 0.0


def _positives(y_true: Any, y_pred: Any, positive: int | None) -> list[int]:
    if positive is not None:
        return [positive]
    return sorted(set(np.unique(y_true).tolist()) | set(np.unique(y_pred).tolist()))


def demographic_parity_difference(y_true: Any, y_pred: Any, groups: Any,
                                  positive: int | None = 1) -> float:
    """max - min over groups of P(prediction = positive | group) (the worst class
    one-vs-rest when positive is None). 0 is parity."""
    t, p = _labels(y_true), _labels(y_pred)
    g = _groups(groups, len(t))
    return max(_spread([r["selection_rate"] for r in _rates(t, p, g, k).values()])
               for k in _positives(t, p, positive))


def equalized_odds_difference(y_true: Any, y_pred: Any, groups: Any,
                              positive: int | None = 1) -> float:
    """The larger of the between-group gaps in true- and false-positive rate (the worst
    class one-vs-rest when positive is None). 0 means equal odds."""
    t, p = _labels(y_true), _labels(y_pred)
    g = _groups(groups, len(t))
    worst = 0.0
    for k in _positives(t, p, positive):
        rates = _rates(t, p, g, k).values()
        worst = max(worst, _spread([r["tpr"] for r in rates]), _spread([r["fpr"] for r in rates]))
    return worst


@dataclass
class GroupScores:
    """One group's numbers."""

    group: Any
    n: int
    accuracy: float
    precision: float  # macro over the classes among the group's labels
    recall: float
    selection_rate: float | None  # of the positive class (None without one)
    tpr: float | None
    fpr: float | None
    ece: float | None  # None without scores


def group_metrics(y_true: Any, scores_or_pred: Any, groups: Any, positive: int | None = None,
                  n_bins: int = 15) -> list[GroupScores]:
    """Per-group accuracy, macro precision/recall, positive-class rates and ECE (when scores
    (N, C) or probabilities (N,) are given rather than labels)."""
    t = _labels(y_true).astype(np.int64)
    s = _array(scores_or_pred)
    has_scores = s.ndim == 2 or s.dtype.kind == "f"
    pred = probabilities(s).argmax(axis=1) if has_scores else _labels(s).astype(np.int64)
    g = _groups(groups, len(t))
    classes = int(max(t.max(), pred.max())) + 1
    probs = probabilities(s) if has_scores else None
    rates = _rates(t, pred, g, positive) if positive is not None else {}
    out = []
    for name in np.unique(g):
        m = g == name
        pr = precision_recall_f1(t[m], pred[m], classes)
        # macro over the group's own classes (scikit-learn's labels=unique(y_true)): a
        # class that is only mispredicted in this group would add a meaningless 0
        present = pr.support > 0
        r = rates.get(name, {})
        out.append(GroupScores(
            name.item() if hasattr(name, "item") else name, int(m.sum()),
            float((t[m] == pred[m]).mean()), float(pr.precision[present].mean()),
            float(pr.recall[present].mean()), r.get("selection_rate"), r.get("tpr"),
            r.get("fpr"),
            expected_calibration_error(t[m], probs[m], n_bins) if probs is not None
            else None))
    return out


# -------------------------------------------------------------- mitigations
def reweighing_weights(y_true: Any, groups: Any) -> Any:
    """Sample weights P(group) P(label) / P(group, label) (N,): under them group and label
    are independent, so a weighted loss no longer learns their correlation."""
    t = _labels(y_true)
    g = _groups(groups, len(t))
    weights = np.empty(len(t), dtype=np.float64)
    for name in np.unique(g):
        for label in np.unique(t):
            m = (g == name) & (t == label)
            if m.any():
                weights[m] = (g == name).mean() * (t == label).mean() / m.mean()
    return weights


def equal_opportunity_thresholds(y_true: Any, positive_scores: Any, groups: Any,
                                 target_tpr: float = 0.9) -> dict:
    """Per group, the threshold on a binary score at which that group's true-positive rate
    reaches `target_tpr` ({group: threshold}); predict positive where score >= threshold."""
    t = _labels(y_true).astype(np.int64)
    s = _array(positive_scores).astype(np.float64).reshape(-1)
    g = _groups(groups, len(t))
    out = {}
    for name in np.unique(g):
        pos = np.sort(s[(g == name) & (t == 1)])[::-1]
        if len(pos) == 0:
            raise ValueError(f"equal_opportunity_thresholds: group {name!r} has no positives")
        k = max(int(np.ceil(target_tpr * len(pos))), 1)  # the k best-scored positives pass
        out[name.item() if hasattr(name, "item") else name] = float(pos[k - 1])
    return out


# ------------------------------------------------------------------ report
def fairness_report(y_true: Any, scores: Any, groups: Any, positive: int | None = None,
                    group_names: dict | None = None, n_bins: int = 15) -> str:
    """Per-group table (n, accuracy, precision, recall, ECE) and the parity gaps."""
    rows = group_metrics(y_true, scores, groups, positive, n_bins)
    pred = probabilities(scores).argmax(axis=1)
    names = [str(group_names.get(r.group, r.group)) if group_names else str(r.group)
             for r in rows]
    width = max(8, *(len(n) for n in names))
    head = f"{'group':>{width}} {'n':>7} {'accuracy':>9} {'precision':>9} {'recall':>9} {'ECE':>7}"
    if positive is not None:
        head += f" {'selected':>9} {'TPR':>7} {'FPR':>7}"
    lines = [head]
    for name, r in zip(names, rows):
        line = (f"{name:>{width}} {r.n:7d} {r.accuracy:9.4f} {r.precision:9.4f} "
                f"{r.recall:9.4f} {r.ece:7.4f}")
        if positive is not None:
            line += f" {r.selection_rate:9.4f} {r.tpr:7.4f} {r.fpr:7.4f}"
        lines.append(line)
    accs = [r.accuracy for r in rows]
    which = f"class {positive}" if positive is not None else "worst class one-vs-rest"
    lines += ["",
              f"accuracy gap (best - worst group): {max(accs) - min(accs):.4f}",
              f"demographic parity difference ({which}): "
              f"{demographic_parity_difference(y_true, pred, groups, positive):.4f}",
              f"equalized odds difference ({which}): "
              f"{equalized_odds_difference(y_true, pred, groups, positive):.4f}",
              f"overall ECE: {expected_calibration_error(y_true, scores, n_bins):.4f}"]
    return "\n".join(lines)


def load_groups(path: str | os.PathLike, y_true: Any,
                class_names: Sequence[str] | None = None) -> Any:
    """Group labels (N,) from a file: one label per line (or the first CSV column; a header
    line that matches no later line is skipped), or a JSON object mapping each class (index
    or name) to its group, applied to the true labels."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no group file at {path}")
    t = _labels(y_true)
    if path.suffix == ".json":
        mapping = json.loads(path.read_text())
        names = list(class_names or [])
        by_index = {}
        for key, group in mapping.items():
            index = names.index(key) if key in names else int(key)
            by_index[index] = group
        missing = sorted(set(t.tolist()) - set(by_index))
        if missing:
            raise ValueError(f"{path}: no group for classes {missing}")
        return np.array([by_index[int(k)] for k in t])
    lines = [line.split(",")[0].strip() for line in path.read_text().splitlines() if line.strip()]
    if len(lines) == len(t) + 1:
        lines = lines[1:]  # a header
    if len(lines) != len(t):
        raise ValueError(f"{path}: {len(lines)} group labels for {len(t)} test samples")
    return np.array(lines)


def evaluate_groups(y_true: Any, scores: Any, groups_file: str | os.PathLike,
                    class_names: Sequence[str] | None, out_dir: str | os.PathLike,
                    positive: int | None = None) -> str:
    """`rosenblatt evaluate --groups FILE`: the report, and reliability.png (one curve per
    group) in out_dir; returns the text."""
    groups = load_groups(groups_file, y_true, class_names)
    t = _labels(y_true)
    diagrams = {str(g): reliability_diagram(t[groups == g], probabilities(scores)[groups == g])
                for g in np.unique(groups)}
    png = plot_reliability_diagram(diagrams, Path(out_dir) / "reliability.png",
                                   "reliability by group")
    return (f"by group ({groups_file}):\n{fairness_report(t, scores, groups, positive)}\n"
            f"reliability diagram: {png}")
