"""Random conv2d/conv_transpose2d/pooling configurations against PyTorch (hypothesis)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.ops.conv_parity import assert_matches_torch

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True)


@st.composite
def conv_configs(draw):
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    cin, cout = groups * draw(st.integers(1, 3)), groups * draw(st.integers(1, 3))
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    h = draw(st.integers(max(1, dilation[0] * (kh - 1) + 1 - 2 * padding[0]), 9))
    w = draw(st.integers(max(1, dilation[1] * (kw - 1) + 1 - 2 * padding[1]), 9))
    n = draw(st.integers(1, 3))
    return (n, cin, h, w), (cout, cin // groups, kh, kw), {
        "stride": stride, "padding": padding, "dilation": dilation, "groups": groups}


@SETTINGS
@given(conv_configs(), st.booleans())
def test_conv2d_random_configurations(config, bias):
    shape, wshape, kw = config
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(shape), rng.standard_normal(wshape),
              rng.standard_normal(wshape[0]) if bias else None]
    assert_matches_torch(lambda m, x, w, b: m.nn.functional.conv2d(x, w, b, **kw), arrays)


@SETTINGS
@given(conv_configs(), st.integers(0, 2))
def test_conv_transpose2d_random_configurations(config, extra):
    (n, cin, h, w), (cout, cin_g, kh, kw), kws = config
    groups = kws["groups"]
    stride, dilation = kws["stride"], kws["dilation"]
    # output_padding must be smaller than stride or dilation
    output_padding = tuple(min(extra, max(s, d) - 1) for s, d in zip(stride, dilation))
    padding = tuple(min(p, (d * (k - 1)) // 2) for p, d, k in zip(kws["padding"], dilation,
                                                                    (kh, kw)))
    weight_shape = (cin, cout // groups, kh, kw)
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((n, cin, h, w)), rng.standard_normal(weight_shape),
              rng.standard_normal(cout)]
    assert_matches_torch(lambda m, x, wt, b: m.nn.functional.conv_transpose2d(
        x, wt, b, stride=stride, padding=padding, output_padding=output_padding,
        groups=groups, dilation=dilation), arrays)


@st.composite
def pool_configs(draw):
    k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    stride = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    padding = (draw(st.integers(0, k[0] // 2)), draw(st.integers(0, k[1] // 2)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    h = draw(st.integers(dilation[0] * (k[0] - 1) + 1, 10))
    w = draw(st.integers(dilation[1] * (k[1] - 1) + 1, 10))
    return (draw(st.integers(1, 2)), 2, h, w), k, stride, padding, dilation, draw(st.booleans())


@SETTINGS
@given(pool_configs(), st.booleans())
def test_max_pool2d_random_configurations(config, ties):
    shape, k, stride, padding, dilation, ceil_mode = config
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    if ties:  # ReLU-like inputs: many equal maxima
        x = np.maximum(np.round(x), 0.0)
    assert_matches_torch(lambda m, x: m.nn.functional.max_pool2d(
        x, k, stride, padding, dilation, ceil_mode), [x])


@SETTINGS
@given(pool_configs(), st.booleans())
def test_avg_pool2d_random_configurations(config, count_include_pad):
    shape, k, stride, padding, _, ceil_mode = config
    x = np.random.default_rng(0).standard_normal(shape)
    assert_matches_torch(lambda m, x: m.nn.functional.avg_pool2d(
        x, k, stride, padding, ceil_mode, count_include_pad), [x])
