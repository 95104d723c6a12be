"""Classification metrics: accuracy, top-k accuracy, confusion matrix, precision/recall/F1.

Inputs may be tensors, NumPy arrays or lists. `accuracy` and `top_k_accuracy` take
`(output, target)` like a loss function; the functions that mirror scikit-learn
(`confusion_matrix`, `precision_recall_f1`, `classification_report`) take `(y_true, y_pred)`
in scikit-learn's order. Wherever predictions are expected, logits of shape (N, C) work too:
their argmax is taken.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from rosenblatt._backend import np

__all__ = ["ClassScores", "RunningMean", "accuracy", "classification_report", "confusion_matrix",
           "precision_recall_f1", "top_k_accuracy"]


def _array(x: Any) -> Any:
    """A NumPy array from a tensor (detached, on the CPU), array or list."""
    if hasattr(x, "_data"):  # a Tensor: read its array without touching autograd
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def _labels(pred: Any) -> Any:
    """Class indices from labels (N,) or from scores/logits (N, C)."""
    pred = _array(pred)
    return pred.argmax(axis=-1) if pred.ndim == 2 else pred.reshape(-1)


def accuracy(output: Any, target: Any) -> float:
    """Fraction of correct predictions; output (N, C) scores or (N,) labels, target (N,).

    With one score per sample and float targets (binary classification with
    `BCEWithLogitsLoss`), a score above 0 predicts class 1.
    """
    out, tgt = _array(output), _array(target)
    if out.ndim == tgt.ndim + 1:
        pred = out.argmax(axis=-1)
    elif out.shape == tgt.shape and out.dtype.kind == "f" and tgt.dtype.kind == "f":
        pred, tgt = out > 0, tgt > 0.5
    else:
        pred = out
    if pred.shape != tgt.shape:
        raise ValueError(f"accuracy: output shape {out.shape} does not match target {tgt.shape}")
    return float((pred == tgt).mean()) if tgt.size else 0.0


def top_k_accuracy(output: Any, target: Any, k: int = 5) -> float:
    """Fraction of samples whose target is among the k highest scores; output (N, C)."""
    out, tgt = _array(output), _array(target).reshape(-1)
    if out.ndim != 2 or out.shape[0] != tgt.shape[0]:
        raise ValueError(f"top_k_accuracy: output must be (N, C) with N={tgt.shape[0]}, "
                         f"got {out.shape}")
    k = min(k, out.shape[1])
    top = np.argpartition(-out, k - 1, axis=1)[:, :k]
    return float((top == tgt[:, None]).any(axis=1).mean()) if tgt.size else 0.0


def confusion_matrix(y_true: Any, y_pred: Any, num_classes: int | None = None) -> Any:
    """Counts (C, C) int64: row = true class, column = predicted class (scikit-learn's layout)."""
    t, p = _labels(y_true).astype(np.int64), _labels(y_pred).astype(np.int64)
    if t.shape != p.shape:
        raise ValueError(f"confusion_matrix: y_true {t.shape} and y_pred {p.shape} differ")
    if num_classes is None:
        num_classes = int(max(t.max(initial=-1), p.max(initial=-1))) + 1
    counts = np.bincount(t * num_classes + p, minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes)


@dataclass
class ClassScores:
    """Per-class precision, recall, F1 and support (arrays of length C), and their averages."""

    precision: Any
    recall: Any
    f1: Any
    support: Any

    @property
    def macro(self) -> dict:
        """Unweighted mean over classes."""
        return {"precision": float(self.precision.mean()), "recall": float(self.recall.mean()),
                "f1": float(self.f1.mean())}

    @property
    def weighted(self) -> dict:
        """Mean over classes weighted by support."""
        w = self.support / max(int(self.support.sum()), 1)
        return {"precision": float((self.precision * w).sum()),
                "recall": float((self.recall * w).sum()), "f1": float((self.f1 * w).sum())}


def _safe_div(num: Any, den: Any) -> Any:
    """num / den with 0 where den is 0 (scikit-learn's zero_division=0)."""
    out = np.zeros(num.shape, dtype=np.float64)
    np.divide(num, den, out=out, where=den != 0)
    return out


def precision_recall_f1(y_true: Any, y_pred: Any, num_classes: int | None = None) -> ClassScores:
    """Per-class precision, recall and F1 (0 where undefined, as scikit-learn's zero_division=0)."""
    cm = confusion_matrix(y_true, y_pred, num_classes).astype(np.float64)
    tp = np.diag(cm)
    precision = _safe_div(tp, cm.sum(axis=0))
    recall = _safe_div(tp, cm.sum(axis=1))
    f1 = _safe_div(2 * precision * recall, precision + recall)
    return ClassScores(precision, recall, f1, cm.sum(axis=1).astype(np.int64))


def classification_report(
    y_true: Any, y_pred: Any, class_names: Sequence[str] | None = None,
    num_classes: int | None = None,
) -> str:
    """A table of per-class precision, recall, F1 and support, with accuracy and averages."""
    if num_classes is None and class_names is not None:
        num_classes = len(class_names)
    s = precision_recall_f1(y_true, y_pred, num_classes)
    names = list(class_names) if class_names else [str(i) for i in range(len(s.support))]
    width = max(12, *(len(n) for n in names))
    lines = [f"{'':>{width}} {'precision':>9} {'recall':>9} {'f1':>9} {'support':>9}"]
    for i, name in enumerate(names):
        lines.append(f"{name:>{width}} {s.precision[i]:9.4f} {s.recall[i]:9.4f} "
                     f"{s.f1[i]:9.4f} {int(s.support[i]):9d}")
    total = int(s.support.sum())
    acc = accuracy(_labels(y_pred), _labels(y_true))
    lines.append("")
    lines.append(f"{'accuracy':>{width}} {'':>9} {'':>9} {acc:9.4f} {total:9d}")
    for label, avg in (("macro avg", s.macro), ("weighted avg", s.weighted)):
        lines.append(f"{label:>{width}} {avg['precision']:9.4f} {avg['recall']:9.4f} "
                     f"{avg['f1']:9.4f} {total:9d}")
    return "\n".join(lines)


class RunningMean:
    """A sample-weighted running mean (the epoch's loss or accuracy as batches arrive)."""

    __slots__ = ("total", "count")

    def __init__(self) -> None:
        self.total = 0.0
        self.count = 0

    def update(self, value: float, n: int = 1) -> None:
        """Add a batch mean `value` over `n` samples."""
        self.total += value * n
        self.count += n

    @property
    def mean(self) -> float:
        """The mean so far (nan before any update)."""
        return self.total / self.count if self.count else float("nan")
