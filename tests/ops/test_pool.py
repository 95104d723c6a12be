"""Pooling, interpolate and pad against PyTorch and finite differences."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import rosenblatt as rb
from tests.ops.conv_parity import assert_matches_torch, gradcheck, relayout

MAX_POOL = [
    ((2, 3, 8, 8), {"kernel_size": 2}),
    ((1, 2, 9, 7), {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}),
    ((2, 2, 9, 7), {"kernel_size": (3, 2), "stride": (1, 2), "padding": (1, 1),
                    "dilation": (2, 1)}),
    ((2, 2, 7, 7), {"kernel_size": 2, "ceil_mode": True}),
    ((2, 2, 9, 9), {"kernel_size": 3, "stride": 2, "dilation": 2, "ceil_mode": True}),
    ((2, 9, 7), {"kernel_size": 2, "stride": 1}),
]
AVG_POOL = [
    ((2, 3, 8, 8), {"kernel_size": 2}),
    ((1, 2, 9, 7), {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}),
    ((2, 2, 9, 7), {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True,
                    "count_include_pad": False}),
    ((2, 2, 9, 7), {"kernel_size": (3, 2), "padding": (1, 0), "divisor_override": 5}),
    ((2, 2, 7, 7), {"kernel_size": 2, "stride": 1, "ceil_mode": True}),
]


def _x(shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


@pytest.mark.parametrize("shape,kw", MAX_POOL)
def test_max_pool2d(shape, kw):
    x = _x(shape)
    assert_matches_torch(lambda m, x: m.nn.functional.max_pool2d(x, **kw), [x])
    gradcheck(lambda m, x: m.nn.functional.max_pool2d(x, **kw), [x[:1]])


@pytest.mark.parametrize("shape,kw", MAX_POOL[:5])
def test_max_pool2d_return_indices(shape, kw):
    x = _x(shape)
    ours, idx = rb.nn.functional.max_pool2d(rb.tensor(x), return_indices=True, **kw)
    ref, ref_idx = torch.nn.functional.max_pool2d(torch.tensor(x), return_indices=True, **kw)
    np.testing.assert_array_equal(idx.numpy(), ref_idx.numpy())
    assert idx.dtype == rb.int64


@pytest.mark.parametrize("dims", [2, 3])
def test_max_pool_ties_give_the_gradient_to_the_first_maximum(dims):
    x = np.zeros((1, 2) + (4,) * (dims - 1) + (6,))
    x[(0, 1) + (slice(2),) * dims] = 5.0
    pool = f"max_pool{dims}d"
    assert_matches_torch(lambda m, x: getattr(m.nn.functional, pool)(x, 2), [x])
    assert_matches_torch(lambda m, x: getattr(m.nn.functional, pool)(x, 3, 1, 1), [x])


def test_max_pool2d_propagates_nan():
    x = _x((1, 1, 4, 4))
    x[0, 0, 1, 1] = np.nan
    out = rb.nn.functional.max_pool2d(rb.tensor(x), 2).numpy()
    ref = torch.nn.functional.max_pool2d(torch.tensor(x), 2).numpy()
    np.testing.assert_array_equal(out, ref)


@pytest.mark.parametrize("how", ["channels_last", "strided"])
def test_pooling_non_contiguous(how):
    x = relayout(_x((2, 3, 6, 8)), how)
    assert_matches_torch(lambda m, x: m.nn.functional.max_pool2d(x, 2), [x])
    assert_matches_torch(lambda m, x: m.nn.functional.avg_pool2d(x, 3, 2, 1), [x])


@pytest.mark.parametrize("shape,kw", AVG_POOL)
def test_avg_pool2d(shape, kw):
    x = _x(shape)
    assert_matches_torch(lambda m, x: m.nn.functional.avg_pool2d(x, **kw), [x])
    gradcheck(lambda m, x: m.nn.functional.avg_pool2d(x, **kw), [x[:1]])


MAX_POOL3D = [
    ((2, 2, 4, 6, 5), {"kernel_size": 2}),
    ((1, 2, 5, 7, 6), {"kernel_size": (3, 2, 3), "stride": (2, 1, 2), "padding": (1, 0, 1),
                       "ceil_mode": True}),
    ((2, 1, 7, 6, 7), {"kernel_size": 3, "stride": 2, "dilation": (2, 1, 2), "padding": 1}),
    ((2, 5, 6, 5), {"kernel_size": 2, "stride": 1}),
]
AVG_POOL3D = [
    ((2, 2, 4, 6, 5), {"kernel_size": 2}),
    ((1, 2, 5, 7, 6), {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}),
    ((2, 1, 5, 7, 6), {"kernel_size": (3, 2, 3), "stride": 2, "padding": (1, 1, 0),
                       "ceil_mode": True, "count_include_pad": False}),
    ((2, 1, 5, 6, 6), {"kernel_size": (3, 2, 2), "padding": (1, 0, 1), "divisor_override": 5}),
    ((2, 5, 6, 5), {"kernel_size": 2, "stride": 1}),
]


@pytest.mark.parametrize("shape,kw", MAX_POOL3D)
def test_max_pool3d(shape, kw):
    x = _x(shape)
    assert_matches_torch(lambda m, x: m.nn.functional.max_pool3d(x, **kw), [x])
    gradcheck(lambda m, x: m.nn.functional.max_pool3d(x, **kw), [x[:1]], fast=True)
    out, idx = rb.nn.functional.max_pool3d(rb.tensor(x), return_indices=True, **kw)
    ref, ref_idx = torch.nn.functional.max_pool3d(torch.tensor(x), return_indices=True, **kw)
    np.testing.assert_array_equal(out.numpy(), ref.numpy())
    np.testing.assert_array_equal(idx.numpy(), ref_idx.numpy())
    assert idx.dtype == rb.int64


@pytest.mark.parametrize("shape,kw", AVG_POOL3D)
def test_avg_pool3d(shape, kw):
    x = _x(shape)
    assert_matches_torch(lambda m, x: m.nn.functional.avg_pool3d(x, **kw), [x])
    gradcheck(lambda m, x: m.nn.functional.avg_pool3d(x, **kw), [x[:1]], fast=True)


def test_pool3d_errors():
    for pool in (rb.nn.functional.max_pool3d, rb.nn.functional.avg_pool3d):
        with pytest.raises(RuntimeError, match=r"expected 4D or 5D \(batch mode\) tensor"):
            pool(rb.randn(1, 4, 4), 2)
        with pytest.raises(RuntimeError, match="pad should be at most half"):
            pool(rb.randn(1, 1, 4, 4, 4), 2, padding=(0, 2, 0))
        with pytest.raises(RuntimeError, match="too small"):
            pool(rb.randn(1, 1, 4, 1, 4), 2)
        with pytest.raises(ValueError, match="tuple of 3 ints"):
            pool(rb.randn(1, 1, 4, 4, 4), (2, 2))


def test_pool1d():
    x = _x((2, 3, 9))
    kw = {"kernel_size": 3, "stride": 2, "padding": 1}
    assert_matches_torch(lambda m, x: m.nn.functional.max_pool1d(x, ceil_mode=True, **kw), [x])
    assert_matches_torch(lambda m, x: m.nn.functional.avg_pool1d(
        x, count_include_pad=False, **kw), [x])
    out, idx = rb.nn.functional.max_pool1d(rb.tensor(x), return_indices=True, **kw)
    ref = torch.nn.functional.max_pool1d(torch.tensor(x), return_indices=True, **kw)[1]
    np.testing.assert_array_equal(idx.numpy(), ref.numpy())


@pytest.mark.parametrize("shape,size", [((2, 3, 9, 7), (4, 3)), ((2, 3, 8, 8), 1),
                                        ((2, 3, 8, 6), (4, 2)), ((3, 9, 7), (None, 5)),
                                        ((1, 2, 5, 5), (7, 6))])
def test_adaptive_avg_pool2d(shape, size):
    x = _x(shape)
    assert_matches_torch(lambda m, x: m.nn.functional.adaptive_avg_pool2d(x, size), [x])
    gradcheck(lambda m, x: m.nn.functional.adaptive_avg_pool2d(x, size), [x[:1]])


@pytest.mark.parametrize("shape,size", [((2, 3, 9, 7), (4, 3)), ((2, 3, 8, 8), 1),
                                        ((1, 2, 5, 5), (7, 6)), ((3, 9, 7), (None, 5))])
def test_adaptive_max_pool2d(shape, size):
    x = _x(shape)
    assert_matches_torch(lambda m, x: m.nn.functional.adaptive_max_pool2d(x, size), [x])
    gradcheck(lambda m, x: m.nn.functional.adaptive_max_pool2d(x, size), [x[:1]])
    ties = np.maximum(np.round(x), 0.0)
    assert_matches_torch(lambda m, x: m.nn.functional.adaptive_max_pool2d(x, size), [ties])
    idx = rb.nn.functional.adaptive_max_pool2d(rb.tensor(ties), size, return_indices=True)[1]
    ref = torch.nn.functional.adaptive_max_pool2d(torch.tensor(ties), size,
                                                  return_indices=True)[1]
    np.testing.assert_array_equal(idx.numpy(), ref.numpy())


def test_adaptive_avg_pool1d():
    x = _x((2, 3, 10))
    assert_matches_torch(lambda m, x: m.nn.functional.adaptive_avg_pool1d(x, 4), [x])
    assert_matches_torch(lambda m, x: m.nn.functional.adaptive_max_pool1d(x, 4), [x])


INTERPOLATE = [
    ((2, 3, 5, 6), {"scale_factor": 2}),
    ((2, 3, 5, 6), {"size": (7, 11)}),
    ((2, 3, 5, 6), {"scale_factor": 1.7}),
    ((1, 2, 6, 7), {"size": (3, 4), "mode": "nearest-exact"}),
    ((2, 3, 5, 6), {"scale_factor": 2, "mode": "bilinear", "align_corners": False}),
    ((2, 3, 5, 6), {"size": (7, 11), "mode": "bilinear", "align_corners": True}),
    ((2, 3, 6, 7), {"size": (4, 3), "mode": "bilinear"}),
    ((2, 3, 5, 6), {"scale_factor": (1.5, 0.6), "mode": "bilinear"}),
    ((2, 3, 5, 6), {"scale_factor": 1.5, "mode": "bilinear", "recompute_scale_factor": True}),
    ((2, 3, 6), {"scale_factor": 2.5, "mode": "linear"}),
    ((2, 3, 6), {"size": 4}),
]


@pytest.mark.parametrize("shape,kw", INTERPOLATE)
def test_interpolate(shape, kw):
    x = _x(shape)
    assert_matches_torch(lambda m, x: m.nn.functional.interpolate(x, **kw), [x])
    gradcheck(lambda m, x: m.nn.functional.interpolate(x, **kw), [x[:1]], fast=True)


PAD = [
    ((2, 3, 5, 6), (1, 2, 3, 0), "constant"),
    ((2, 3, 5, 6), (1, -2, 3, 0), "constant"),
    ((2, 3, 5, 6), (1, 2, 3, 0), "reflect"),
    ((2, 3, 5, 6), (2, 2, 1, 1), "replicate"),
    ((2, 3, 5, 6), (1, 2, 3, 0), "circular"),
    ((2, 3, 6), (2, 3), "reflect"),
    ((3, 6, 7), (7, 7), "replicate"),
    ((2, 3, 4, 5, 6), (1, 2, 0, 1, 2, 0), "reflect"),
]


@pytest.mark.parametrize("shape,pads,mode", PAD)
def test_pad(shape, pads, mode):
    x = _x(shape)
    value = {"value": 2.5} if mode == "constant" else {}
    assert_matches_torch(lambda m, x: m.nn.functional.pad(x, pads, mode=mode, **value), [x])
    gradcheck(lambda m, x: m.nn.functional.pad(x, pads, mode=mode, **value), [x[:1]],
              fast=True)


def test_pool_errors_are_clear():
    with pytest.raises(RuntimeError, match="pad should be at most half"):
        rb.nn.functional.max_pool2d(rb.randn(1, 1, 4, 4), 2, padding=2)
    with pytest.raises(RuntimeError, match="too small"):
        rb.nn.functional.max_pool2d(rb.randn(1, 1, 1, 1), 2)
    with pytest.raises(RuntimeError, match="padding size should be less"):
        rb.nn.functional.pad(rb.randn(1, 1, 3, 3), (3, 3), mode="reflect")
    with pytest.raises(ValueError, match="only one of size or scale_factor"):
        rb.nn.functional.interpolate(rb.randn(1, 1, 3, 3))


@pytest.mark.parametrize("kw", [{"kernel_size": 2}, {"kernel_size": 3, "stride": 2, "padding": 1}])
def test_max_unpool2d_inverts_max_pool2d(kw):
    x = _x((2, 3, 7, 8))
    pooled, idx = torch.nn.functional.max_pool2d(torch.tensor(x), return_indices=True, **kw)
    ours_idx = rb.nn.functional.max_pool2d(rb.tensor(x), return_indices=True, **kw)[1]

    def fn(m, y):
        index = ours_idx if m is rb else idx
        return m.nn.functional.max_unpool2d(y, index, output_size=(7, 8), **kw)

    assert_matches_torch(fn, [pooled.numpy()])
    if "padding" in kw:  # the default size (7x7) is too small for these indices
        with pytest.raises(RuntimeError, match="out of bounds"):
            rb.nn.functional.max_unpool2d(rb.tensor(pooled.numpy()), ours_idx, **kw)
        return
    unpooled = rb.nn.functional.max_unpool2d(rb.tensor(pooled.numpy()), ours_idx, **kw)
    assert tuple(unpooled.shape) == tuple(torch.nn.functional.max_unpool2d(
        pooled, idx, **kw).shape)


def test_in_place_relu_after_max_pool():
    """As in PyTorch, the pooled output may be changed in place (ReLU(inplace=True))."""
    x = _x((2, 3, 6, 6))

    def fn(m, x):
        y = m.nn.functional.max_pool2d(x * 1.0, 2)
        z = m.nn.functional.adaptive_max_pool2d(x * 1.0, 3)
        return y.relu_() + z.relu_()

    assert_matches_torch(fn, [x])
