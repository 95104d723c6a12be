"""`rosenblatt.metrics`: classification metrics (`rosenblatt.train.metrics`), and evaluation
by group and calibration (`rosenblatt.train.fairness`)."""

from .train.fairness import (
    GroupScores,
    Reliability,
    demographic_parity_difference,
    equal_opportunity_thresholds,
    equalized_odds_difference,
    expected_calibration_error,
    fairness_report,
    group_metrics,
    load_groups,
    plot_reliability_diagram,
    reliability_diagram,
    reweighing_weights,
)
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
    "GroupScores", "Reliability", "demographic_parity_difference",
    "equal_opportunity_thresholds", "equalized_odds_difference", "expected_calibration_error",
    "fairness_report", "group_metrics", "load_groups", "plot_reliability_diagram",
    "reliability_diagram", "reweighing_weights",
]
