"""Each optimizer really minimises: an ill-conditioned quadratic and a logistic regression.

The optima are computed independently with NumPy (a linear solve; Newton's method), and the
optimizers, driven through autograd like a training loop, must get close to them.
"""

from __future__ import annotations

import numpy as np
import pytest

import rosenblatt as rb
from rosenblatt import optim
from rosenblatt.optim import lr_scheduler

DIM = 8


def _quadratic() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """f(x) = ½ xᵀAx − bᵀx with A's eigenvalues spread over [1, 10]; returns A, b, x*."""
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.standard_normal((DIM, DIM)))
    a = q @ np.diag(np.linspace(1.0, 10.0, DIM)) @ q.T
    b = rng.standard_normal(DIM)
    return a, b, np.linalg.solve(a, b)


QUADRATIC_CASES = {
    "SGD": (lambda p: optim.SGD(p, lr=0.15), 200, None),
    "SGD-momentum": (lambda p: optim.SGD(p, lr=0.05, momentum=0.8), 200, None),
    "SGD-nesterov": (lambda p: optim.SGD(p, lr=0.05, momentum=0.8, nesterov=True), 200, None),
    "Adam": (lambda p: optim.Adam(p, lr=0.1), 400,
             lambda o: lr_scheduler.ExponentialLR(o, gamma=0.99)),
    "Adam-amsgrad": (lambda p: optim.Adam(p, lr=0.1, amsgrad=True), 400,
                     lambda o: lr_scheduler.ExponentialLR(o, gamma=0.99)),
    "AdamW": (lambda p: optim.AdamW(p, lr=0.1, weight_decay=1e-4), 400,
              lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=400)),
    "RMSprop": (lambda p: optim.RMSprop(p, lr=0.03), 300,
                lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=300)),
    "RMSprop-centered-momentum": (lambda p: optim.RMSprop(p, lr=0.03, momentum=0.5,
                                                          centered=True), 300,
                                  lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=300)),
    "Adagrad": (lambda p: optim.Adagrad(p, lr=1.0), 400, None),
    "Adadelta": (lambda p: optim.Adadelta(p, lr=3.0), 400,
                 lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=400)),
    "Adamax": (lambda p: optim.Adamax(p, lr=0.1), 400,
               lambda o: lr_scheduler.ExponentialLR(o, gamma=0.99)),
    "NAdam": (lambda p: optim.NAdam(p, lr=0.1), 400,
              lambda o: lr_scheduler.ExponentialLR(o, gamma=0.99)),
}


@pytest.mark.parametrize("name", list(QUADRATIC_CASES))
def test_minimises_an_ill_conditioned_quadratic(name):
    make_opt, steps, make_sched = QUADRATIC_CASES[name]
    a, b, x_star = _quadratic()
    A, B = rb.tensor(a, dtype=rb.float32), rb.tensor(b, dtype=rb.float32)
    x = rb.zeros(DIM, requires_grad=True)
    opt = make_opt([x])
    sched = make_sched(opt) if make_sched else None
    for _ in range(steps):
        opt.zero_grad()
        loss = 0.5 * (x @ (A @ x)) - B @ x
        loss.backward()
        opt.step()
        if sched:
            sched.step()
    error = np.linalg.norm(x.detach().numpy() - x_star) / np.linalg.norm(x_star)
    assert error < 1e-3, f"{name}: relative distance to the optimum {error:.2e}"


def _logistic_data() -> tuple[np.ndarray, np.ndarray]:
    """Two overlapping Gaussian classes in 5 dimensions (n=300), labels 0/1."""
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 300)
    centres = np.array([[1.0, -1.0, 0.5, 0.0, 0.5], [-1.0, 1.0, -0.5, 0.5, -0.5]])
    x = centres[y] + rng.standard_normal((300, 5))
    return x, y.astype(np.float64)


L2 = 1e-2


def _newton_optimum(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """The L2-regularised logistic-regression optimum (weights with bias last) and its loss."""
    xb = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(xb.shape[1])
    reg = np.diag([L2] * x.shape[1] + [0.0])
    for _ in range(50):
        p = 1 / (1 + np.exp(-xb @ w))
        grad = xb.T @ (p - y) / len(y) + reg @ w
        hess = (xb.T * (p * (1 - p))) @ xb / len(y) + reg
        w -= np.linalg.solve(hess, grad)
    z = xb @ w
    loss = np.mean(np.logaddexp(0, z) - y * z) + 0.5 * L2 * w[:-1] @ w[:-1]
    return w, loss


# each optimizer's settings: (for the logistic regression, for XOR)
SETTINGS = {
    "SGD": (dict(lr=0.5, momentum=0.9), dict(lr=0.5, momentum=0.9)),
    "Adam": (dict(lr=0.2), dict(lr=0.05)),
    "AdamW": (dict(lr=0.2, weight_decay=1e-4), dict(lr=0.05)),
    "RMSprop": (dict(lr=0.1), dict(lr=0.01)),
    "Adagrad": (dict(lr=2.0), dict(lr=0.3)),
    "Adadelta": (dict(lr=10.0), dict(lr=1.0)),
    "Adamax": (dict(lr=0.2), dict(lr=0.05)),
    "NAdam": (dict(lr=0.2), dict(lr=0.05)),
}


@pytest.mark.parametrize("name", list(SETTINGS))
def test_fits_a_logistic_regression(name):
    x, y = _logistic_data()
    w_star, loss_star = _newton_optimum(x, y)
    X, Y = rb.tensor(x, dtype=rb.float32), rb.tensor(y, dtype=rb.float32)
    w = rb.zeros(5, requires_grad=True)
    bias = rb.zeros(1, requires_grad=True)
    opt = getattr(optim, name)([{"params": [w]}, {"params": [bias]}], **SETTINGS[name][0])
    sched = lr_scheduler.OneCycleLR(opt, max_lr=[g["lr"] for g in opt.param_groups],
                                    total_steps=300, cycle_momentum=False)
    for _ in range(300):
        opt.zero_grad()
        z = X @ w + bias
        # binary cross-entropy on logits, log(1 + e^z) − y z, plus the L2 penalty on w
        loss = (rb.log(1 + rb.exp(z)) - Y * z).mean() + 0.5 * L2 * (w * w).sum()
        loss.backward()
        opt.step()
        sched.step()
    assert loss.item() - loss_star < 1e-5, f"{name}: loss {loss.item():.6f} vs {loss_star:.6f}"
    found = np.append(w.detach().numpy(), bias.item())
    assert np.abs(found - w_star).max() < 2e-2
    accuracy = (((x @ found[:-1] + found[-1]) > 0) == y).mean()
    assert accuracy > 0.8


@pytest.mark.parametrize("name", list(SETTINGS))
def test_trains_a_small_network_on_xor(name):
    """nn.Parameters from `named_parameters()`: the usual training loop learns XOR."""
    from rosenblatt import nn

    model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))
    x = rb.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = rb.tensor([0, 1, 1, 0])
    opt = getattr(optim, name)(model.named_parameters(), **SETTINGS[name][1])
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(300):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    assert loss.item() < 0.01, f"{name}: loss {loss.item():.4f}"
    assert model(x).argmax(1).tolist() == [0, 1, 1, 0]
