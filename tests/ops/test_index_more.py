"""index_add/index_copy/index_fill, take/take_along_dim, diagonal/diag_embed, select, argwhere,
isin and masked_scatter beyond the op table: errors, in-place variants, values and dtypes of
the non-differentiable ones, all against PyTorch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import rosenblatt as rb

RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 4))
MASK = RNG.random((3, 4)) < 0.5


def _both(array: np.ndarray) -> tuple:
    return rb.tensor(array), torch.tensor(array)


def _i(m, values, dtype=None):
    return m.tensor(values, dtype=getattr(m, dtype) if dtype else None)


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize("call, error, match", [
    # index_add
    (lambda m, x: x.index_add(0, _i(m, [0, 5]), m.ones(2, 4, dtype=x.dtype)), RuntimeError,
     r"index 5 is out of bounds for dimension 0 with size 3"),
    (lambda m, x: x.index_add(0, _i(m, [0, -1]), m.ones(2, 4, dtype=x.dtype)), RuntimeError,
     r"index -1 is out of bounds"),
    (lambda m, x: x.index_add(0, _i(m, [0.0, 1.0]), m.ones(2, 4, dtype=x.dtype)), RuntimeError,
     r"Expected dtype int32/int64 for index"),
    (lambda m, x: x.index_add(0, _i(m, [0, 1]), m.ones(3, 4, dtype=x.dtype)), RuntimeError,
     r"Number of indices \(2\) should be equal to source.size\(dim\): \(3\)"),
    (lambda m, x: x.index_add(0, _i(m, [0]), m.ones(1, 5, dtype=x.dtype)), RuntimeError,
     r"self.shape = \[3, 4\] source.shape = \[1, 5\]"),
    (lambda m, x: x.index_add(0, _i(m, [[0, 1]]), m.ones(2, 4, dtype=x.dtype)), IndexError,
     r"Index is supposed to be a vector"),
    (lambda m, x: x.index_add(0, _i(m, [0]), m.ones(1, 4, dtype=m.float32)), RuntimeError,
     r"must have the same scalar type"),
    (lambda m, x: x.index_add(2, _i(m, [0]), x), IndexError, r"Dimension out of range"),
    # index_copy
    (lambda m, x: x.index_copy(0, _i(m, [0, 5]), m.ones(2, 4, dtype=x.dtype)), IndexError,
     r"index 5 is out of bounds for dimension 0 with size 3"),
    (lambda m, x: x.index_copy(0, _i(m, [0, 1], "int32"), m.ones(2, 4, dtype=x.dtype)),
     RuntimeError, r"Expected a long tensor for index, but got Int"),
    (lambda m, x: x.index_copy(0, _i(m, [0, 1]), m.ones(3, 4, dtype=x.dtype)), IndexError,
     r"Number of indices \(2\) should be equal to source.size\(dim\) \(3\)"),
    (lambda m, x: x.index_copy(0, _i(m, [0]), m.ones(4, dtype=x.dtype)), IndexError,
     r"dimensionality must match"),
    (lambda m, x: x.index_copy(0, _i(m, [0]), m.ones(1, 5, dtype=x.dtype)), RuntimeError,
     r"same slice shapes"),
    (lambda m, x: x.index_copy(0, _i(m, [[0]]), m.ones(1, 4, dtype=x.dtype)), IndexError,
     r"Index should have dimension 1 or 0"),
    # index_fill
    (lambda m, x: x.index_fill(0, _i(m, [0, 5]), 1.0), IndexError,
     r"index 5 is out of bounds for dimension 0 with size 3"),
    (lambda m, x: x.index_fill(0, _i(m, [0, -4]), 1.0), IndexError, r"index -4 is out of"),
    (lambda m, x: x.index_fill(0, _i(m, [0, 1], "int32"), 1.0), IndexError,
     r"Expected dtype int64 for index"),
    (lambda m, x: x.index_fill(0, _i(m, [[0, 1]]), 1.0), RuntimeError,
     r"Index has to be a vector/scalar"),
    (lambda m, x: x.index_fill(0, _i(m, [0]), m.tensor([1.0])), RuntimeError,
     r"only supports a 0-dimensional value tensor"),
    # take / take_along_dim
    (lambda m, x: m.take(x, _i(m, [12])), IndexError,
     r"tried to access index 12 on a tensor of 12 elements"),
    (lambda m, x: m.take(x, _i(m, [-13])), IndexError, r"index -13"),
    (lambda m, x: m.take(x, _i(m, [1], "int32")), RuntimeError, r"Expected a long tensor"),
    (lambda m, x: m.take_along_dim(x, _i(m, [[0, -1]])), RuntimeError,
     r"index -1 is out of bounds for dimension 0 with size 12"),
    (lambda m, x: m.take_along_dim(x, _i(m, [0, 1]), 1), RuntimeError,
     r"same number of dimensions"),
    (lambda m, x: m.take_along_dim(x, _i(m, [[0, 1]], "int32"), 1), RuntimeError,
     r"dtype of indices should be Long but got Int"),
    (lambda m, x: m.take_along_dim(x, _i(m, [[0, 1]]), 0), RuntimeError,
     r"The size of tensor a \(4\) must match the size of tensor b \(2\) at non-singleton "
     r"dimension 1"),
    (lambda m, x: m.take_along_dim(x, _i(m, [[0, 1]]), 2), IndexError,
     r"Dimension out of range"),
    (lambda m, x: m.take_along_dim(x.sum(), _i(m, 0), 0), IndexError,
     r"Dimension specified as 0 but tensor has no dimensions"),
    # diagonal / diag_embed
    (lambda m, x: m.diagonal(x, 0, 1, 1), RuntimeError, r"diagonal dimensions cannot be identical"),
    (lambda m, x: m.diagonal(x[0]), IndexError, r"Dimension out of range"),
    (lambda m, x: m.diag_embed(x, 0, 0, 0), RuntimeError, r"cannot be identical"),
    (lambda m, x: m.diag_embed(x, 0, 0, 3), IndexError, r"Dimension out of range"),
    (lambda m, x: m.diag_embed(x.sum()), IndexError, r"Dimension out of range"),
    # select
    (lambda m, x: x.select(1, 4), IndexError,
     r"select\(\): index 4 out of range for tensor of size \[3, 4\] at dimension 1"),
    (lambda m, x: x.select(1, -5), IndexError, r"index -5 out of range"),
    (lambda m, x: x.select(2, 0), IndexError, r"Dimension out of range"),
    (lambda m, x: x.sum().select(0, 0), IndexError, r"cannot be applied to a 0-dim tensor"),
    # isin
    (lambda m, x: m.isin(x > 0, x), RuntimeError, r"Unsupported input type .* Bool"),
    (lambda m, x: m.isin(2, 2), TypeError, r"isin\(\)"),
    # masked_scatter
    (lambda m, x: x.masked_scatter(m.ones(3, 4, dtype=m.bool), m.zeros(11, dtype=x.dtype)),
     RuntimeError, r"Number of elements of source < number of ones in mask"),
    (lambda m, x: x.masked_scatter(m.ones(3, 4, dtype=m.int64), m.zeros(12, dtype=x.dtype)),
     RuntimeError, r"only supports boolean masks"),
    (lambda m, x: x.masked_scatter(m.ones(3, 4, dtype=m.bool), m.zeros(12, dtype=m.float32)),
     RuntimeError, r"expected self and source to have same dtypes"),
    (lambda m, x: x.masked_scatter(m.ones(2, 4, dtype=m.bool), m.zeros(12, dtype=x.dtype)),
     RuntimeError, r"\[2, 4\]"),
])
def test_errors_match_pytorch(call, error, match) -> None:
    """Both libraries refuse the same calls with the same error type; ours names the shapes."""
    for m in (rb, torch):
        with pytest.raises(error, match=match if m is rb else None):
            call(m, m.tensor(X))


# ------------------------------------------------------------------ in-place variants
@pytest.mark.parametrize("call", [
    lambda m, x: x.index_add_(1, _i(m, [0, 3, 0]), m.ones(3, 3, dtype=x.dtype), alpha=2),
    lambda m, x: x.index_copy_(0, _i(m, [2, 0]), m.ones(2, 4, dtype=x.dtype)),
    lambda m, x: x.index_fill_(1, _i(m, [1, -1]), -3.0),
    lambda m, x: x.index_fill_(0, _i(m, [1]), m.tensor(7.0, dtype=x.dtype)),
    lambda m, x: x.masked_scatter_(m.tensor(MASK), m.arange(12.0, dtype=x.dtype)),
    lambda m, x: x.masked_scatter_(m.tensor(MASK[0]), m.arange(12.0, dtype=x.dtype)),
])
def test_inplace_matches_pytorch(call) -> None:
    """x.op_(...) writes into x and returns x, with the out-of-place op's values."""
    ours, theirs = _both(X.copy())
    assert call(rb, ours) is ours
    call(torch, theirs)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("call", [
    lambda m, x, s: x.index_add_(1, _i(m, [0, 3, 0]), s, alpha=-1.5),
    lambda m, x, s: x.index_copy_(1, _i(m, [2, 0, 1]), s),
    lambda m, x, s: x.index_fill_(1, _i(m, [1, 1]), 0.5) * s.sum(),
    lambda m, x, s: x.masked_scatter_(m.tensor(MASK), s),
])
def test_inplace_gradients_match_pytorch(call) -> None:
    """In-place on a non-leaf: gradients reach both the original tensor and the source."""
    grads, source = [], np.random.default_rng(1).standard_normal((3, 3))
    for m in (rb, torch):
        leaf = m.tensor(X, requires_grad=True)
        s = m.tensor(source, requires_grad=True)
        out = call(m, leaf * 1.0, s)
        (out * m.tensor(np.arange(12.0).reshape(3, 4))).sum().backward()
        grads.append((leaf.grad.numpy(), s.grad.numpy()))
    for ours, theirs in zip(*grads):
        np.testing.assert_allclose(ours, theirs)


