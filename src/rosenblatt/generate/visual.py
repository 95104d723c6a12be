"""Pictures of a trained autoencoder's or VAE's code space: interpolations and a scatter."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import rosenblatt as rb
from rosenblatt._backend import np

from .train import dataset


def _codes(model: Any, images: Any) -> Any:
    """(N, 1, 28, 28) -> (N, D) codes (the posterior means for a VAE)."""
    with rb.no_grad():
        code = model.encode(images)
    return code[0] if isinstance(code, tuple) else code


def interpolations(model: Any, dataset_name: str, rows: int = 8, steps: int = 10,
                   seed: int = 0) -> Any:
    """rows x steps decoded images (rows*steps, 1, 28, 28): each row walks in a straight line
    between the codes of two random test images."""
    data = dataset(dataset_name, train=False)
    gen = rb.Generator().manual_seed(seed)
    index = rb.randperm(len(data), generator=gen)[:2 * rows]
    images = data.data[index].float()[:, None] / 255
    z = _codes(model, images)
    a, b = z[:rows], z[rows:]
    w = rb.linspace(0, 1, steps)[None, :, None]
    path = (a[:, None] * (1 - w) + b[:, None] * w).reshape(rows * steps, -1)
    with rb.no_grad():
        return model.decode(path)


def latent_scatter(model: Any, dataset_name: str, path: str | os.PathLike,
                   limit: int = 5000) -> Path:
    """Scatter of the first `limit` test images' codes coloured by class; codes with more than
    two dimensions are shown on their first two principal components. Returns the path."""
    from rosenblatt.train.plots import _figure, _save

    data = dataset(dataset_name, train=False)
    images = data.data[:limit].float()[:, None] / 255
    z = _codes(model, images).numpy().astype(np.float64)
    labels = data.targets[:limit].numpy()
    axes_name = ["z1", "z2"]
    if z.shape[1] > 2:
        centred = z - z.mean(axis=0)
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        z, axes_name = centred @ vt[:2].T, ["PC1 of z", "PC2 of z"]
    fig = _figure(6, 5.5)
    ax = fig.subplots()
    points = ax.scatter(z[:, 0], z[:, 1], c=labels, cmap="tab10", s=3, alpha=0.7)
    fig.colorbar(points, ax=ax, ticks=range(10))
    ax.set_xlabel(axes_name[0])
    ax.set_ylabel(axes_name[1])
    ax.set_title(f"test-set codes by class ({len(labels)} images)")
    return _save(fig, path)
