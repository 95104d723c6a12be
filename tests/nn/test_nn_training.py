"""A small end-to-end fit: the layers, losses and init learn a non-linear problem."""

from __future__ import annotations

import numpy as np

import rosenblatt as rb
from rosenblatt import nn
from rosenblatt.nn import functional as F


def spirals(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Three interleaved spirals: not linearly separable."""
    labels = rng.integers(0, 3, n)
    r = rng.uniform(0.1, 1.0, n)
    angle = labels * 2 * np.pi / 3 + r * 3.0 + rng.normal(0, 0.1, n)
    return np.stack([r * np.cos(angle), r * np.sin(angle)], 1).astype(np.float32), labels


def test_mlp_learns_spirals_with_sgd():
    rng = np.random.default_rng(0)
    x_train, y_train = spirals(600, rng)
    x_test, y_test = spirals(300, rng)
    model = nn.Sequential(nn.Linear(2, 64), nn.BatchNorm1d(64), nn.GELU(), nn.Dropout(0.05),
                          nn.Linear(64, 64), nn.LayerNorm(64), nn.SiLU(), nn.Linear(64, 3))
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.05)
    for _ in range(300):
        idx = rng.integers(0, len(x_train), 64)
        loss = loss_fn(model(rb.tensor(x_train[idx])), rb.tensor(y_train[idx]))
        model.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        with rb.no_grad():
            for p in model.parameters():
                p -= 0.2 * p.grad
    model.eval()
    with rb.no_grad():
        logits = model(rb.tensor(x_test))
    accuracy = (logits.argmax(1).numpy() == y_test).mean()
    assert accuracy > 0.95, accuracy
    assert F.cross_entropy(logits, rb.tensor(y_test)).item() < 0.3
