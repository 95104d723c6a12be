"""In-place ops on views while autograd records: the base sees the new values and backward
sees the op (PyTorch's CopySlices), checked against PyTorch and finite differences."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import rosenblatt as rb


def _both(fn):
    """fn(lib, leaf) -> tensor to sum for backward; returns (values, grad) for each library."""
    out = []
    for lib in (rb, torch):
        leaf = lib.tensor(np.arange(1.0, 7.0).reshape(2, 3), requires_grad=True)
        result = fn(lib, leaf)
        (result * result).sum().backward()  # a non-uniform upstream gradient
        out.append((result.detach().numpy().copy(), leaf.grad.numpy().copy()))
    return out


CASES = {
    "row mul_": lambda lib, a: _row_mul(a * 2),
    "column add_ through transpose": lambda lib, a: _then(a * 1, lambda h: h.t()[1].add_(5)),
    "view of a view": lambda lib, a: _then(a * 1, lambda h: h.view(3, 2)[1:, 0].mul_(-1)),
    "zero_ on a slice": lambda lib, a: _then(a * 3, lambda h: h[:, ::2].zero_()),
    "setitem on a view": lambda lib, a: _then(a * 1, lambda h: h[1].__setitem__(0, 9.0)),
    "value that requires grad": lambda lib, a: _then(a * 1, lambda h: h[0].mul_(a[1])),
    "relu_ on a permuted view": lambda lib, a: _then(a - 3, lambda h: h.permute(1, 0)[2].relu_()),
    # views taken before an in-place op on their base read its new values and its graph
    "earlier row after base mul_": lambda lib, a: _earlier(
        a * 1, lambda h: h[0], lambda h: h.mul_(2)),
    "earlier view of a view after base add_": lambda lib, a: _earlier(
        a * 1, lambda h: h.t()[1], lambda h: h.add_(a)),
    "sibling row after a row's mul_": lambda lib, a: _earlier(
        a * 1, lambda h: h[1], lambda h: h[0].mul_(a[1])),
    "earlier reshape after base pow_": lambda lib, a: _earlier(
        a * 1, lambda h: h.reshape(3, 2), lambda h: h.pow_(2)),
}


def _earlier(h, view, change):
    v = view(h)
    change(h)
    return v * 1


def _then(h, change):
    change(h)
    return h


def _row_mul(h):
    h[0].mul_(3)
    return h


@pytest.mark.parametrize("name", CASES)
def test_inplace_on_a_view_matches_pytorch(name):
    (ours, our_grad), (theirs, their_grad) = _both(CASES[name])
    np.testing.assert_allclose(ours, theirs)
    np.testing.assert_allclose(our_grad, their_grad)


def test_the_view_itself_reads_the_new_values_and_carries_the_graph():
    a = rb.ones(2, 3, requires_grad=True)
    h = a * 2
    row = h[1]
    row.add_(1)
    np.testing.assert_array_equal(row.detach().numpy(), [3.0, 3.0, 3.0])
    np.testing.assert_array_equal(h.detach().numpy()[1], [3.0, 3.0, 3.0])
    row.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [[0, 0, 0], [2, 2, 2]])


def test_a_buffer_that_takes_a_tracked_value_joins_the_graph():
    w = rb.tensor([1.0, 2.0], requires_grad=True)
    buf = rb.zeros(3, 2)
    buf[1].add_(w)
    assert buf.requires_grad and buf.grad_fn is not None
    (buf * buf).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [2.0, 4.0])


def test_untracked_views_still_write_the_shared_memory():
    base = rb.zeros(2, 2)
    base[0].add_(1)  # grad mode on, nothing requires grad: a plain write
    base.view(4)[3].fill_(7)
    np.testing.assert_array_equal(base.numpy(), [[1, 1], [0, 7]])
    assert not base.requires_grad


def test_a_view_of_a_leaf_that_requires_grad_is_refused():
    a = rb.ones(2, 2, requires_grad=True)
    with pytest.raises(RuntimeError, match="view of a leaf Variable that requires grad"):
        a[0].mul_(2)
    with pytest.raises(RuntimeError, match="view of a leaf Variable that requires grad"):
        a.view(4)[1:].view(3)[0:1].add_(1)  # through two views


def test_an_expanded_view_cannot_be_written():
    h = rb.ones(3, requires_grad=True) * 1
    with pytest.raises(RuntimeError, match="more than one element"):
        h.expand(2, 3).add_(1)


def test_gradcheck_through_an_inplace_op_on_a_view():
    def fn(a, b):
        h = a * 1.5
        h[1:, :2].mul_(b)  # b (2, 2) scales a block of h in place
        h.t()[0].sub_(b.sum())
        return h.sin()

    rng = np.random.default_rng(0)
    a = rb.tensor(rng.standard_normal((3, 3)), requires_grad=True)
    b = rb.tensor(rng.standard_normal((2, 2)), requires_grad=True)
    assert rb.autograd.gradcheck(fn, (a, b))


def test_a_view_of_an_untracked_base_joins_the_graph_the_base_joins():
    for lib in (rb, torch):
        base = lib.zeros(2, 3)
        row = base[1]
        weight = lib.ones(2, 3, requires_grad=True)
        base.add_(weight * 2)
        assert row.requires_grad
        np.testing.assert_array_equal(row.detach().numpy(), [2.0, 2.0, 2.0])
        row.sum().backward()
        np.testing.assert_array_equal(weight.grad.numpy(), [[0, 0, 0], [2, 2, 2]])


def test_many_short_lived_views_do_not_pile_up_on_the_base():
    h = rb.ones(100, requires_grad=True) * 1
    for i in range(100):
        h[i] * 1  # each view dies at once
    assert len(h._views) < 40
    h.mul_(2)
    assert h._views == []
