"""InstanceNorm1d/2d/3d and F.instance_norm against PyTorch, in float64."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from nn_parity import assert_close, compare_functions, compare_modules, load_from_torch

import rosenblatt as rb
from rosenblatt import nn
from rosenblatt.autograd import gradcheck
from rosenblatt.nn import functional as F

rng = np.random.default_rng(5)

SHAPES = {"InstanceNorm1d": (4, 3, 6), "InstanceNorm2d": (2, 3, 4, 5),
          "InstanceNorm3d": (2, 3, 2, 3, 2)}


def pair(name: str, *args, **kwargs):
    """Our layer and PyTorch's, float64, with random affine parameters copied across."""
    theirs = getattr(torch.nn, name)(*args, **kwargs).double()
    ours = getattr(nn, name)(*args, **kwargs).double()
    with torch.no_grad():
        for p in theirs.parameters():
            p.copy_(torch.randn(p.shape, dtype=p.dtype))
    load_from_torch(ours, theirs)  # also asserts the state_dict keys are PyTorch's
    return ours, theirs


def sample(shape, step=0):
    """Inputs whose per-instance means and scales differ, so the statistics matter."""
    scale = rng.uniform(0.5, 3.0, shape[:-1] + (1,))
    shift = rng.uniform(-2.0, 2.0, shape[:-1] + (1,))
    return rng.standard_normal(shape) * scale + shift + step


CASES = list(itertools.product(SHAPES, [False, True], [False, True], [False, True]))


@pytest.mark.parametrize("name, affine, track, unbatched", CASES,
                         ids=[f"{n}-affine{a:d}-track{t:d}-unbatched{u:d}"
                              for n, a, t, u in CASES])
def test_instance_norm_matches_torch_in_train_then_eval(name, affine, track, unbatched):
    ours, theirs = pair(name, 3, affine=affine, track_running_stats=track)
    shape = SHAPES[name][1:] if unbatched else SHAPES[name]
    for step in range(3):
        compare_modules(ours, theirs, sample(shape, step))
    for buffer in ("running_mean", "running_var"):
        if track:
            assert_close(getattr(ours, buffer), getattr(theirs, buffer))
        else:
            assert getattr(ours, buffer) is None
    if track:  # PyTorch never counts batches for instance norm
        assert int(ours.num_batches_tracked.item()) == int(theirs.num_batches_tracked.item()) == 0
    ours.eval()
    theirs.eval()
    out_r, _ = compare_modules(ours, theirs, sample(shape, 5))
    assert tuple(out_r.shape) == shape


def test_eval_with_running_stats_normalises_by_them_and_leaves_them_alone():
    ours, theirs = pair("InstanceNorm1d", 2, track_running_stats=True)
    ours.running_mean.copy_(rb.tensor([1.0, -1.0], dtype=rb.float64))
    ours.running_var.copy_(rb.tensor([4.0, 0.25], dtype=rb.float64))
    ours.eval()
    out = ours(rb.tensor([[[3.0, 1.0], [0.0, -1.0]]], dtype=rb.float64))
    expected = [[[2 / np.sqrt(4 + 1e-5), 0.0], [1 / np.sqrt(0.25 + 1e-5), 0.0]]]
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)
    np.testing.assert_array_equal(ours.running_mean.numpy(), [1.0, -1.0])
    # one spatial element is fine when the running statistics are used
    assert tuple(ours(rb.zeros(4, 2, 1, dtype=rb.float64)).shape) == (4, 2, 1)


def test_momentum_none_leaves_running_stats_like_torch():
    ours, theirs = pair("InstanceNorm2d", 3, momentum=None, track_running_stats=True)
    x = sample((2, 3, 3, 3))
    assert_close(ours(rb.tensor(x)), theirs(torch.tensor(x)))
    assert_close(ours.running_mean, theirs.running_mean)
    assert_close(ours.running_var, theirs.running_var)


