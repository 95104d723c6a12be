"""conv1d/2d/3d, conv_transpose2d, unfold and fold against PyTorch and finite differences."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import rosenblatt as rb
from rosenblatt.ops import conv as conv_ops
from tests.ops.conv_parity import assert_matches_torch, gradcheck, relayout

# (input shape, weight shape, keyword arguments): strides, paddings, dilations, groups,
# depthwise, 'same'/'valid', odd sizes, batch of one
CONV2D = [
    ((2, 3, 7, 8), (4, 3, 3, 3), {}),
    ((1, 3, 7, 8), (4, 3, 3, 3), {"padding": 1}),
    ((2, 2, 9, 7), (3, 2, 3, 2), {"stride": 2, "padding": (1, 0)}),
    ((2, 2, 9, 7), (3, 2, 3, 3), {"stride": (2, 3), "padding": 2, "dilation": (2, 1)}),
    ((2, 4, 7, 7), (6, 2, 3, 3), {"groups": 2, "padding": 1}),
    ((2, 4, 6, 7), (4, 1, 3, 3), {"groups": 4, "padding": "same"}),
    ((2, 3, 6, 7), (5, 3, 4, 2), {"padding": "same", "dilation": 2}),
    ((2, 3, 6, 7), (5, 3, 2, 3), {"padding": "valid", "stride": 1}),
    ((1, 1, 5, 5), (2, 1, 5, 5), {}),
    ((3, 5, 5, 6), (2, 5, 1, 1), {"stride": 2}),
]
CONV2D_IDS = [f"conv2d-{i}" for i in range(len(CONV2D))]


def _conv2d_arrays(shape, wshape, bias=True, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(dtype)
    w = rng.standard_normal(wshape).astype(dtype)
    b = rng.standard_normal(wshape[0]).astype(dtype) if bias else None
    return x, w, b


@pytest.mark.parametrize("shape,wshape,kw", CONV2D, ids=CONV2D_IDS)
def test_conv2d_matches_torch(shape, wshape, kw):
    x, w, b = _conv2d_arrays(shape, wshape)
    assert_matches_torch(lambda m, x, w, b: m.nn.functional.conv2d(x, w, b, **kw), [x, w, b])


@pytest.mark.parametrize("layout", ["NHW", "HWN", "NCHW"])
@pytest.mark.parametrize("shape,wshape,kw", [CONV2D[1], CONV2D[3], CONV2D[4], CONV2D[6]])
def test_conv2d_every_memory_layout(monkeypatch, layout, shape, wshape, kw):
    """The column buffers can be laid out three ways (chosen by size); all must agree."""
    monkeypatch.setattr(conv_ops, "FORCE_LAYOUT", layout)
    x, w, b = _conv2d_arrays(shape, wshape)
    assert_matches_torch(lambda m, x, w, b: m.nn.functional.conv2d(x, w, b, **kw), [x, w, b])
    if layout != "NCHW":
        t_shape, t_wshape, t_kw = TRANSPOSED[2]
        x, w = _conv2d_arrays(t_shape, t_wshape, bias=False)[:2]
        assert_matches_torch(lambda m, x, w: m.nn.functional.conv_transpose2d(x, w, **t_kw),
                             [x, w])


@pytest.mark.parametrize("shape,wshape,kw", CONV2D[:6], ids=CONV2D_IDS[:6])
def test_conv2d_gradcheck(shape, wshape, kw):
    x, w, b = _conv2d_arrays(shape, wshape)
    x = x[:1]  # one sample keeps finite differences quick
    gradcheck(lambda m, x, w, b: m.nn.functional.conv2d(x, w, b, **kw), [x, w, b])


@pytest.mark.parametrize("how", ["channels_last", "strided"])
def test_conv2d_non_contiguous_input_and_weight(how):
    x, w, b = _conv2d_arrays((2, 3, 6, 7), (4, 3, 3, 3))
    assert_matches_torch(lambda m, x, w, b: m.nn.functional.conv2d(x, w, b, padding=1),
                         [relayout(x, how), relayout(w, how), b])


def test_conv2d_without_bias_and_float32():
    x, w, _ = _conv2d_arrays((2, 3, 6, 7), (4, 3, 3, 3), dtype=np.float32)
    assert_matches_torch(lambda m, x, w: m.nn.functional.conv2d(x, w, stride=2), [x, w],
                         rtol=1e-4, atol=1e-5)


def test_conv2d_unbatched_input():
    x, w, b = _conv2d_arrays((3, 6, 7), (4, 3, 3, 3))
    assert_matches_torch(lambda m, x, w, b: m.nn.functional.conv2d(x, w, b, padding=1),
                         [x, w, b])


def test_conv2d_gradient_of_input_only():
    x, w, b = _conv2d_arrays((2, 3, 6, 7), (4, 3, 3, 3))
    xt = rb.tensor(x, requires_grad=True)
    out = rb.nn.functional.conv2d(xt, rb.tensor(w), rb.tensor(b))
    out.sum().backward()
    ref = torch.tensor(x, requires_grad=True)
    torch.nn.functional.conv2d(ref, torch.tensor(w), torch.tensor(b)).sum().backward()
    np.testing.assert_allclose(xt.grad.numpy(), ref.grad.numpy(), rtol=1e-6)


@pytest.mark.parametrize("kw", [{}, {"stride": 2, "padding": 1, "dilation": 2},
                                {"groups": 2, "padding": "same"}])
def test_conv1d(kw):
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((2, 4, 9)), rng.standard_normal((6, 4 // kw.get("groups", 1),
                                                                   3)), rng.standard_normal(6)
    assert_matches_torch(lambda m, x, w, b: m.nn.functional.conv1d(x, w, b, **kw), [x, w, b])
    gradcheck(lambda m, x, w, b: m.nn.functional.conv1d(x, w, b, **kw), [x[:1], w, b])


# (input shape, weight shape, keyword arguments) for conv3d: the same knobs per axis
CONV3D = [
    ((2, 3, 5, 6, 4), (4, 3, 3, 3, 2), {}),
    ((1, 2, 6, 5, 7), (3, 2, 3, 2, 3), {"stride": (2, 1, 2), "padding": (1, 0, 2)}),
    ((2, 2, 7, 6, 6), (3, 2, 2, 3, 3), {"stride": 2, "padding": 1, "dilation": (2, 1, 2)}),
    ((2, 4, 4, 5, 5), (6, 2, 3, 3, 3), {"groups": 2, "padding": 1}),
    ((1, 4, 4, 5, 6), (4, 1, 3, 2, 3), {"groups": 4, "padding": "same", "dilation": 2}),
    ((2, 3, 4, 4, 5), (2, 3, 2, 2, 2), {"padding": "valid", "stride": (1, 2, 1)}),
]
CONV3D_IDS = [f"conv3d-{i}" for i in range(len(CONV3D))]


@pytest.mark.parametrize("layout", [None, "NHW", "HWN", "NCHW"])
@pytest.mark.parametrize("shape,wshape,kw", CONV3D, ids=CONV3D_IDS)
def test_conv3d_matches_torch(monkeypatch, layout, shape, wshape, kw):
    """Values and the input, weight and bias gradients, in every column layout."""
    monkeypatch.setattr(conv_ops, "FORCE_LAYOUT", layout)
    x, w, b = _conv2d_arrays(shape, wshape)
    assert_matches_torch(lambda m, x, w, b: m.nn.functional.conv3d(x, w, b, **kw), [x, w, b])


@pytest.mark.parametrize("shape,wshape,kw", CONV3D, ids=CONV3D_IDS)
def test_conv3d_gradcheck(shape, wshape, kw):
    x, w, b = _conv2d_arrays(shape, wshape)
    gradcheck(lambda m, x, w, b: m.nn.functional.conv3d(x, w, b, **kw), [x[:1], w, b],
              fast=True)


def test_conv3d_unbatched_no_bias_and_float32():
    x, w, _ = _conv2d_arrays((3, 4, 5, 6), (2, 3, 3, 3, 3), dtype=np.float32)
    assert_matches_torch(lambda m, x, w: m.nn.functional.conv3d(x, w, padding=1), [x, w],
                         rtol=1e-4, atol=1e-5)


def test_conv3d_errors():
    message = r"Expected 4D \(unbatched\) or 5D \(batched\) input to conv3d, but got input " \
              r"of size: \[1, 2, 3\]"
    with pytest.raises(RuntimeError, match=message):
        rb.nn.functional.conv3d(rb.randn(1, 2, 3), rb.randn(2, 2, 1, 1, 1))
    with pytest.raises(RuntimeError, match="weight must be 5-D"):
        rb.nn.functional.conv3d(rb.randn(1, 2, 3, 3, 3), rb.randn(2, 2, 1, 1))
    with pytest.raises(RuntimeError, match=r"to have 3 channels, but got 2 channels"):
        rb.nn.functional.conv3d(rb.randn(1, 2, 3, 3, 3), rb.randn(4, 3, 1, 1, 1))
    with pytest.raises(RuntimeError, match=r"\(2 x 3 x 3\). Kernel size: \(3 x 3 x 3\)"):
        rb.nn.functional.conv3d(rb.randn(1, 1, 2, 3, 3), rb.randn(1, 1, 3, 3, 3))
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        rb.nn.functional.conv3d(rb.randn(1, 1, 4, 4, 4), rb.randn(1, 1, 3, 3, 3), stride=2,
                                padding="same")
    with pytest.raises(ValueError, match="tuple of 3 ints"):
        rb.nn.functional.conv3d(rb.randn(1, 1, 4, 4, 4), rb.randn(1, 1, 3, 3, 3), padding=(1, 1))


# (input shape, weight shape (Cin, Cout/groups, kh, kw), keyword arguments)
TRANSPOSED = [
    ((2, 4, 5, 6), (4, 3, 3, 3), {}),
    ((1, 4, 5, 6), (4, 3, 3, 2), {"stride": 2, "padding": 1, "output_padding": 1}),
    ((2, 4, 5, 4), (4, 2, 3, 3), {"stride": (2, 3), "padding": (1, 0), "output_padding": (1, 2),
                                  "groups": 2}),
    ((2, 4, 5, 6), (4, 1, 2, 3), {"stride": 2, "dilation": (2, 1), "groups": 4}),
    ((2, 3, 4, 4), (3, 2, 4, 4), {"stride": 2, "padding": 1}),
]


@pytest.mark.parametrize("shape,wshape,kw", TRANSPOSED)
def test_conv_transpose2d(shape, wshape, kw):
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal(shape), rng.standard_normal(wshape)
    b = rng.standard_normal(wshape[1] * kw.get("groups", 1))

    def fn(m, x, w, b):
        return m.nn.functional.conv_transpose2d(x, w, b, **kw)

    assert_matches_torch(fn, [x, w, b])
    gradcheck(fn, [x[:1], w, b], fast=True)


UNFOLD = [((2, 3, 7, 8), {"kernel_size": (2, 3)}),
          ((1, 2, 7, 8), {"kernel_size": 3, "dilation": (1, 2), "padding": 1, "stride": (2, 1)})]


@pytest.mark.parametrize("shape,kw", UNFOLD)
def test_unfold_and_fold(shape, kw):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    assert_matches_torch(lambda m, x: m.nn.functional.unfold(x, **kw), [x])
    gradcheck(lambda m, x: m.nn.functional.unfold(x, **kw), [x[:1]])
    cols = torch.nn.functional.unfold(torch.tensor(x), **kw).numpy()
    size = shape[2:]
    assert_matches_torch(lambda m, c: m.nn.functional.fold(c, size, **kw), [cols])
    gradcheck(lambda m, c: m.nn.functional.fold(c, size, **kw), [cols[:1]], fast=True)


def test_unfold_matmul_is_conv2d():
    rng = np.random.default_rng(0)
    x = rb.tensor(rng.standard_normal((2, 3, 6, 6)))
    w = rb.tensor(rng.standard_normal((4, 3, 3, 3)))
    cols = rb.nn.functional.unfold(x, 3, padding=1)
    via_unfold = (w.reshape(4, -1) @ cols).reshape(2, 4, 6, 6)
    direct = rb.nn.functional.conv2d(x, w, padding=1)
    np.testing.assert_allclose(via_unfold.numpy(), direct.numpy(), rtol=1e-10)


def test_errors_name_the_op_and_shapes():
    x = rb.randn(8, 1, 28, 28)
    with pytest.raises(RuntimeError, match=r"expected input\[8, 1, 28, 28\] to have 3 channels"):
        rb.nn.functional.conv2d(x, rb.randn(16, 3, 3, 3))
    with pytest.raises(RuntimeError, match="Kernel size can't be greater"):
        rb.nn.functional.conv2d(rb.randn(1, 1, 2, 2), rb.randn(1, 1, 3, 3))
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        rb.nn.functional.conv2d(x, rb.randn(4, 1, 3, 3), stride=2, padding="same")
    with pytest.raises(RuntimeError, match="Input type"):
        rb.nn.functional.conv2d(x.double(), rb.randn(4, 1, 3, 3))
    with pytest.raises(RuntimeError, match="output padding must be smaller"):
        rb.nn.functional.conv_transpose2d(rb.randn(1, 2, 4, 4), rb.randn(2, 2, 3, 3),
                                          stride=2, output_padding=2)
    with pytest.raises(RuntimeError, match="sliding blocks"):
        rb.nn.functional.fold(rb.randn(1, 4, 5), (4, 4), 2)


def test_empty_batch():
    x = rb.randn(0, 3, 5, 5, requires_grad=True)
    w = rb.randn(4, 3, 3, 3, requires_grad=True)
    y = rb.nn.functional.conv2d(x, w, padding=1)
    assert tuple(y.shape) == (0, 4, 5, 5)
    y.sum().backward()
    assert tuple(x.grad.shape) == (0, 3, 5, 5) and float(w.grad.abs().sum()) == 0.0
    t = rb.nn.functional.conv_transpose2d(rb.randn(0, 4, 5, 5), rb.randn(4, 2, 3, 3), stride=2)
    assert tuple(t.shape) == (0, 2, 11, 11)


def test_backward_twice_with_retain_graph():
    """Saved buffers stay until the engine releases the graph."""
    x = rb.randn(2, 3, 6, 6, requires_grad=True)
    w = rb.randn(4, 3, 3, 3, requires_grad=True)
    wt = rb.randn(4, 2, 3, 3, requires_grad=True)
    y = rb.nn.functional.conv2d(x, w, padding=1)
    z = rb.nn.functional.conv_transpose2d(y, wt, stride=2)
    out = rb.nn.functional.max_pool2d(z, 2).sum() + rb.nn.functional.avg_pool2d(z, 3).sum()
    out.backward(retain_graph=True)
    first = [t.grad.numpy().copy() for t in (x, w, wt)]
    out.backward()
    for t, g in zip((x, w, wt), first):
        np.testing.assert_allclose(t.grad.numpy(), 2 * g, rtol=1e-5)
