"""Loss functions and loss layers against PyTorch: values and gradients, float64."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from nn_parity import assert_close, compare_functions

import rosenblatt as rb
from rosenblatt import nn
from rosenblatt.nn import functional as F

rng = np.random.default_rng(3)
REDUCTIONS = ["mean", "sum", "none"]


def randn(*shape):
    return rng.standard_normal(shape)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name, kwargs", [
    ("mse_loss", {}), ("l1_loss", {}), ("smooth_l1_loss", {}), ("smooth_l1_loss", {"beta": 0.5}),
    ("smooth_l1_loss", {"beta": 0.0}), ("huber_loss", {}), ("huber_loss", {"delta": 0.3}),
])
def test_regression_losses(name, kwargs, reduction):
    def ours(a, b):
        return getattr(F, name)(a, b, reduction=reduction, **kwargs)

    def theirs(a, b):
        return getattr(TF, name)(a, b, reduction=reduction, **kwargs)

    compare_functions(ours, theirs, [randn(4, 5), randn(4, 5)])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("kwargs", [
    {}, {"weight": True}, {"ignore_index": 1}, {"label_smoothing": 0.2},
    {"weight": True, "ignore_index": 2, "label_smoothing": 0.1},
])
@pytest.mark.parametrize("shape", [(6, 4), (3, 4, 5), (2, 4, 3, 2), (1, 4)])
def test_cross_entropy_class_indices(shape, kwargs, reduction):
    target = rng.integers(0, shape[1], (shape[0],) + shape[2:])
    weight = rng.uniform(0.5, 2, shape[1])

    def call(fn, module, x, t):
        extra = dict(kwargs)
        if extra.pop("weight", False):
            extra["weight"] = module.tensor(weight)
        return fn(x, t, reduction=reduction, **extra)

    compare_functions(lambda x, t: call(F.cross_entropy, rb, x, t),
                      lambda x, t: call(TF.cross_entropy, torch, x, t),
                      [randn(*shape) * 3, target])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_probability_targets(reduction, smoothing, weighted):
    probs = rng.dirichlet(np.ones(5), size=(3, 2)).transpose(0, 2, 1)  # (N, C, d)
    weight = rng.uniform(0.5, 2, 5)

    def call(fn, module, x, t):
        w = module.tensor(weight) if weighted else None
        return fn(x, t, weight=w, reduction=reduction, label_smoothing=smoothing)

    compare_functions(lambda x, t: call(F.cross_entropy, rb, x, t),
                      lambda x, t: call(TF.cross_entropy, torch, x, t),
                      [randn(3, 5, 2), probs])


def test_cross_entropy_unbatched_and_extreme_logits():
    compare_functions(F.cross_entropy, TF.cross_entropy, [randn(5), np.array(3)])
    x = np.array([[1000.0, -1000.0, 0.0], [-500.0, 500.0, 1e-3]])
    compare_functions(F.cross_entropy, TF.cross_entropy, [x, np.array([1, 1])])
    out = F.cross_entropy(rb.tensor(x, dtype=rb.float32), rb.tensor([1, 0]))
    assert np.isfinite(out.item()) and out.dtype == rb.float32


def test_cross_entropy_float32_gradient_is_softmax_minus_one_hot():
    x = rb.tensor(randn(4, 3), dtype=rb.float32, requires_grad=True)
    t = rb.tensor([0, 2, 1, 2])
    F.cross_entropy(x, t, reduction="sum").backward()
    expected = torch.softmax(torch.tensor(x.detach().numpy()), 1) - TF.one_hot(
        torch.tensor(t.numpy()), 3)
    assert x.grad.dtype == rb.float32
    assert_close(x.grad, expected, rtol=1e-5, atol=1e-6)


def test_cross_entropy_target_shape_error_names_both_shapes():
    with pytest.raises(ValueError) as info:
        F.cross_entropy(rb.randn(32, 10), rb.zeros(32, 1, dtype=rb.int64))
    assert "(32, 10)" in str(info.value) and "(32, 1)" in str(info.value)
    with pytest.raises(ValueError, match=r"\(4, 3\).*\(4, 2\)"):
        F.cross_entropy(rb.randn(4, 3), rb.rand(4, 2))
    with pytest.raises(IndexError, match="out of bounds"):
        F.cross_entropy(rb.randn(2, 3), rb.tensor([0, 3]))
    with pytest.raises(ValueError, match="not a valid value for reduction"):
        F.cross_entropy(rb.randn(2, 3), rb.tensor([0, 1]), reduction="avg")


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_nll_loss(reduction, weighted):
    logp = np.log(rng.dirichlet(np.ones(4), size=6))
    target = np.array([0, 1, 3, 3, -100, 2])
    weight = rng.uniform(0.5, 2, 4)

    def call(fn, module, x, t):
        return fn(x, t, weight=module.tensor(weight) if weighted else None,
                  reduction=reduction)

    compare_functions(lambda x, t: call(F.nll_loss, rb, x, t),
                      lambda x, t: call(TF.nll_loss, torch, x, t), [logp, target])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_cross_entropy(reduction, weighted):
    p = rng.uniform(0.05, 0.95, (4, 3))
    p[0, 0], p[0, 1] = 0.0, 1.0  # logs clamp at -100, as in PyTorch
    t = rng.uniform(0, 1, (4, 3))
    t[0, 0], t[0, 1] = 0.0, 1.0
    weight = rng.uniform(0.5, 2, (4, 3))

    def call(fn, module, a, b):
        return fn(a, b, weight=module.tensor(weight) if weighted else None, reduction=reduction)

    compare_functions(lambda a, b: call(F.binary_cross_entropy, rb, a, b),
                      lambda a, b: call(TF.binary_cross_entropy, torch, a, b), [p, t])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("pos_weighted", [False, True])
def test_binary_cross_entropy_with_logits(reduction, weighted, pos_weighted):
    x = randn(5, 3) * 4
    x[0] = [80.0, -80.0, 0.0]
    t = rng.uniform(0, 1, (5, 3))
    weight, pos_weight = rng.uniform(0.5, 2, (5, 3)), rng.uniform(0.5, 3, 3)

    def call(fn, module, a, b):
        return fn(a, b, weight=module.tensor(weight) if weighted else None,
                  pos_weight=module.tensor(pos_weight) if pos_weighted else None,
                  reduction=reduction)

    compare_functions(lambda a, b: call(F.binary_cross_entropy_with_logits, rb, a, b),
                      lambda a, b: call(TF.binary_cross_entropy_with_logits, torch, a, b),
                      [x, t])


def test_binary_cross_entropy_errors():
    with pytest.raises(ValueError, match="different to the input size"):
        F.binary_cross_entropy(rb.rand(3, 1), rb.rand(3))
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        F.binary_cross_entropy(rb.tensor([1.5]), rb.tensor([1.0]))


@pytest.mark.parametrize("reduction", ["batchmean", "sum", "none", "mean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(reduction, log_target):
    logq = np.log(rng.dirichlet(np.ones(4), size=3))
    p = rng.dirichlet(np.ones(4), size=3)
    p[0, 0] = 0.0  # 0 log 0 = 0; PyTorch's target gradient there is nan, so not compared
    target = np.log(p + 1e-3) if log_target else p
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # both warn that 'mean' is not the true KL
        compare_functions(lambda a, b: F.kl_div(a, b, reduction=reduction, log_target=log_target),
                          lambda a, b: TF.kl_div(a, b, reduction=reduction,
                                                 log_target=log_target), [logq, target],
                          grad=[True, log_target])


def test_kl_div_mean_warns_like_torch():
    with pytest.warns(UserWarning, match="batchmean"):
        F.kl_div(rb.zeros(2, 2), rb.ones(2, 2))


def test_mse_loss_warns_on_broadcast_target():
    with pytest.warns(UserWarning, match="different to the input size"):
        F.mse_loss(rb.zeros(3, 1), rb.zeros(3))


LOSS_LAYERS = [
    ("MSELoss", {}, "float"), ("L1Loss", {"reduction": "sum"}, "float"),
    ("SmoothL1Loss", {"beta": 0.5}, "float"), ("HuberLoss", {"delta": 2.0}, "float"),
    ("CrossEntropyLoss", {"label_smoothing": 0.1, "ignore_index": 0}, "index"),
    ("NLLLoss", {}, "index"), ("BCELoss", {}, "prob"), ("BCEWithLogitsLoss", {}, "prob"),
    ("KLDivLoss", {"reduction": "batchmean"}, "prob"),
]


@pytest.mark.parametrize("name, kwargs, kind", LOSS_LAYERS)
def test_loss_layers_match_torch(name, kwargs, kind):
    x = rng.uniform(0.1, 0.9, (4, 3))
    t = {"float": randn(4, 3), "index": np.array([0, 2, 1, 2]),
         "prob": rng.uniform(0, 1, (4, 3))}[kind]
    ours, theirs = getattr(nn, name)(**kwargs), getattr(torch.nn, name)(**kwargs)
    compare_functions(ours, theirs, [x, t])
    assert repr(ours) == repr(theirs)


def test_weighted_loss_layers_register_weight_buffers():
    w = rb.tensor([1.0, 2.0, 3.0], dtype=rb.float64)  # the input's dtype, as PyTorch requires
    loss = nn.CrossEntropyLoss(weight=w)
    assert list(loss.state_dict()) == list(torch.nn.CrossEntropyLoss(
        weight=torch.ones(3)).state_dict()) == ["weight"]
    x, t = randn(5, 3), np.array([0, 1, 2, 2, 1])
    assert_close(loss(rb.tensor(x), rb.tensor(t)),
                 torch.nn.CrossEntropyLoss(weight=torch.tensor([1.0, 2.0, 3.0],
                                                               dtype=torch.float64))(
                     torch.tensor(x), torch.tensor(t)))


def test_cross_entropy_with_every_target_ignored_is_nan_like_torch():
    x = randn(2, 3)
    ours = F.cross_entropy(rb.tensor(x), rb.tensor([-100, -100]))
    theirs = TF.cross_entropy(torch.tensor(x), torch.tensor([-100, -100]))
    assert np.isnan(ours.item()) and np.isnan(theirs.item())
    assert F.cross_entropy(rb.tensor(x), rb.tensor([-100, -100]), reduction="sum").item() == 0


@pytest.mark.parametrize("name", ["cross_entropy", "nll_loss"])
def test_every_target_ignored_gives_nan_loss_and_zero_gradient(name):
    # the mean over no targets is 0/0; PyTorch's gradient is then zero, with no warning
    x = np.random.default_rng(0).standard_normal((3, 4))
    results = []
    for lib in (rb, torch):
        xt = lib.tensor(x, requires_grad=True)
        loss = getattr(lib.nn.functional, name)(xt, lib.tensor([2, 2, 2]), ignore_index=2)
        loss.backward()
        results.append((loss.item(), xt.grad.numpy()))
    (ours, our_grad), (theirs, their_grad) = results
    assert np.isnan(ours) and np.isnan(theirs)
    np.testing.assert_array_equal(our_grad, their_grad)
