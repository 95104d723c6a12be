"""PixelShuffle, PixelUnshuffle, ChannelShuffle and their functions against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from nn_parity import assert_close, compare_functions, compare_modules

import rosenblatt as rb
from rosenblatt import nn
from rosenblatt.nn import functional as F

rng = np.random.default_rng(11)

LAYERS = [
    ("PixelShuffle", 2, (2, 8, 3, 2)),
    ("PixelShuffle", 3, (9, 2, 2)),
    ("PixelShuffle", 1, (1, 4, 2, 3)),
    ("PixelShuffle", 2, (2, 3, 4, 2, 1)),
    ("PixelUnshuffle", 2, (2, 2, 4, 6)),
    ("PixelUnshuffle", 3, (1, 3, 3)),
    ("PixelUnshuffle", 2, (2, 1, 3, 2, 4)),
    ("ChannelShuffle", 2, (2, 4, 3, 3)),
    ("ChannelShuffle", 3, (1, 6, 5)),
    ("ChannelShuffle", 1, (2, 3, 2)),
]


@pytest.mark.parametrize("name, factor, shape", LAYERS,
                         ids=[f"{n}-{f}-{len(s)}d" for n, f, s in LAYERS])
def test_layer_matches_torch(name, factor, shape):
    ours, theirs = getattr(nn, name)(factor), getattr(torch.nn, name)(factor)
    compare_modules(ours, theirs, rng.standard_normal(shape))


@pytest.mark.parametrize("ours, theirs, factor, shape", [
    (F.pixel_shuffle, torch.nn.functional.pixel_shuffle, 2, (3, 12, 2, 3)),
    (F.pixel_unshuffle, torch.nn.functional.pixel_unshuffle, 2, (3, 3, 2, 4)),
    (F.channel_shuffle, torch.nn.functional.channel_shuffle, 4, (2, 8, 3)),
])
def test_functional_matches_torch(ours, theirs, factor, shape):
    compare_functions(lambda x: ours(x, factor), lambda x: theirs(x, factor),
                      [rng.standard_normal(shape)])


def test_unshuffle_inverts_shuffle_and_keeps_dtype():
    x = rb.arange(2 * 8 * 3 * 2).reshape(2, 8, 3, 2).int()
    y = F.pixel_shuffle(x, 2)
    assert y.dtype is rb.int32 and tuple(y.shape) == (2, 2, 6, 4)
    assert np.array_equal(F.pixel_unshuffle(y, 2).numpy(), x.numpy())
    expected = torch.nn.functional.pixel_shuffle(torch.from_numpy(x.numpy()), 2)
    assert np.array_equal(y.numpy(), expected.numpy())
    x32 = rb.randn(1, 4, 2, 2)
    assert F.pixel_shuffle(x32, 2).dtype is rb.float32


def test_empty_batch_shapes_match_torch():
    for fn, factor, shape in [("pixel_shuffle", 2, (0, 4, 2, 2)),
                              ("channel_shuffle", 2, (0, 4, 1))]:
        ours = getattr(F, fn)(rb.zeros(*shape), factor)
        theirs = getattr(torch.nn.functional, fn)(torch.zeros(*shape), factor)
        assert tuple(ours.shape) == tuple(theirs.shape), fn


def test_empty_unshuffle_has_the_documented_shape():
    # PyTorch 2.13 returns an empty input unchanged, (0, 1, 2, 2); the documented rule
    # (*, C, H * r, W * r) -> (*, C * r^2, H, W) gives (0, 4, 1, 1), which pixel_shuffle inverts
    x = rb.zeros(0, 1, 2, 2, requires_grad=True)
    y = F.pixel_unshuffle(x, 2)
    assert tuple(y.shape) == (0, 4, 1, 1)
    assert tuple(F.pixel_shuffle(y, 2).shape) == (0, 1, 2, 2)
    y.sum().backward()
    assert tuple(x.grad.shape) == (0, 1, 2, 2)


def test_channel_shuffle_order():
    x = rb.arange(6.0).reshape(1, 6, 1)
    assert F.channel_shuffle(x, 2).flatten().tolist() == [0.0, 3.0, 1.0, 4.0, 2.0, 5.0]


@pytest.mark.parametrize("name, factor", [("PixelShuffle", 3), ("PixelUnshuffle", 2),
                                          ("ChannelShuffle", 4)])
def test_repr_and_attributes_match_torch(name, factor):
    ours, theirs = getattr(nn, name)(factor), getattr(torch.nn, name)(factor)
    assert repr(ours) == repr(theirs)
    assert ours.extra_repr() == theirs.extra_repr()
    attr = {"PixelShuffle": "upscale_factor", "PixelUnshuffle": "downscale_factor",
            "ChannelShuffle": "groups"}[name]
    assert getattr(ours, attr) == getattr(theirs, attr) == factor
    assert list(ours.parameters()) == []
    assert repr(nn.Sequential(nn.Conv2d(3, 12, 3), ours)).count(repr(ours)) == 1


@pytest.mark.parametrize("fn, factor, shape, error, match", [
    ("pixel_shuffle", 2, (1, 5, 2, 2), RuntimeError, r"input.size\(-3\)=5 is not divisible by 4"),
    ("pixel_shuffle", 3, (6, 2, 2), RuntimeError, r"input.size\(-3\)=6 is not divisible by 9"),
    ("pixel_shuffle", 2, (4, 2), RuntimeError, "at least 3 dimensions.*2 dimension"),
    ("pixel_shuffle", 0, (1, 4, 2, 2), RuntimeError, "positive upscale_factor, but got 0"),
    ("pixel_shuffle", -1, (1, 4, 2, 2), RuntimeError, "positive upscale_factor, but got -1"),
    ("pixel_shuffle", 2.0, (1, 4, 2, 2), TypeError, "must be int, not float"),
    ("pixel_unshuffle", 2, (1, 1, 3, 4), RuntimeError,
     r"height to be divisible.*input.size\(-2\)=3 is not divisible by 2"),
    ("pixel_unshuffle", 2, (1, 1, 4, 3), RuntimeError,
     r"width to be divisible.*input.size\(-1\)=3 is not divisible by 2"),
    ("pixel_unshuffle", 2, (4, 4), RuntimeError, "at least 3 dimensions"),
    ("pixel_unshuffle", 0, (1, 1, 4, 4), RuntimeError, "positive downscale_factor, but got 0"),
    ("channel_shuffle", 2, (1, 5, 2), RuntimeError, "Got 5 channels and 2 groups"),
    ("channel_shuffle", 2, (1, 6), RuntimeError, r"> 2 dims.*\[1, 6\]"),
    ("channel_shuffle", 0, (1, 6, 2), RuntimeError, "must be positive.*groups:0"),
])
def test_errors_match_torch(fn, factor, shape, error, match):
    with pytest.raises(error, match=match):
        getattr(F, fn)(rb.zeros(*shape), factor)
    with pytest.raises(error, match=match):
        getattr(torch.nn.functional, fn)(torch.zeros(*shape), factor)


def test_layer_error_names_shape_and_factor():
    with pytest.raises(RuntimeError, match="size\\(-3\\)=6 is not divisible by 4"):
        nn.PixelShuffle(2)(rb.zeros(1, 6, 2, 2))


def test_float32_gradients_stay_float32():
    x = rb.randn(2, 8, 3, 3, requires_grad=True)
    y = nn.PixelShuffle(2)(x)
    (y * y).sum().backward()
    assert x.grad.dtype is rb.float32
    assert_close(x.grad, 2 * x)
