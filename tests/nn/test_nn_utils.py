"""nn.utils: gradient clipping and parameter vectors, against PyTorch."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import rosenblatt as rb
from rosenblatt import nn
from rosenblatt.nn.utils import (
    clip_grad_norm_,
    clip_grad_value_,
    parameters_to_vector,
    vector_to_parameters,
)

rng = np.random.default_rng(0)


def twin_params(grad_scale: float = 1.0):
    arrays = [rng.standard_normal((3, 4)), rng.standard_normal(5)]
    grads = [rng.standard_normal(a.shape) * grad_scale for a in arrays]
    ours = [nn.Parameter(rb.tensor(a)) for a in arrays]
    theirs = [torch.nn.Parameter(torch.tensor(a)) for a in arrays]
    for o, t, g in zip(ours, theirs, grads):
        o.grad = rb.tensor(g)
        t.grad = torch.tensor(g)
    return ours, theirs


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    ours, theirs = twin_params()
    total_r = clip_grad_norm_(ours, max_norm, norm_type)
    total_t = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert isinstance(total_r, rb.Tensor) and total_r.ndim == 0
    np.testing.assert_allclose(total_r.item(), total_t.item(), rtol=1e-9)
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), rtol=1e-9)


def test_clip_grad_norm_nonfinite_and_skips_params_without_grad():
    ours, _ = twin_params()
    ours[0].grad._data[0, 0] = np.inf
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)
    p = nn.Parameter(rb.ones(2))
    assert clip_grad_norm_([p], 1.0).item() == 0.0
    single = nn.Parameter(rb.ones(2))
    single.grad = rb.tensor([3.0, 4.0])
    assert clip_grad_norm_(single, 1.0).item() == pytest.approx(5.0)
    np.testing.assert_allclose(single.grad.numpy(), [0.6, 0.8], rtol=1e-5)


def test_clip_grad_value_matches_torch():
    ours, theirs = twin_params(3.0)
    clip_grad_value_(ours, 1.5)
    torch.nn.utils.clip_grad_value_(theirs, 1.5)
    for o, t in zip(ours, theirs):
        np.testing.assert_array_equal(o.grad.numpy(), t.grad.numpy())


def test_parameters_vector_round_trip():
    model = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    vec = parameters_to_vector(model.parameters())
    assert vec.shape == (11,)
    expected = np.concatenate([p.detach().numpy().ravel() for p in model.parameters()])
    np.testing.assert_array_equal(vec.detach().numpy(), expected)
    vector_to_parameters(rb.arange(11.0), model.parameters())
    assert model[0].weight.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert model[1].bias.tolist() == [10.0]
    with pytest.raises(RuntimeError, match="11 elements"):
        vector_to_parameters(rb.zeros(5), model.parameters())
