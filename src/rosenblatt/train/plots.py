"""Training curves and confusion matrices as PNG files.

matplotlib is imported on first use and drawn through its Agg canvas directly, so plotting
never needs a display and never changes the backend of a user's notebook.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

from rosenblatt._backend import np


def _figure(width: float, height: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Any, path: str | os.PathLike) -> Path:
    """Write the figure atomically (a reader never sees half a PNG)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fig.savefig(tmp, format="png", bbox_inches="tight")
    os.replace(tmp, path)
    return path


def _column(history: Sequence[dict], key: str) -> tuple[list, list]:
    rows = [(r["epoch"], r[key]) for r in history if r.get(key) is not None]
    return [e for e, _ in rows], [v for _, v in rows]


def plot_history(history: Sequence[dict], path: str | os.PathLike, title: str = "") -> Path:
    """Loss and accuracy per epoch (train and validation) side by side; returns the path.

    `history` is a list of per-epoch records with keys such as epoch, train_loss, val_loss,
    train_acc, val_acc (what `Trainer.fit` returns).
    """
    has_acc = any(r.get("train_acc") is not None or r.get("val_acc") is not None
                  for r in history)
    fig = _figure(10 if has_acc else 5.5, 4)
    axes = fig.subplots(1, 2 if has_acc else 1, squeeze=False)[0]
    panels = [("loss", axes[0])] + ([("acc", axes[1])] if has_acc else [])
    for what, ax in panels:
        for split, style in (("train", "-o"), ("val", "-s")):
            epochs, values = _column(history, f"{split}_{what}")
            if values:
                label = "train" if split == "train" else "validation"
                ax.plot(epochs, values, style, markersize=3, label=label)
        ax.set_xlabel("epoch")
        ax.set_ylabel("loss" if what == "loss" else "accuracy")
        ax.grid(True, alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def plot_confusion_matrix(
    cm: Any, path: str | os.PathLike, class_names: Sequence[str] | None = None,
    normalize: bool = False, title: str = "confusion matrix",
) -> Path:
    """Draw a (C, C) confusion matrix (rows true, columns predicted) with counts in the cells."""
    cm = np.asarray(cm)
    shown = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1) if normalize else cm
    n = cm.shape[0]
    names = list(class_names) if class_names else [str(i) for i in range(n)]
    size = max(4.0, 0.45 * n + 2)
    fig = _figure(size + 1, size)
    ax = fig.subplots()
    image = ax.imshow(shown, cmap="Blues")
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    ax.set_xticks(range(n), names, rotation=45 if max(map(len, names)) > 2 else 0, ha="right")
    ax.set_yticks(range(n), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    if n <= 30:
        threshold = shown.max() / 2 if shown.size else 0
        for i in range(n):
            for j in range(n):
                text = f"{shown[i, j]:.2f}" if normalize else str(int(cm[i, j]))
                color = "white" if shown[i, j] > threshold else "black"
                ax.text(j, i, text, ha="center", va="center", color=color, fontsize=8)
    return _save(fig, path)