def test_functional_instance_norm_updates_given_running_stats_like_torch():
    x, w, b = sample((3, 2, 5)), rng.standard_normal(2), rng.standard_normal(2)
    rm_r, rv_r = rb.zeros(2, dtype=rb.float64), rb.ones(2, dtype=rb.float64)
    rm_t, rv_t = torch.zeros(2, dtype=torch.float64), torch.ones(2, dtype=torch.float64)
    compare_functions(lambda x, w, b: F.instance_norm(x, rm_r, rv_r, w, b, momentum=0.3),
                      lambda x, w, b: TF.instance_norm(x, rm_t, rv_t, w, b, momentum=0.3),
                      [x, w, b])
    assert_close(rm_r, rm_t)
    assert_close(rv_r, rv_t)
    compare_functions(lambda x: F.instance_norm(x, rm_r, rv_r, use_input_stats=False),
                      lambda x: TF.instance_norm(x, rm_t, rv_t, use_input_stats=False), [x])


def t64(*shape):
    return rb.tensor(rng.standard_normal(shape), dtype=rb.float64, requires_grad=True)


@pytest.mark.parametrize("use_input_stats", [True, False])
def test_gradcheck(use_input_stats):
    running = (rb.tensor([0.1, -0.2, 0.3], dtype=rb.float64),
               rb.tensor([1.0, 2.0, 0.5], dtype=rb.float64))

    def fn(x, w, b):
        return F.instance_norm(x, *running, w, b, use_input_stats=use_input_stats)

    assert gradcheck(fn, [t64(2, 3, 2, 3), t64(3), t64(3)])
    assert gradcheck(lambda x: F.instance_norm(x), [t64(2, 3, 4)])


def test_float32_stays_float32():
    assert nn.InstanceNorm1d(4)(rb.randn(2, 4, 5)).dtype == rb.float32


def test_state_dict_keys_are_torchs():
    for affine, track in itertools.product([False, True], repeat=2):
        ours = nn.InstanceNorm2d(3, affine=affine, track_running_stats=track)
        theirs = torch.nn.InstanceNorm2d(3, affine=affine, track_running_stats=track)
        assert list(ours.state_dict()) == list(theirs.state_dict())
        assert repr(ours) == repr(theirs)


def test_wrong_input_dims_raise_like_torch():
    for name, good in (("InstanceNorm1d", "2D or 3D"), ("InstanceNorm2d", "3D or 4D"),
                       ("InstanceNorm3d", "4D or 5D")):
        for ndim in (1, 6):
            with pytest.raises(ValueError, match=f"expected {good} input \\(got {ndim}D input\\)"):
                getattr(nn, name)(3)(rb.randn(*[3] * ndim))
            with pytest.raises(ValueError, match=f"expected {good} input"):
                getattr(torch.nn, name)(3)(torch.randn(*[3] * ndim))


def test_channel_mismatch_raises_with_affine_and_warns_without():
    with pytest.raises(ValueError, match=r"size at dim=1 to match num_features \(3\).*got: 4"):
        nn.InstanceNorm1d(3, affine=True)(rb.randn(2, 4, 5))
    with pytest.raises(ValueError, match=r"size at dim=0 to match num_features \(3\).*got: 4"):
        nn.InstanceNorm2d(3, affine=True)(rb.randn(4, 5, 5))
    x = sample((2, 4, 5))
    with pytest.warns(UserWarning, match="dim=1 does not match num_features"):
        out = nn.InstanceNorm1d(3)(rb.tensor(x))
    assert_close(out, TF.instance_norm(torch.tensor(x)))  # num_features is unused
    with pytest.raises(RuntimeError, match="running_mean of shape"), \
            pytest.warns(UserWarning):
        nn.InstanceNorm1d(3, track_running_stats=True)(rb.randn(2, 4, 5))


def test_functional_errors():
    with pytest.raises(ValueError, match="more than 1 spatial element"):
        F.instance_norm(rb.randn(2, 3, 1))
    with pytest.raises(ValueError, match="more than 1 spatial element"):
        nn.InstanceNorm2d(3)(rb.randn(3, 1, 1))
    with pytest.raises(RuntimeError, match="running_mean and running_var to be defined"):
        F.instance_norm(rb.randn(2, 3, 4), use_input_stats=False)
    with pytest.raises(RuntimeError, match=r"weight of shape \(2,\).*3 channels"):
        F.instance_norm(rb.randn(2, 3, 4), weight=rb.ones(2))
