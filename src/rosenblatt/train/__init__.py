"""Training: the `Trainer` loop, callbacks, progress bar, plots and transfer learning.

The metrics (`train.metrics`, `train.fairness`) are public as `rosenblatt.metrics`.
"""

from .callbacks import (
    Callback,
    EarlyStopping,
    HistoryLogger,
    LambdaCallback,
    ModelCheckpoint,
    PlotCurves,
    TensorBoardLogger,
)
from .plots import plot_history
from .progress import ProgressBar
from .trainer import NonFiniteLossError, Trainer, fit
from .transfer import GradualUnfreezing, freeze, unfreeze

__all__ = [
    "Callback", "EarlyStopping", "HistoryLogger", "LambdaCallback", "ModelCheckpoint",
    "PlotCurves", "TensorBoardLogger", "plot_history",
    "ProgressBar", "NonFiniteLossError", "Trainer", "fit", "GradualUnfreezing", "freeze",
    "unfreeze",
]
