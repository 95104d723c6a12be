"""Layers against PyTorch with copied weights: outputs and gradients of inputs and weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from nn_parity import assert_close, compare_modules, load_from_torch

import rosenblatt as rb
from rosenblatt import nn
from rosenblatt.nn import functional as F

rng = np.random.default_rng(7)


def pair(name: str, *args, **kwargs):
    """Our layer and PyTorch's, same constructor arguments, float64, same weights."""
    theirs = getattr(torch.nn, name)(*args, **kwargs).double()
    ours = getattr(nn, name)(*args, **kwargs).double()
    load_from_torch(ours, theirs)
    return ours, theirs


LAYERS = [
    ("Linear", (5, 3), {}, [(4, 5)]),
    ("Linear", (5, 3), {}, [(2, 3, 5)]),
    ("Linear", (5, 3), {"bias": False}, [(1, 5)]),
    ("Linear", (1, 1), {}, [(7, 1)]),
    ("Bilinear", (3, 4, 2), {}, [(5, 3), (5, 4)]),
    ("Bilinear", (3, 4, 2), {"bias": False}, [(2, 5, 3), (2, 5, 4)]),
    ("Identity", (), {}, [(3, 4)]),
    ("Flatten", (), {}, [(2, 3, 4, 5)]),
    ("Flatten", (0, 1), {}, [(2, 3, 4)]),
    ("Unflatten", (1, (2, 3)), {}, [(4, 6)]),
    ("ReLU", (), {}, [(3, 7)]),
    ("LeakyReLU", (0.2,), {}, [(3, 7)]),
    ("ELU", (0.7,), {}, [(3, 7)]),
    ("GELU", (), {}, [(3, 7)]),
    ("GELU", ("tanh",), {}, [(3, 7)]),
    ("SiLU", (), {}, [(3, 7)]),
    ("Sigmoid", (), {}, [(3, 7)]),
    ("Tanh", (), {}, [(3, 7)]),
    ("Softplus", (), {}, [(3, 7)]),
    ("Softplus", (2.0, 3.0), {}, [(3, 7)]),
    ("Softmax", (1,), {}, [(3, 7)]),
    ("Softmax", (-1,), {}, [(2, 3, 4)]),
    ("LogSoftmax", (1,), {}, [(3, 7)]),
    ("LayerNorm", (6,), {}, [(4, 6)]),
    ("LayerNorm", ((3, 4),), {}, [(2, 5, 3, 4)]),
    ("LayerNorm", (4,), {"elementwise_affine": False}, [(3, 4)]),
    ("LayerNorm", (4,), {"bias": False}, [(3, 4)]),
    ("BatchNorm1d", (3,), {}, [(6, 3)]),
    ("BatchNorm1d", (3,), {}, [(4, 3, 5)]),
    ("BatchNorm1d", (3,), {"affine": False}, [(4, 3)]),
    ("BatchNorm2d", (2,), {}, [(3, 2, 4, 5)]),
    ("BatchNorm3d", (2,), {}, [(2, 2, 3, 2, 3)]),
    ("Dropout", (0.0,), {}, [(3, 4)]),
    ("GroupNorm", (2, 4), {}, [(3, 4, 5)]),
    ("Hardtanh", (-0.5, 1.5), {}, [(3, 7)]),
    ("ReLU6", (), {}, [(3, 7)]),
    ("LogSigmoid", (), {}, [(3, 7)]),
    ("Mish", (), {}, [(3, 7)]),
    ("SELU", (), {}, [(3, 7)]),
    ("PReLU", (), {}, [(3, 4, 2)]),
    ("PReLU", (4, 0.1), {}, [(3, 4, 2)]),
    ("Softmin", (1,), {}, [(3, 7)]),
    ("CosineSimilarity", (), {}, [(3, 4, 2), (3, 4, 2)]),
    ("CosineSimilarity", (-1,), {}, [(3, 4), (1, 4)]),
    ("PairwiseDistance", (), {}, [(5, 3), (5, 3)]),
    ("PairwiseDistance", (1.0,), {"keepdim": True}, [(5, 3), (5, 3)]),
    ("GroupNorm", (1, 3), {"affine": False}, [(2, 3, 2, 2)]),
]


