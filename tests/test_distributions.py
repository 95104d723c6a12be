"""torch.distributions' first part against PyTorch: log_prob, entropy, moments, KL (values
and gradients, float64), and sampling (shapes and frequencies)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import rosenblatt as rb
from rosenblatt import distributions as D

RNG = np.random.default_rng(0)
LOC, SCALE = RNG.normal(size=(3, 4)), RNG.random((3, 4)) + 0.5
VALUE = RNG.normal(size=(3, 4))
LOGITS = RNG.normal(size=(3, 5))
PROBS01 = RNG.random((3, 4)) * 0.9 + 0.05


def _pair(make, *arrays):
    """The same distribution in both libraries, parameters float64 leaves needing grad."""
    ours = [rb.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    return make(rb, ours), make(torch, theirs), ours, theirs


CASES = {
    "normal": (lambda lib, p: lib.distributions.Normal(p[0], p[1]), (LOC, SCALE), VALUE),
    "uniform": (lambda lib, p: lib.distributions.Uniform(p[0], p[0] + p[1]), (LOC, SCALE),
                LOC + 0.3 * SCALE),
    "bernoulli_probs": (lambda lib, p: lib.distributions.Bernoulli(probs=p[0]), (PROBS01,),
                        (PROBS01 > 0.5).astype(np.float64)),
    "bernoulli_logits": (lambda lib, p: lib.distributions.Bernoulli(logits=p[0]), (LOC,),
                         (VALUE > 0).astype(np.float64)),
    "categorical_logits": (lambda lib, p: lib.distributions.Categorical(logits=p[0]),
                           (LOGITS,), np.array([0, 4, 2])),
    "categorical_probs": (lambda lib, p: lib.distributions.Categorical(probs=p[0]),
                          (np.exp(LOGITS),), np.array([[1, 3, 0], [2, 2, 4]])),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_log_prob_and_entropy_match_pytorch(name: str) -> None:
    make, arrays, value = CASES[name]
    ours, theirs, params_a, params_b = _pair(make, *arrays)
    a = ours.log_prob(rb.tensor(value)) + ours.entropy().sum()
    b = theirs.log_prob(torch.tensor(value)) + theirs.entropy().sum()
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-10)
    a.sum().backward()
    b.sum().backward()
    for pa, pb in zip(params_a, params_b):
        np.testing.assert_allclose(pa.grad.numpy(), pb.grad.numpy(), rtol=1e-8, atol=1e-12)
    assert tuple(ours.batch_shape) == tuple(theirs.batch_shape)


@pytest.mark.parametrize("kind", ["Normal", "Bernoulli", "Categorical", "Uniform"])
def test_kl_divergence_matches_pytorch(kind: str) -> None:
    def build(lib, shift):
        dist, t = lib.distributions, lib.tensor
        if kind == "Normal":
            return dist.Normal(t(LOC + shift), t(SCALE * (1 + shift)))
        if kind == "Bernoulli":
            return dist.Bernoulli(logits=t(LOC + shift))
        if kind == "Categorical":
            return dist.Categorical(logits=t(LOGITS * (1 + shift)))
        return dist.Uniform(t(LOC - shift), t(LOC + SCALE + shift))

    ours = D.kl_divergence(build(rb, 0.0), build(rb, 0.4))
    theirs = torch.distributions.kl_divergence(build(torch, 0.0), build(torch, 0.4))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-10)


def test_moments_and_reparameterised_samples() -> None:
    normal = D.Normal(rb.tensor(LOC, requires_grad=True), rb.tensor(SCALE))
    draws = normal.rsample((2000,))
    assert draws.shape == (2000, 3, 4) and draws.requires_grad
    np.testing.assert_allclose(draws.mean(0).detach().numpy(), LOC, atol=0.15)
    np.testing.assert_allclose(draws.std(0).detach().numpy(), SCALE, rtol=0.1)
    assert not normal.sample((5,)).requires_grad
    draws.sum().backward()  # d(loc + eps scale)/d loc = 1 per draw
    np.testing.assert_allclose(normal.loc.grad.numpy(), 2000.0)
    assert rb.allclose(normal.variance, normal.scale ** 2)
    theirs = torch.distributions.Normal(torch.tensor(LOC), torch.tensor(SCALE))
    for moment in ("mean", "mode", "stddev", "variance"):
        np.testing.assert_allclose(getattr(normal, moment).detach().numpy(),
                                   getattr(theirs, moment).numpy(), rtol=1e-6, err_msg=moment)


def test_discrete_samples_follow_the_probabilities() -> None:
    probs = rb.tensor([[0.7, 0.2, 0.1], [0.0, 0.0, 1.0]])
    draws = D.Categorical(probs=probs).sample((4000,))
    assert draws.shape == (4000, 2) and draws.dtype == rb.int64
    counts = np.bincount(draws[:, 0].numpy(), minlength=3) / 4000
    np.testing.assert_allclose(counts, [0.7, 0.2, 0.1], atol=0.03)
    assert (draws[:, 1] == 2).all()
    flips = D.Bernoulli(probs=rb.tensor([0.25])).sample((4000,))
    assert flips.shape == (4000, 1) and abs(float(flips.mean()) - 0.25) < 0.03


def test_errors_as_pytorch() -> None:
    with pytest.raises(ValueError, match="Either `probs` or `logits`"):
        D.Categorical()
    with pytest.raises(NotImplementedError, match="No KL"):
        D.kl_divergence(D.Normal(0.0, 1.0), D.Bernoulli(probs=0.5))
