"""Activations, margin/embedding/likelihood losses and RMSNorm built from primitives: values
and input gradients against PyTorch (float64), one table."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import rosenblatt as rb
from rosenblatt import nn

RNG = np.random.default_rng(0)
X = RNG.normal(size=(4, 6)) * 3
X2 = RNG.normal(size=(4, 6))
X3 = RNG.normal(size=(4, 6))
SIGN = np.where(RNG.random(4) > 0.5, 1.0, -1.0)
SIGN_2D = np.where(RNG.random((4, 6)) > 0.5, 1.0, -1.0)
LABELS = (RNG.random((4, 6)) > 0.5).astype(np.float64)
COUNTS = RNG.poisson(3.0, size=(4, 6)).astype(np.float64)
VAR = RNG.random((4, 6)) + 0.1

# name -> (layer constructor name, constructor args, inputs; the first is differentiated)
CASES = {
    "hardsigmoid": ("Hardsigmoid", (), (X,)),
    "hardswish": ("Hardswish", (), (X,)),
    "celu": ("CELU", (0.7,), (X,)),
    "softsign": ("Softsign", (), (X,)),
    "tanhshrink": ("Tanhshrink", (), (X,)),
    "softshrink": ("Softshrink", (0.8,), (X,)),
    "hardshrink": ("Hardshrink", (0.8,), (X,)),
    "threshold": ("Threshold", (0.5, -2.0), (X,)),
    "glu": ("GLU", (1,), (X,)),
    "softmax2d": ("Softmax2d", (), (X.reshape(1, 4, 2, 3),)),
    "margin_ranking": ("MarginRankingLoss", (0.3,), (X[:, 0], X2[:, 0], SIGN)),
    "hinge_embedding": ("HingeEmbeddingLoss", (1.5,), (X, SIGN_2D)),
    "cosine_embedding": ("CosineEmbeddingLoss", (0.2,), (X, X2, SIGN)),
    "triplet_margin": ("TripletMarginLoss", (1.0, 2.0, 1e-6, True), (X, X2, X3)),
    "soft_margin": ("SoftMarginLoss", (), (X, SIGN_2D)),
    "multilabel_soft_margin": ("MultiLabelSoftMarginLoss", (), (X, LABELS)),
    "poisson_nll": ("PoissonNLLLoss", (True, True), (X / 3, COUNTS)),
    "poisson_nll_rates": ("PoissonNLLLoss", (False,), (np.abs(X) + 0.1, COUNTS)),
    "gaussian_nll": ("GaussianNLLLoss", (), (X, X2, VAR)),
    "rms_norm": ("RMSNorm", ((6,),), (X,)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_value_and_gradient_match_pytorch(name: str) -> None:
    layer_name, args, inputs = CASES[name]
    ours = getattr(nn, layer_name)(*args).double()
    theirs = getattr(torch.nn, layer_name)(*args).double()
    a = [rb.tensor(v, requires_grad=i == 0) for i, v in enumerate(inputs)]
    b = [torch.tensor(v, requires_grad=i == 0) for i, v in enumerate(inputs)]
    out_a, out_b = ours(*a), theirs(*b)
    np.testing.assert_allclose(out_a.detach().numpy(), out_b.detach().numpy(), rtol=1e-10,
                               atol=1e-12)
    out_a.sum().backward()
    out_b.sum().backward()
    # PyTorch's celu backward rounds (from its output) at ~1e-9; the rest agree closer
    np.testing.assert_allclose(a[0].grad.numpy(), b[0].grad.numpy(), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("reduction", ["none", "sum"])
def test_loss_reductions(reduction: str) -> None:
    a = nn.TripletMarginLoss(reduction=reduction)(*(rb.tensor(v) for v in (X, X2, X3)))
    b = torch.nn.TripletMarginLoss(reduction=reduction)(*(torch.tensor(v) for v in (X, X2, X3)))
    np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10)


def test_argument_errors_as_pytorch() -> None:
    with pytest.raises(RuntimeError, match="Halving dimension must be even"):
        nn.GLU(1)(rb.ones(2, 3))
    with pytest.raises(ValueError, match="var has negative"):
        nn.GaussianNLLLoss()(rb.ones(2), rb.ones(2), -rb.ones(2))
    assert nn.RMSNorm(4).weight.shape == (4,) and nn.RMSNorm(4).bias is None
    assert [n for n, _ in nn.RMSNorm(4).named_parameters()] == \
        [n for n, _ in torch.nn.RMSNorm(4).named_parameters()]
