"""Training: the `Trainer` loop, callbacks, metrics, progress bar, plots and transfer learning."""

from .callbacks import (
    Callback,
    EarlyStopping,
    HistoryLogger,
    LambdaCallback,
    ModelCheckpoint,
    PlotCurves,
    TensorBoardLogger,
)
from .metrics import (
    ClassScores,
    accuracy,
    classification_report,
    confusion_matrix,
    precision_recall_f1,
    top_k_accuracy,
)
from .plots import plot_confusion_matrix, plot_history
from .progress import ProgressBar
from .trainer import NonFiniteLossError, Trainer, fit
from .transfer import GradualUnfreezing, freeze, unfreeze

__all__ = [
    "Callback", "EarlyStopping", "HistoryLogger", "LambdaCallback", "ModelCheckpoint",
    "PlotCurves", "TensorBoardLogger", "ClassScores", "accuracy", "classification_report",
    "confusion_matrix",
    "precision_recall_f1", "top_k_accuracy", "plot_confusion_matrix", "plot_history",
    "ProgressBar", "NonFiniteLossError", "Trainer", "fit", "GradualUnfreezing", "freeze",
    "unfreeze",
]
