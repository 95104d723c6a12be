"""nn.init and default layer initialisation: distributions as PyTorch's (bounds, moments)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import rosenblatt as rb
from rosenblatt import nn
from rosenblatt.nn import init


def values(t: rb.Tensor) -> np.ndarray:
    return t.detach().numpy().astype(np.float64).ravel()


def uniform_ok(x: np.ndarray, bound: float) -> None:
    """Inside (-bound, bound), reaching near both ends, variance bound^2 / 3 (within 5%)."""
    assert x.min() >= -bound and x.max() <= bound
    assert x.min() < -0.95 * bound and x.max() > 0.95 * bound
    assert abs(x.var() / (bound**2 / 3) - 1) < 0.05
    assert abs(x.mean()) < 0.05 * bound


def normal_ok(x: np.ndarray, std: float, mean: float = 0.0) -> None:
    assert abs(x.std() / std - 1) < 0.05
    assert abs(x.mean() - mean) < 0.05 * std


def test_calculate_gain_matches_torch():
    for name, param in [("linear", None), ("conv2d", None), ("sigmoid", None), ("tanh", None),
                        ("relu", None), ("leaky_relu", None), ("leaky_relu", 0.2),
                        ("selu", None)]:
        assert math.isclose(init.calculate_gain(name, param),
                            torch.nn.init.calculate_gain(name, param))
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        init.calculate_gain("swish")


def test_fans_match_torch():
    for shape in [(3, 5), (4, 2, 3, 3), (2, 6, 5)]:
        assert init._calculate_fan_in_and_fan_out(rb.empty(shape)) == \
            torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))


def test_kaiming_and_xavier_distributions():
    w = rb.empty(400, 250)
    init.kaiming_uniform_(w, a=0, nonlinearity="relu")
    uniform_ok(values(w), math.sqrt(2) * math.sqrt(3 / 250))
    init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu")
    normal_ok(values(w), math.sqrt(2 / 400))
    init.kaiming_normal_(w, a=0.2)
    normal_ok(values(w), math.sqrt(2 / (1 + 0.04)) / math.sqrt(250))
    init.xavier_uniform_(w, gain=2.0)
    uniform_ok(values(w), 2.0 * math.sqrt(6 / 650))
    init.xavier_normal_(w)
    normal_ok(values(w), math.sqrt(2 / 650))


def test_simple_fills_and_trunc_normal():
    w = rb.empty(300, 300)
    init.normal_(w, 1.0, 0.5)
    normal_ok(values(w), 0.5, 1.0)
    init.uniform_(w, -2, 4)
    assert values(w).min() >= -2 and values(w).max() <= 4
    init.trunc_normal_(w, std=1.0, a=-1.0, b=1.5)
    x = values(w)
    assert x.min() >= -1.0 and x.max() <= 1.5
    from scipy.stats import truncnorm

    assert abs(x.mean() - truncnorm.mean(-1.0, 1.5)) < 0.01
    assert abs(x.std() - truncnorm.std(-1.0, 1.5)) < 0.01
    init.constant_(w, 0.3)
    assert np.allclose(values(w), 0.3)
    init.zeros_(w)
    assert not values(w).any()
    init.ones_(w)
    assert (values(w) == 1).all()
    e = rb.empty(3, 4)
    init.eye_(e)
    assert np.array_equal(e.numpy(), np.eye(3, 4))


def test_orthogonal():
    for shape in [(6, 4), (3, 8), (4, 2, 3)]:
        w = rb.empty(*shape)
        init.orthogonal_(w, gain=2.0)
        flat = w.numpy().reshape(shape[0], -1).astype(np.float64)
        small = flat @ flat.T if shape[0] <= flat.shape[1] else flat.T @ flat
        np.testing.assert_allclose(small, 4 * np.eye(small.shape[0]), atol=1e-5)


def test_init_works_on_parameters_and_is_reproducible():
    p = nn.Parameter(rb.empty(5, 5))
    rb.manual_seed(1)
    init.kaiming_uniform_(p)
    first = p.detach().numpy().copy()
    rb.manual_seed(1)
    init.kaiming_uniform_(p)
    assert np.array_equal(first, p.detach().numpy())
    assert p.requires_grad and p.is_leaf
    g = rb.Generator().manual_seed(5)
    init.normal_(p, generator=g)
    assert not np.array_equal(first, p.detach().numpy())


def test_default_layer_initialisation_matches_torch_distributions():
    lin = nn.Linear(300, 400)
    bound = 1 / math.sqrt(300)  # kaiming_uniform_(a=sqrt(5)) gives the same bound
    uniform_ok(values(lin.weight), bound)
    x = values(lin.bias)
    assert x.min() >= -bound and x.max() <= bound and x.std() > 0.8 * bound / math.sqrt(3)
    bil = nn.Bilinear(40, 30, 50)
    uniform_ok(values(bil.weight), 1 / math.sqrt(40))
    emb = nn.Embedding(500, 64)
    normal_ok(values(emb.weight), 1.0)
    bn, ln = nn.BatchNorm1d(7), nn.LayerNorm(7)
    for layer in (bn, ln):
        assert (values(layer.weight) == 1).all() and not values(layer.bias).any()
    assert not values(bn.running_mean).any() and (values(bn.running_var) == 1).all()
    # and the same bounds as PyTorch's own layers draw from
    theirs = torch.nn.Linear(300, 400)
    assert abs(theirs.weight.detach().abs().max().item() - values(lin.weight).max()) < 0.01
