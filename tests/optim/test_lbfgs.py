"""LBFGS against torch.optim.LBFGS: the same iterates (float64) with a fixed step and with the
strong-Wolfe line search, the history limit, and PyTorch's argument checks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import rosenblatt as rb


def _problem(lib, seed: int = 0):
    """A small least-squares net (tanh hidden layer) in lib, float64, same weights for both."""
    rng = np.random.default_rng(seed)
    arrays = [rng.normal(size=s) for s in ((6, 3), (6,), (1, 6), (1,), (40, 3), (40, 1))]
    w1, b1, w2, b2, x, y = (lib.tensor(a, dtype=lib.float64) for a in arrays)
    params = [w1, b1, w2, b2]
    for p in params:
        p.requires_grad_(True)

    def loss():
        hidden = lib.tanh(x @ w1.t() + b1)
        return ((hidden @ w2.t() + b2 - y) ** 2).mean()

    return params, loss


@pytest.mark.parametrize("options", [
    {"lr": 0.8}, {"lr": 1, "line_search_fn": "strong_wolfe"},
    {"lr": 0.5, "history_size": 3, "max_iter": 7},
])
def test_iterates_follow_pytorch(options: dict) -> None:
    ours, theirs = _problem(rb), _problem(torch)
    opts = [rb.optim.LBFGS(ours[0], **options), torch.optim.LBFGS(theirs[0], **options)]
    losses = []
    for _ in range(3):
        step_losses = []
        for opt, (_, loss_fn) in zip(opts, (ours, theirs)):
            def closure(opt=opt, loss_fn=loss_fn):
                opt.zero_grad()
                loss = loss_fn()
                loss.backward()
                return loss
            step_losses.append(opt.step(closure).item())
        losses.append(step_losses)
        np.testing.assert_allclose(step_losses[0], step_losses[1], rtol=1e-9)
    for a, b in zip(ours[0], theirs[0]):
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-7, atol=1e-10)
    assert losses[-1][0] < losses[0][0] / 2
    assert opts[0].state[ours[0][0]]["func_evals"] == opts[1].state[theirs[0][0]]["func_evals"]


def test_lbfgs_checks_like_pytorch() -> None:
    w = rb.zeros(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="strong_wolfe"):
        rb.optim.LBFGS([w], line_search_fn="armijo")
    with pytest.raises(RuntimeError, match="closure"):
        rb.optim.LBFGS([w]).step()
    with pytest.raises(ValueError, match="parameter groups"):
        rb.optim.LBFGS([{"params": [w]}, {"params": [rb.zeros(1, requires_grad=True)]}])