@pytest.mark.parametrize("name, args, kwargs, shapes", LAYERS,
                         ids=[f"{case[0]}-{i}" for i, case in enumerate(LAYERS)])
def test_layer_matches_torch(name, args, kwargs, shapes):
    ours, theirs = pair(name, *args, **kwargs)
    # make affine parameters non-trivial so their gradients are tested too
    with torch.no_grad():
        for p in theirs.parameters():
            p.copy_(torch.randn(p.shape, dtype=p.dtype))
    load_from_torch(ours, theirs)
    arrays = [rng.standard_normal(s) * 2 for s in shapes]
    compare_modules(ours, theirs, *arrays)


@pytest.mark.parametrize("name", ["BatchNorm1d", "LayerNorm"])
def test_norm_layers_in_float32_stay_float32(name):
    layer = getattr(nn, name)(4)
    out = layer(rb.randn(8, 4))
    assert out.dtype == rb.float32


def test_activation_extremes_match_torch():
    x = np.array([-800.0, -50.0, -20.0, -1e-3, 0.0, 1e-3, 20.0, 50.0, 800.0])
    for name, args in [("ReLU", ()), ("ELU", ()), ("GELU", ()), ("GELU", ("tanh",)),
                       ("SiLU", ()), ("Sigmoid", ()), ("Tanh", ()), ("Softplus", ()),
                       ("LeakyReLU", ()), ("LogSigmoid", ()), ("Mish", ()), ("SELU", ())]:
        ours, theirs = pair(name, *args)
        out_r, _ = compare_modules(ours, theirs, x)
        assert np.isfinite(out_r.detach().numpy()).all(), name


def test_gelu_error_function_matches_torch_without_scipy(monkeypatch):
    from rosenblatt.ops import activation

    monkeypatch.setattr(activation, "_special", lambda xp: None)
    x = np.linspace(-7, 7, 141)
    ours, theirs = pair("GELU")
    compare_modules(ours, theirs, x)


def test_inplace_activations_write_into_the_input():
    for layer, ref in [(nn.ReLU(inplace=True), torch.relu),
                       (nn.LeakyReLU(0.1, inplace=True), lambda t: torch.nn.functional
                        .leaky_relu(t, 0.1)),
                       (nn.ELU(inplace=True), torch.nn.functional.elu),
                       (nn.SiLU(inplace=True), torch.nn.functional.silu)]:
        x = rb.tensor([-1.0, 0.5, 2.0])
        out = layer(x)
        assert out is x
        assert_close(x, ref(torch.tensor([-1.0, 0.5, 2.0])), rtol=1e-6)


def test_batchnorm_running_stats_follow_torch_over_several_steps():
    for momentum in (0.1, None):
        ours, theirs = pair("BatchNorm1d", 3, momentum=momentum)
        for step in range(3):
            x = rng.standard_normal((5, 3)) * (step + 1) + step
            assert_close(ours(rb.tensor(x)), theirs(torch.tensor(x)))
        assert_close(ours.running_mean, theirs.running_mean)
        assert_close(ours.running_var, theirs.running_var)
        assert int(ours.num_batches_tracked.item()) == 3
        ours.eval()
        theirs.eval()
        x = rng.standard_normal((2, 3))
        compare_modules(ours, theirs, x)


def test_batchnorm_without_running_stats_uses_batch_stats_in_eval():
    ours, theirs = pair("BatchNorm2d", 2, track_running_stats=False)
    assert "running_mean" not in ours.state_dict()
    ours.eval()
    theirs.eval()
    compare_modules(ours, theirs, rng.standard_normal((3, 2, 2, 2)))


def test_batchnorm_eval_uses_running_stats_and_does_not_update_them():
    bn = nn.BatchNorm1d(2)
    bn.running_mean.copy_(rb.tensor([1.0, -1.0]))
    bn.running_var.copy_(rb.tensor([4.0, 0.25]))
    bn.eval()
    out = bn(rb.tensor([[3.0, 0.0]]))
    np.testing.assert_allclose(out.detach().numpy(), [[2 / np.sqrt(4 + 1e-5),
                                                       1 / np.sqrt(0.25 + 1e-5)]], rtol=1e-6)
    assert int(bn.num_batches_tracked.item()) == 0


