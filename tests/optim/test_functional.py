"""The functional forms (`rosenblatt.optim.adam.adam`, ...): the classes' update, PyTorch's.

Each case runs a class and its functional side by side on the same parameters and gradients
(bit for bit equal), then the functional against PyTorch's functional of the same name.
"""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import torch

import rosenblatt as rb
from rosenblatt import optim

SHAPES = [(3, 4), (5,)]
STEPS = 12

# (class, its keyword arguments, functional, state lists in the functional's order, keywords)
CASES = [
    ("SGD", dict(lr=0.05, momentum=0.9, weight_decay=0.1, nesterov=True, maximize=True),
     "sgd", ["momentum_buffer"],
     dict(weight_decay=0.1, momentum=0.9, lr=0.05, dampening=0.0, nesterov=True,
          maximize=True)),
    ("SGD", dict(lr=0.05, weight_decay=0.1), "sgd", ["momentum_buffer"],
     dict(weight_decay=0.1, momentum=0.0, lr=0.05, dampening=0.0, nesterov=False,
          maximize=False)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1, amsgrad=True),
     "adam", ["exp_avg", "exp_avg_sq", "max_exp_avg_sq", "step"],
     dict(amsgrad=True, beta1=0.8, beta2=0.99, lr=0.01, weight_decay=0.1, eps=1e-8,
          maximize=False)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, maximize=True),
     "adamw", ["exp_avg", "exp_avg_sq", "max_exp_avg_sq", "step"],
     dict(amsgrad=False, beta1=0.9, beta2=0.999, lr=0.01, weight_decay=0.1, eps=1e-8,
          maximize=True)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, maximize=True),
     "adagrad", ["sum", "step"],
     dict(lr=0.1, weight_decay=0.1, lr_decay=0.01, eps=1e-10, maximize=True)),
    ("Adadelta", dict(lr=1.0, rho=0.8, weight_decay=0.1),
     "adadelta", ["square_avg", "acc_delta", "step"],
     dict(lr=1.0, rho=0.8, eps=1e-6, weight_decay=0.1, maximize=False)),
    ("Adamax", dict(lr=0.01, weight_decay=0.1, maximize=True),
     "adamax", ["exp_avg", "exp_inf", "step"],
     dict(eps=1e-8, beta1=0.9, beta2=0.999, lr=0.01, weight_decay=0.1, maximize=True)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, momentum_decay=0.1),
     "nadam", ["exp_avg", "exp_avg_sq", "mu_product", "step"],
     dict(beta1=0.9, beta2=0.999, lr=0.01, weight_decay=0.1, momentum_decay=0.1, eps=1e-8,
          decoupled_weight_decay=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.1, maximize=True),
     "rmsprop", ["square_avg", "grad_avg", "momentum_buffer", "step"],
     dict(lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.1, momentum=0.9, centered=True,
          maximize=True)),
]
IDS = [f"{name}-{i}" for i, (name, *_) in enumerate(CASES)]


def _functional(lib, name: str):
    return getattr(importlib.import_module(f"{lib.__name__}.optim.{name}"), name)


def _fresh(lib, key: str, like):
    """A state entry before the first step, as the classes make it (None: SGD's buffer)."""
    if key in ("step", "mu_product"):
        return lib.tensor(1.0 if key == "mu_product" else 0.0, dtype=lib.float32)
    return lib.zeros_like(like)


def _setup(lib, name: str, keys: list[str]):
    rng = np.random.default_rng(0)
    params = [lib.tensor(rng.standard_normal(s), requires_grad=True) for s in SHAPES]
    if name == "sgd":  # PyTorch's sgd fills None entries with new buffers
        return params, [[None] * len(params)]
    return params, [[_fresh(lib, key, p.detach()) for p in params] for key in keys]


def _grads(lib, step: int) -> list:
    rng = np.random.default_rng(100 + step)
    return [lib.tensor(rng.standard_normal(s)) for s in SHAPES]


@pytest.mark.parametrize("cls,cls_kwargs,name,keys,hyper", CASES, ids=IDS)
def test_functional_equals_the_class(cls, cls_kwargs, name, keys, hyper):
    by_class, _ = _setup(rb, name, keys)
    params, states = _setup(rb, name, keys)
    opt = getattr(optim, cls)(by_class, **cls_kwargs)
    for step in range(STEPS):
        grads = _grads(rb, step)
        for p, g in zip(by_class, grads):
            p.grad = g
        opt.step()
        _functional(rb, name)(params, grads, *states, **hyper)
    for p, q in zip(params, by_class):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())
    for key, column in zip(keys, states):
        for state, entry in zip(opt.state.values(), column):
            if key in state:  # SGD without momentum and Adam without AMSGrad keep less
                np.testing.assert_array_equal(entry.numpy(), state[key].numpy())


@pytest.mark.parametrize("cls,cls_kwargs,name,keys,hyper", CASES, ids=IDS)
def test_functional_equals_pytorchs(cls, cls_kwargs, name, keys, hyper):
    ours, our_states = _setup(rb, name, keys)
    theirs, their_states = _setup(torch, name, keys)
    for step in range(STEPS):
        _functional(rb, name)(ours, _grads(rb, step), *our_states, **hyper)
        with torch.no_grad():
            _functional(torch, name)(theirs, _grads(torch, step), *their_states, **hyper)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-10,
                                   atol=1e-12)
    assert [p._version for p in ours] == [STEPS] * len(ours)  # in-place updates are counted


def test_an_optimizer_naming_no_functional_must_override_step():
    class Plain(optim.Optimizer):
        def __init__(self, params):
            super().__init__(params, dict(lr=0.1))

    p = rb.zeros(2, requires_grad=True)
    p.grad = rb.ones(2)
    with pytest.raises(NotImplementedError, match="Plain names no _functional"):
        Plain([p]).step()
