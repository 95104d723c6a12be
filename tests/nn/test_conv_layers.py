"""Conv, pooling, upsampling, padding, fold and channel-dropout layers against torch.nn."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import rosenblatt as rb
from rosenblatt import nn


def _copy_from_torch(ours: nn.Module, ref: torch.nn.Module) -> None:
    ours.load_state_dict({k: rb.tensor(v.detach().numpy()) for k, v in ref.state_dict().items()})


LAYERS = [
    ("Conv2d", (3, 16, 3), {}),
    ("Conv2d", (4, 6, (3, 2)), {"stride": 2, "padding": 1, "groups": 2, "bias": False}),
    ("Conv2d", (4, 4, 3), {"padding": "same", "groups": 4, "dilation": 2}),
    ("Conv2d", (3, 5, 3), {"padding": 1, "padding_mode": "reflect"}),
    ("Conv2d", (3, 5, 3), {"padding": (2, 1), "padding_mode": "replicate", "stride": 2}),
    ("Conv2d", (3, 5, 4), {"padding": "same", "padding_mode": "circular"}),
    ("Conv1d", (3, 5, 3), {"stride": 2, "padding": 1}),
    ("Conv3d", (3, 4, 3), {}),
    ("Conv3d", (4, 6, (3, 2, 3)), {"stride": (2, 1, 2), "padding": (1, 0, 1), "groups": 2,
                                   "bias": False, "dilation": (1, 2, 1)}),
    ("Conv3d", (2, 3, (2, 3, 4)), {"padding": "same", "padding_mode": "reflect"}),
    ("Conv3d", (2, 3, 3), {"padding": (1, 2, 1), "padding_mode": "replicate"}),
    ("Conv3d", (2, 3, 3), {"padding": 1, "padding_mode": "circular", "stride": 2}),
    ("ConvTranspose2d", (4, 6, 3), {"stride": 2, "padding": 1, "output_padding": 1,
                                    "groups": 2}),
]


def _input(name: str, channels: int) -> np.ndarray:
    shape = {"Conv1d": (2, channels, 9), "Conv3d": (2, channels, 5, 6, 7)}.get(
        name, (2, channels, 9, 8))
    return np.random.default_rng(0).standard_normal(shape).astype(np.float32)


@pytest.mark.parametrize("name,args,kw", LAYERS)
def test_layer_matches_torch(name, args, kw):
    ours, ref = getattr(nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw)
    assert list(ours.state_dict()) == list(ref.state_dict())
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in ref.state_dict().items()}
    assert repr(ours) == repr(ref)
    _copy_from_torch(ours, ref)
    x = _input(name, args[0])
    xt, xr = rb.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yo, yr = ours(xt), ref(xr)
    np.testing.assert_allclose(yo.detach().numpy(), yr.detach().numpy(), rtol=1e-4, atol=1e-5)
    yo.sum().backward()
    yr.sum().backward()
    np.testing.assert_allclose(xt.grad.numpy(), xr.grad.numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ours.weight.grad.numpy(), ref.weight.grad.numpy(), rtol=1e-4,
                               atol=1e-4)


@pytest.mark.parametrize("name,args", [("Conv2d", (16, 32, 3)), ("Conv1d", (8, 4, 5)),
                                       ("Conv3d", (8, 16, 3)), ("ConvTranspose2d", (16, 8, 4))])
def test_default_init_is_pytorchs(name, args):
    """kaiming_uniform(a=sqrt(5)) gives U(+-1/sqrt(fan_in)) for the weight; the same for bias."""
    layer = getattr(nn, name)(*args)
    w = layer.weight.detach().numpy()
    fan_in = w.shape[1] * math.prod(w.shape[2:])
    bound = 1 / math.sqrt(fan_in)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.1 * bound
    b = layer.bias.detach().numpy()
    assert np.abs(b).max() <= bound


def test_conv_error_names_layer_and_shape():
    conv = nn.Conv2d(3, 16, 3)
    message = "Conv2d(3, 16, kernel_size=(3, 3)): expected input with 3 channels, got shape " \
              "(8, 1, 28, 28)"
    with pytest.raises(RuntimeError, match=message.replace("(", r"\(").replace(")", r"\)")):
        conv(rb.randn(8, 1, 28, 28))
    with pytest.raises(RuntimeError, match="expected a 3-D .* or 4-D"):
        conv(rb.randn(28, 28))
    with pytest.raises(ValueError, match="divisible by groups"):
        nn.Conv2d(3, 16, 3, groups=2)
    with pytest.raises(ValueError, match="padding_mode"):
        nn.Conv2d(3, 16, 3, padding_mode="mirror")


def test_conv3d_layer_unbatched_and_errors():
    ours, ref = nn.Conv3d(2, 3, 3, padding=1), torch.nn.Conv3d(2, 3, 3, padding=1)
    _copy_from_torch(ours, ref)
    x = np.random.default_rng(0).standard_normal((2, 4, 5, 3)).astype(np.float32)
    np.testing.assert_allclose(ours(rb.tensor(x)).detach().numpy(),
                               ref(torch.tensor(x)).detach().numpy(), rtol=1e-4, atol=1e-5)
    with pytest.raises(RuntimeError, match="expected a 4-D .* or 5-D"):
        ours(rb.randn(2, 4, 5))
    with pytest.raises(RuntimeError, match="expected input with 2 channels"):
        ours(rb.randn(1, 3, 4, 5, 3))
    with pytest.raises(ValueError, match="tuple of 3 ints"):
        nn.Conv3d(2, 3, (3, 3))


def test_conv_transpose2d_output_size():
    ours, ref = nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1), \
        torch.nn.ConvTranspose2d(4, 2, 3, stride=2, padding=1)
    _copy_from_torch(ours, ref)
    x = np.random.default_rng(0).standard_normal((1, 4, 5, 5)).astype(np.float32)
    yo = ours(rb.tensor(x), output_size=(10, 10))
    yr = ref(torch.tensor(x), output_size=(10, 10))
    assert tuple(yo.shape) == tuple(yr.shape) == (1, 2, 10, 10)
    np.testing.assert_allclose(yo.detach().numpy(), yr.detach().numpy(), rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="valid sizes range from 9 to 10"):
        ours(rb.tensor(x), output_size=(12, 12))


SHAPE_LAYERS = [
    ("MaxPool2d", (2,), {}),
    ("MaxPool2d", (3,), {"stride": 2, "padding": 1, "ceil_mode": True}),
    ("AvgPool2d", (3,), {"stride": 2, "padding": 1, "count_include_pad": False}),
    ("AdaptiveAvgPool2d", ((3, 2),), {}),
    ("AdaptiveMaxPool2d", ((4, 3),), {}),
    ("Upsample", (), {"scale_factor": 2}),
    ("Upsample", (), {"size": (5, 7), "mode": "bilinear", "align_corners": True}),
    ("UpsamplingNearest2d", (), {"scale_factor": 2}),
    ("UpsamplingBilinear2d", (), {"size": 5}),
    ("ZeroPad2d", ((1, 2, 0, 1),), {}),
    ("ConstantPad2d", (2, 0.5), {}),
    ("ReflectionPad2d", (2,), {}),
    ("ReplicationPad2d", ((1, 0, 2, 1),), {}),
    ("CircularPad2d", (1,), {}),
    ("Unfold", (3,), {"padding": 1}),
]


@pytest.mark.parametrize("name,args,kw", SHAPE_LAYERS)
def test_parameter_free_layers_match_torch(name, args, kw):
    ours, ref = getattr(nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw)
    assert repr(ours) == repr(ref)
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 7))
    np.testing.assert_allclose(ours(rb.tensor(x)).numpy(), ref(torch.tensor(x)).numpy(),
                               rtol=1e-10)


def test_pool1d_and_fold_layers():
    x = np.random.default_rng(0).standard_normal((2, 3, 9))
    for name, args in [("MaxPool1d", (3, 2)), ("AvgPool1d", (3, 2, 1)),
                       ("MaxPool1d", (3, 2, 1, 2, False, True)),  # dilation 2, ceil_mode
                       ("AvgPool1d", (2, 2, 1, True, False)),  # ceil_mode, count_include_pad
                       ("AdaptiveAvgPool1d", (4,)), ("AdaptiveMaxPool1d", (4,))]:
        ours, ref = getattr(nn, name)(*args), getattr(torch.nn, name)(*args)
        assert repr(ours) == repr(ref)
        np.testing.assert_allclose(ours(rb.tensor(x)).numpy(), ref(torch.tensor(x)).numpy())
    cols = np.random.default_rng(1).standard_normal((2, 12, 20))
    ours, ref = nn.Fold((5, 6), 2), torch.nn.Fold((5, 6), 2)
    assert repr(ours) == repr(ref)
    np.testing.assert_allclose(ours(rb.tensor(cols)).numpy(), ref(torch.tensor(cols)).numpy())


@pytest.mark.parametrize("name,args,kw", [
    ("MaxPool3d", (2,), {}),
    ("MaxPool3d", ((3, 2, 3),), {"stride": 2, "padding": 1, "dilation": (1, 2, 1),
                                 "ceil_mode": True}),
    ("AvgPool3d", (3,), {"stride": 2, "padding": 1, "count_include_pad": False}),
    ("AvgPool3d", ((2, 3, 2),), {"ceil_mode": True, "divisor_override": 4}),
])
def test_pool3d_layers_match_torch(name, args, kw):
    ours, ref = getattr(nn, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw)
    assert repr(ours) == repr(ref)
    x = np.random.default_rng(0).standard_normal((2, 3, 5, 6, 7))
    np.testing.assert_allclose(ours(rb.tensor(x)).numpy(), ref(torch.tensor(x)).numpy(),
                               rtol=1e-10)
    np.testing.assert_allclose(ours(rb.tensor(x[0])).numpy(), ref(torch.tensor(x[0])).numpy(),
                               rtol=1e-10)
    out, idx = nn.MaxPool3d(2, return_indices=True)(rb.tensor(x))
    np.testing.assert_array_equal(idx.numpy(), torch.nn.MaxPool3d(2, return_indices=True)(
        torch.tensor(x))[1].numpy())


def test_maxpool_return_indices_layer():
    x = np.random.default_rng(0).standard_normal((2, 3, 6, 6))
    out, idx = nn.MaxPool2d(2, return_indices=True)(rb.tensor(x))
    ref_out, ref_idx = torch.nn.MaxPool2d(2, return_indices=True)(torch.tensor(x))
    np.testing.assert_array_equal(idx.numpy(), ref_idx.numpy())


def test_dropout2d_zeroes_whole_channels():
    layer = nn.Dropout2d(0.5)
    x = rb.ones(64, 16, 5, 5, requires_grad=True)
    y = layer(x)
    per_map = y.detach().numpy().reshape(64 * 16, 25)
    assert set(np.unique(per_map)) <= {0.0, 2.0}
    assert (per_map.min(axis=1) == per_map.max(axis=1)).all()  # each map all kept or all 0
    assert 0.4 < (per_map[:, 0] == 0).mean() < 0.6
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.detach().numpy())
    layer.eval()
    assert layer(x) is x
    assert repr(layer) == repr(torch.nn.Dropout2d(0.5))
    assert nn.functional.dropout1d(rb.ones(2, 3, 4), 0.5).shape == (2, 3, 4)
