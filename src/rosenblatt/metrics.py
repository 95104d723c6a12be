"""`rosenblatt.metrics`: classification metrics (`rosenblatt.train.metrics`), and evaluation
by group and calibration (`rosenblatt.train.fairness`)."""

from .train import fairness as _fairness
from .train import metrics as _metrics
from .train.fairness import *  # noqa: F403
from .train.metrics import *  # noqa: F403
from .train.plots import plot_confusion_matrix

__all__ = [*_metrics.__all__, "plot_confusion_matrix", *_fairness.__all__]
