"""`rosenblatt.metrics`: the classification metrics of `rosenblatt.train.metrics`."""

from .train.metrics import (
    ClassScores,
    RunningMean,
    accuracy,
    classification_report,
    confusion_matrix,
    precision_recall_f1,
    top_k_accuracy,
)
from .train.plots import plot_confusion_matrix

__all__ = [
    "ClassScores", "RunningMean", "accuracy", "classification_report", "confusion_matrix",
    "precision_recall_f1", "top_k_accuracy", "plot_confusion_matrix",
]