def test_batchnorm_errors():
    bn = nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match="expected 2D or 3D input"):
        bn(rb.randn(2, 3, 4, 5))
    with pytest.raises(RuntimeError, match=r"BatchNorm1d\(3\).*3 channels.*\(4, 5\)"):
        bn(rb.randn(4, 5))
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        bn(rb.randn(1, 3))


def test_layer_norm_shape_error_names_both_shapes():
    with pytest.raises(RuntimeError, match=r"normalized_shape=\[4\].*\[2, 3\]"):
        nn.LayerNorm(4)(rb.randn(2, 3))


@pytest.mark.parametrize("shape,shown,features", [((32, 100), "32x100", 100), ((), "scalar", 0)])
def test_linear_error_names_both_shapes_in_the_layer_and_the_function(shape, shown, features):
    layer = nn.Linear(784, 10)
    message = (f"linear: cannot multiply input ({shown}) by weight^T (784x10): input has "
               f"{features} features, weight expects 784")
    with pytest.raises(RuntimeError) as by_layer:
        layer(rb.randn(*shape))
    with pytest.raises(RuntimeError) as by_function:
        F.linear(rb.randn(*shape), layer.weight, layer.bias)
    assert str(by_layer.value) == str(by_function.value) == message


def test_embedding_matches_torch_with_padding_idx():
    theirs = torch.nn.Embedding(10, 4, padding_idx=2).double()
    ours = nn.Embedding(10, 4, padding_idx=2).double()
    assert not ours.weight.detach().numpy()[2].any()
    load_from_torch(ours, theirs)
    idx = np.array([[1, 2, 3], [2, 9, 1]])
    out_r = ours(rb.tensor(idx))
    out_t = theirs(torch.tensor(idx))
    assert_close(out_r, out_t)
    v = rng.standard_normal(out_t.shape)
    (out_r * rb.tensor(v)).sum().backward()
    (out_t * torch.tensor(v)).sum().backward()
    assert_close(ours.weight.grad, theirs.weight.grad)
    assert not ours.weight.grad.numpy()[2].any()


def test_embedding_max_norm_and_scale_grad_by_freq_match_torch():
    theirs = torch.nn.Embedding(6, 3, max_norm=1.0, scale_grad_by_freq=True).double()
    ours = nn.Embedding(6, 3, max_norm=1.0, scale_grad_by_freq=True).double()
    load_from_torch(ours, theirs)
    idx = np.array([0, 1, 1, 4])
    compare_modules(ours, theirs, idx, input_grad=False)
    assert_close(ours.weight, theirs.weight)  # the renormalised rows


def test_embedding_from_pretrained_is_frozen_by_default():
    table = rb.arange(6.0).reshape(3, 2)
    emb = nn.Embedding.from_pretrained(table)
    assert not emb.weight.requires_grad
    assert emb(rb.tensor([2])).tolist() == [[4.0, 5.0]]
    assert nn.Embedding.from_pretrained(table, freeze=False).weight.requires_grad
    with pytest.raises(IndexError, match="out of range"):
        emb(rb.tensor([3]))


def test_dropout_train_eval_and_edge_cases():
    x = rb.ones(200, 50)
    drop = nn.Dropout(0.3)
    out = drop(x).numpy()
    kept = out != 0
    assert abs(kept.mean() - 0.7) < 0.02
    np.testing.assert_allclose(out[kept], 1 / 0.7, rtol=1e-6)
    drop.eval()
    assert drop(x) is x
    assert not nn.Dropout(1.0)(x).numpy().any()
    assert nn.Dropout(0.0)(x) is x
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)


def test_dropout_gradient_uses_the_same_mask_and_seed_reproduces():
    x = rb.ones(10, 10, requires_grad=True)
    rb.manual_seed(3)
    out = nn.functional.dropout(x, 0.5)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), out.detach().numpy())
    rb.manual_seed(3)
    again = nn.functional.dropout(rb.ones(10, 10), 0.5)
    np.testing.assert_array_equal(again.numpy(), out.detach().numpy())