def test_inplace_on_leaf_requiring_grad_is_refused() -> None:
    x = rb.tensor(X, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable"):
        x.index_fill_(0, rb.tensor([0]), 1.0)


def test_select_is_a_view() -> None:
    """Like PyTorch, select shares memory: a write through it reaches the tensor."""
    ours, theirs = _both(X.copy())
    ours.select(1, 2)[0] = 9.0
    theirs.select(1, 2)[0] = 9.0
    np.testing.assert_allclose(ours.numpy(), theirs.numpy())


# ------------------------------------------------------------------ values and dtypes
@pytest.mark.parametrize("elements, test, kw", [
    ([1, 2, 3, 4], [2, 4, 9], {}),
    ([1, 2, 3, 4], [2, 4, 9], {"invert": True}),
    ([[1, 5], [3, 1]], [[1], [3]], {}),
    ([1, 2, 3], [2.0, 5.5], {}),
    ([1.5, 2.0, float("nan")], [2, float("nan")], {}),
    ([1, 2, 3], [3, 1], {"assume_unique": True}),
    ([1, 2, 3], [], {}),
    ([], [1], {}),
    (4, [1, 4], {}),
    (2.5, [1, 2, 3], {}),
    ([1.5, 2.0], 2, {}),
    ([1, 2], 2, {"invert": True}),
])
def test_isin_matches_pytorch(elements, test, kw) -> None:
    def run(m):
        e = m.tensor(elements) if isinstance(elements, list) else elements
        t = m.tensor(test) if isinstance(test, list) else test
        if isinstance(test, list) and not test:
            t = m.tensor(test, dtype=m.int64)
        return m.isin(e, t, **kw)

    ours, theirs = run(rb), run(torch)
    assert ours.dtype is rb.bool and theirs.dtype is torch.bool
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours.tolist() == theirs.tolist()
    assert not ours.requires_grad


def test_isin_is_not_a_tensor_method() -> None:
    assert hasattr(rb.Tensor, "isin") == hasattr(torch.Tensor, "isin")


@pytest.mark.parametrize("values", [
    [[1.0, 0.0], [0.0, 2.0]], [[True, False], [True, True]], [0, 0, 3], 1.0, 0.0, [[]],
    np.zeros((2, 0, 3)).tolist(), [[[0, 1], [2, 0]], [[0, 0], [0, 5]]],
])
def test_argwhere_matches_pytorch(values) -> None:
    ours, theirs = rb.argwhere(rb.tensor(values)), torch.argwhere(torch.tensor(values))
    assert ours.dtype is rb.int64
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours.tolist() == theirs.tolist()
    x = rb.tensor(values, dtype=rb.float64, requires_grad=True)
    assert not rb.argwhere(x).requires_grad


@pytest.mark.parametrize("call", [
    lambda m: m.arange(4).index_fill(0, m.tensor([0, 1]), 2.5),
    lambda m: m.arange(4).index_fill(0, m.tensor([0, 1]), m.tensor(2.5)),
    lambda m: m.arange(4).index_add(0, m.tensor([0, 0]), m.tensor([2, 3]), alpha=2),
    lambda m: m.arange(4).index_add(0, m.tensor([1], dtype=m.int32), m.tensor([5])),
    lambda m: m.arange(4).index_copy(0, m.tensor([3]), m.tensor([9])),
    lambda m: m.arange(6).reshape(2, 3).take(m.tensor([[5, 0]])),
    lambda m: m.arange(6).reshape(2, 3).take_along_dim(m.tensor([[2], [0]]), 1),
    lambda m: m.arange(9).reshape(3, 3).diagonal(-1),
    lambda m: m.arange(3).diag_embed(1),
    lambda m: m.tensor([True, False]).diag_embed(),
    lambda m: m.arange(6).reshape(2, 3).select(1, 1),
    lambda m: m.arange(4).masked_scatter(m.tensor([True, False, True, False]),
                                         m.tensor([7, 8, 9])),
    lambda m: m.ones(2, 2, dtype=m.float32).index_add(1, m.tensor([1]),
                                                      m.ones(2, 1, dtype=m.float32)),
    lambda m: m.ones(2, 2, dtype=m.float32).index_fill(1, m.tensor([1]), 3),
])
def test_dtypes_and_values_match_pytorch(call) -> None:
    """Integer, bool and float32 tensors keep their dtype, with PyTorch's values."""
    ours, theirs = call(rb), call(torch)
    assert ours.dtype.name == str(theirs.dtype).removeprefix("torch.")
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours.tolist() == theirs.tolist()


def test_repeated_indices_accumulate_gradients() -> None:
    """index_add, take and take_along_dim read/write a repeated index once per copy."""
    for m in (rb, torch):
        x = m.zeros(3, dtype=m.float64, requires_grad=True)
        s = m.ones(4, dtype=m.float64, requires_grad=True)
        out = x.index_add(0, m.tensor([1, 1, 1, 2]), s, alpha=3)
        assert out.tolist() == [0.0, 9.0, 3.0]
        (m.take(out, m.tensor([1, 1, 2])) * m.tensor([1.0, 2.0, 5.0], dtype=m.float64)).sum(
        ).backward()
        assert x.grad.tolist() == [0.0, 3.0, 5.0]
        assert s.grad.tolist() == [9.0, 9.0, 9.0, 15.0]


def test_index_fill_value_gradient_counts_each_position_once() -> None:
    """A repeated index fills the same slice: the value's gradient sums it once."""
    grads = []
    for m, index in ((rb, [0, 0, -1, 3]), (rb, [0, 0, 3]), (torch, [0, 0, 3])):
        # (PyTorch's backward rejects a negative index here; ours reads -1 and 3 as one place)
        v = m.tensor(2.0, dtype=m.float64, requires_grad=True)
        x = m.ones(3, 4, dtype=m.float64, requires_grad=True)
        x.index_fill(1, m.tensor(index), v).sum().backward()
        grads.append((v.grad.item(), x.grad.tolist()))
    assert grads[0] == grads[1] == grads[2] == (6.0, [[0.0, 1.0, 1.0, 0.0]] * 3)


def test_take_along_dim_refuses_out_of_range_indices() -> None:
    """Deliberate difference: PyTorch 2.13 (CPU) silently reads index % size along dim; an
    index outside [-size, size) is an error here, as in gather."""
    with pytest.raises(RuntimeError, match="index 4 is out of bounds for dimension 1 with size 4"):
        rb.take_along_dim(rb.tensor(X), rb.tensor([[0, 4]]), 1)
    with pytest.raises(RuntimeError, match="index -5 is out of bounds"):
        rb.take_along_dim(rb.tensor(X), rb.tensor([[0, -5]]), 1)


def test_diag_embed_inverts_diagonal() -> None:
    x = rb.tensor(RNG.standard_normal((2, 3)))
    for offset, d1, d2 in [(0, -2, -1), (1, 0, 2), (-2, 2, 0)]:
        back = rb.diag_embed(x, offset, d1, d2).diagonal(offset, d1, d2)
        np.testing.assert_array_equal(back.numpy(), x.numpy())
