"""Small synthetic 2-D classification problems: two moons and XOR."""

from __future__ import annotations

import math
from typing import Any

from .. import random as rnd
from .._backend import np
from ..autograd.tensor import Tensor

__all__ = ["moons", "xor"]


def _rng(seed: int | None) -> Any:
    """A NumPy Generator: from `seed`, or the default one behind rb.manual_seed."""
    return rnd.gen() if seed is None else np.random.default_rng(seed)


def _pack(points: Any, labels: Any) -> tuple[Tensor, Tensor]:
    return (Tensor._make(points.astype(np.float32), False, None),
            Tensor._make(labels.astype(np.int64), False, None))


def moons(n: int = 200, noise: float = 0.1, seed: int | None = None,
          shuffle: bool = True) -> tuple[Tensor, Tensor]:
    """Two interleaving half circles: X float32 (n, 2), y int64 (n,) in {0, 1}.

    The same construction as sklearn.datasets.make_moons: class 0 on the upper arc
    (cos t, sin t), class 1 on the lower arc (1 - cos t, 0.5 - sin t), t in [0, pi],
    then Gaussian noise of std `noise`.
    """
    rng = _rng(seed)
    n_out = n // 2
    n_in = n - n_out
    t_out = np.linspace(0, math.pi, n_out)
    t_in = np.linspace(0, math.pi, n_in)
    points = np.concatenate([
        np.stack([np.cos(t_out), np.sin(t_out)], 1),
        np.stack([1 - np.cos(t_in), 1 - np.sin(t_in) - 0.5], 1),
    ])
    labels = np.concatenate([np.zeros(n_out), np.ones(n_in)])
    if shuffle:
        order = rng.permutation(n)
        points, labels = points[order], labels[order]
    if noise:
        points = points + rng.normal(0.0, noise, points.shape)
    return _pack(points, labels)


def xor(n: int = 200, noise: float = 0.1, seed: int | None = None) -> tuple[Tensor, Tensor]:
    """XOR of the signs: X float32 (n, 2) uniform in [-1, 1]^2 plus Gaussian noise of std
    `noise`, y int64 (n,) = 1 where the two coordinates (before noise) differ in sign."""
    rng = _rng(seed)
    points = rng.uniform(-1.0, 1.0, (n, 2))
    labels = (points[:, 0] > 0) != (points[:, 1] > 0)
    if noise:
        points = points + rng.normal(0.0, noise, points.shape)
    return _pack(points, labels)
