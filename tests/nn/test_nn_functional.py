"""nn.functional: gradchecks of the fused ops, and the functions without a layer."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from nn_parity import assert_close, compare_functions

import rosenblatt as rb
from rosenblatt.autograd import gradcheck
from rosenblatt.nn import functional as F

rng = np.random.default_rng(11)


def t64(*shape, low=None, high=None):
    data = rng.standard_normal(shape) if low is None else rng.uniform(low, high, shape)
    return rb.tensor(data, dtype=rb.float64, requires_grad=True)


FUSED = {
    "cross_entropy": lambda: (lambda x: F.cross_entropy(
        x, rb.tensor([0, 2, 1]), weight=rb.tensor([1.0, 2.0, 0.5], dtype=rb.float64),
        label_smoothing=0.1), [t64(3, 3)]),
    "cross_entropy_nd": lambda: (lambda x: F.cross_entropy(
        x, rb.tensor([[0, 2], [1, -100]]), reduction="none"), [t64(2, 3, 2)]),
    "cross_entropy_soft": lambda: (lambda x, p: F.cross_entropy(x, p, label_smoothing=0.2),
                                   [t64(3, 4), t64(3, 4, low=0, high=1)]),
    "nll_loss": lambda: (lambda x: F.nll_loss(x, rb.tensor([1, 0, 2]), reduction="sum"),
                         [t64(3, 3)]),
    "bce": lambda: (lambda p, y: F.binary_cross_entropy(p, y),
                    [t64(4, 2, low=0.1, high=0.9), t64(4, 2, low=0, high=1)]),
    "bce_logits": lambda: (lambda x, y: F.binary_cross_entropy_with_logits(
        x, y, pos_weight=rb.tensor([2.0, 0.5], dtype=rb.float64)),
        [t64(4, 2), t64(4, 2, low=0, high=1)]),
    "batch_norm_train": lambda: (lambda x, w, b: F.batch_norm(
        x, None, None, w, b, training=True), [t64(4, 3, 2), t64(3), t64(3)]),
    "batch_norm_eval": lambda: (lambda x, w, b: F.batch_norm(
        x, rb.tensor([0.1, 0.2, 0.3], dtype=rb.float64), rb.tensor([1.0, 2.0, 0.5],
                                                                      dtype=rb.float64),
        w, b, training=False), [t64(4, 3), t64(3), t64(3)]),
    "layer_norm": lambda: (lambda x, w, b: F.layer_norm(x, (2, 3), w, b),
                           [t64(2, 2, 3), t64(2, 3), t64(2, 3)]),
    "layer_norm_plain": lambda: (lambda x: F.layer_norm(x, 4), [t64(3, 4)]),
    "gelu": lambda: (F.gelu, [t64(3, 4)]),
    "gelu_tanh": lambda: (lambda x: F.gelu(x, approximate="tanh"), [t64(3, 4)]),
    "elu": lambda: (lambda x: F.elu(x, 0.5), [t64(3, 4)]),
    "leaky_relu": lambda: (lambda x: F.leaky_relu(x, 0.2), [t64(3, 4)]),
    "silu": lambda: (F.silu, [t64(3, 4)]),
    "softplus": lambda: (lambda x: F.softplus(x, 2.0, 1.0), [t64(3, 4)]),
    "embedding": lambda: (lambda w: F.embedding(rb.tensor([[0, 2], [2, 3]]), w),
                          [t64(4, 3)]),
    "bilinear": lambda: (F.bilinear, [t64(3, 2), t64(3, 4), t64(5, 2, 4), t64(5)]),
    "normalize": lambda: (lambda x: F.normalize(x, dim=-1), [t64(3, 4)]),
}


@pytest.mark.parametrize("name", list(FUSED))
def test_gradcheck(name):
    fn, inputs = FUSED[name]()
    assert gradcheck(fn, inputs)


def test_functional_batch_norm_updates_given_running_stats_like_torch():
    x = rng.standard_normal((6, 3, 2))
    rm_r, rv_r = rb.zeros(3, dtype=rb.float64), rb.ones(3, dtype=rb.float64)
    rm_t, rv_t = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    out_r = F.batch_norm(rb.tensor(x), rm_r, rv_r, training=True, momentum=0.3)
    out_t = TF.batch_norm(torch.tensor(x), rm_t, rv_t, training=True, momentum=0.3)
    assert_close(out_r, out_t)
    assert_close(rm_r, rm_t)
    assert_close(rv_r, rv_t)


def test_one_hot_normalize_and_softmax_match_torch():
    labels = np.array([[0, 3], [2, 1]])
    assert np.array_equal(F.one_hot(rb.tensor(labels)).numpy(),
                          TF.one_hot(torch.tensor(labels)).numpy())
    assert F.one_hot(rb.tensor([1]), num_classes=4).tolist() == [[0, 1, 0, 0]]
    for p, dim in [(2.0, 1), (1.0, 0), (3.0, -1)]:
        compare_functions(lambda x, p=p, dim=dim: F.normalize(x, p, dim),
                          lambda x, p=p, dim=dim: TF.normalize(x, p, dim),
                          [rng.standard_normal((3, 4))])
    z = F.normalize(rb.zeros(2, 3))
    assert not z.numpy().any()
    for dim in (0, 1, -1):
        compare_functions(lambda x, dim=dim: F.softmax(x, dim), lambda x, dim=dim:
                          TF.softmax(x, dim), [rng.standard_normal((3, 4))])
        compare_functions(lambda x, dim=dim: F.log_softmax(x, dim), lambda x, dim=dim:
                          TF.log_softmax(x, dim), [rng.standard_normal((3, 4))])


def test_softmax_without_dim_warns_and_picks_torchs_dim():
    x = rng.standard_normal((2, 3))
    with pytest.warns(UserWarning, match="Implicit dimension"):
        out = F.softmax(rb.tensor(x))
    with pytest.warns(UserWarning):
        expected = TF.softmax(torch.tensor(x))
    assert_close(out, expected)


def test_functional_dropout_and_linear():
    x = rb.ones(4, 4)
    assert F.dropout(x, 0.5, training=False) is x
    with pytest.raises(ValueError, match="between 0 and 1"):
        F.dropout(x, -0.1)
    compare_functions(F.linear, TF.linear, [rng.standard_normal((2, 3)),
                                            rng.standard_normal((4, 3)), rng.standard_normal(4)])


def test_embedding_rejects_float_indices():
    with pytest.raises(RuntimeError, match="Long, Int"):
        F.embedding(rb.tensor([0.0]), rb.randn(3, 2))


NON_CONTIGUOUS = {
    "linear": (lambda f, m, x, w: f.linear(x.transpose(0, 1), w.t()), [(3, 5), (3, 2)]),
    "layer_norm": (lambda f, m, x: f.layer_norm(x.transpose(0, 1), (3,)), [(3, 4)]),
    "batch_norm": (lambda f, m, x: f.batch_norm(x.permute(2, 1, 0), None, None,
                                                training=True), [(4, 3, 5)]),
    "cross_entropy": (lambda f, m, x: f.cross_entropy(x.transpose(0, 1), m.tensor([0, 2, 1, 2])),
                      [(3, 4)]),
    "gelu": (lambda f, m, x: f.gelu(x[:, ::2]), [(3, 6)]),
    "softplus": (lambda f, m, x: f.softplus(x.transpose(0, 1)), [(3, 4)]),
    "bce_with_logits": (lambda f, m, x, y: f.binary_cross_entropy_with_logits(
        x.transpose(0, 1), y.transpose(0, 1).sigmoid()), [(3, 4), (3, 4)]),
}


@pytest.mark.parametrize("name", list(NON_CONTIGUOUS))
def test_non_contiguous_inputs_match_torch(name):
    fn, shapes = NON_CONTIGUOUS[name]
    compare_functions(lambda *xs: fn(F, rb, *xs), lambda *xs: fn(TF, torch, *xs),
                      [rng.standard_normal(s) for s in shapes])
