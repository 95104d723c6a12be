"""Property tests: broadcasting over random shapes, reductions over random dims (vs PyTorch)."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import rosenblatt as rb

SETTINGS = settings(max_examples=25, deadline=None, derandomize=True)


@st.composite
def broadcastable_shapes(draw):
    """Two shapes that broadcast: each dim equal, or 1 on one side, or missing on one side."""
    out = draw(st.lists(st.integers(1, 4), min_size=0, max_size=4))
    a, b = [], []
    for n in out:
        kind = draw(st.sampled_from(["same", "a1", "b1"]))
        a.append(1 if kind == "a1" else n)
        b.append(1 if kind == "b1" else n)
    drop_a = draw(st.integers(0, len(a)))
    drop_b = draw(st.integers(0, len(b))) if drop_a == 0 else 0
    return tuple(a[drop_a:]), tuple(b[drop_b:])


def _leaf(m, array):
    return (rb if m is rb else torch).tensor(array, requires_grad=True)


@SETTINGS
@given(shapes=broadcastable_shapes(), op=st.sampled_from(["add", "sub", "mul", "div", "maximum"]))
def test_broadcasting_matches_pytorch(shapes, op):
    rng = np.random.default_rng(0)
    a = rng.uniform(0.5, 2, shapes[0])
    b = rng.uniform(0.5, 2, shapes[1]) * rng.choice([-1, 1], shapes[1])
    results = []
    for m in (rb, torch):
        x, y = _leaf(m, a), _leaf(m, b)
        out = getattr(m, op)(x, y)
        (out * out).sum().backward()
        results.append((out.detach().numpy(), x.grad.numpy(), y.grad.numpy()))
    for ours, theirs in zip(*results):
        assert ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, rtol=1e-10)


@st.composite
def reduction_case(draw):
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=4)))
    dims = draw(st.lists(st.integers(-len(shape), len(shape) - 1), min_size=1,
                         max_size=len(shape), unique_by=lambda d: d % len(shape)))
    return shape, tuple(dims), draw(st.booleans())


@SETTINGS
@given(case=reduction_case(),
       op=st.sampled_from(["sum", "mean", "amax", "amin", "logsumexp", "var", "std", "norm"]))
def test_reductions_over_random_dims_match_pytorch(case, op):
    shape, dims, keepdim = case
    a = np.random.default_rng(1).standard_normal(shape)
    reduced = int(np.prod([shape[d] for d in dims]))
    results = []
    for m in (rb, torch):
        x = _leaf(m, a)
        if op in ("var", "std"):
            out = getattr(x, op)(dims, keepdim=keepdim, correction=0 if reduced == 1 else 1)
        elif op == "norm":
            out = x.norm(p=2, dim=dims, keepdim=keepdim)
        else:
            out = getattr(x, op)(dims, keepdim=keepdim)
        weights = np.random.default_rng(2).standard_normal(tuple(out.shape))
        (out * (rb if m is rb else torch).tensor(weights)).sum().backward()
        results.append((out.detach().numpy(), x.grad.numpy()))
    for ours, theirs in zip(*results):
        assert ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, rtol=1e-8, atol=1e-12)


@SETTINGS
@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=4), data=st.data())
def test_max_min_with_dim_match_pytorch(shape, data):
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    keepdim = data.draw(st.booleans())
    a = np.random.default_rng(3).permutation(int(np.prod(shape))).reshape(shape).astype(float)
    for op in ("max", "min"):
        results = []
        for m in (rb, torch):
            x = _leaf(m, a)
            values, indices = getattr(x, op)(dim, keepdim=keepdim)
            values.sum().backward()
            results.append((values.detach().numpy(), indices.numpy(), x.grad.numpy()))
        for ours, theirs in zip(*results):
            np.testing.assert_array_equal(ours, theirs)


@SETTINGS
@given(shapes=broadcastable_shapes())
def test_matmul_batch_broadcasting(shapes):
    a_batch, b_batch = shapes
    rng = np.random.default_rng(4)
    a = rng.standard_normal(a_batch + (2, 3))
    b = rng.standard_normal(b_batch + (3, 2))
    results = []
    for m in (rb, torch):
        x, y = _leaf(m, a), _leaf(m, b)
        (x @ y).sum().backward()
        results.append(((x @ y).detach().numpy(), x.grad.numpy(), y.grad.numpy()))
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10)
