"""Shape additions beyond the op table: errors, integer dtypes, calling forms, edge cases.

Each check runs the same call in rosenblatt and PyTorch where PyTorch defines the answer.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import rosenblatt as rb


def _both(array: np.ndarray) -> tuple:
    return rb.tensor(array), torch.tensor(array)


def _same(ours, theirs) -> None:
    assert ours.dtype.name == str(theirs.dtype).removeprefix("torch.")
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


# ------------------------------------------------------------------------- errors
M = np.arange(6.0).reshape(2, 3)
V = np.arange(3.0)
CUBE = np.zeros((2, 2, 2))

ERRORS = [
    ("hstack_empty", lambda m, v: m.hstack([]), V, RuntimeError, "hstack expects a non-empty"),
    ("vstack_empty", lambda m, v: m.vstack([]), V, RuntimeError, "vstack expects a non-empty"),
    ("dstack_empty", lambda m, v: m.dstack(()), V, RuntimeError, "dstack expects a non-empty"),
    ("column_stack_empty", lambda m, v: m.column_stack([]), V, RuntimeError,
     "column_stack expects a non-empty"),
    ("hstack_bare_tensor", lambda m, v: m.hstack(v), V, TypeError, "must be tuple of Tensors"),
    ("vstack_mismatch", lambda m, v: m.vstack([v, m.cat([v, v])]), V, RuntimeError,
     "must match except in dimension 0"),
    ("column_stack_mismatch", lambda m, v: m.column_stack([v, v[:2]]), V, RuntimeError,
     "must match except in dimension 1"),
    ("rot90_1d", lambda m, v: m.rot90(v), V, RuntimeError,
     "expected total dims >= 2, but got total dims = 1"),
    ("rot90_three_dims", lambda m, v: m.rot90(v, 1, [0, 1, 0]), M, RuntimeError,
     "expected total rotation dims == 2, but got dims = 3"),
    ("rot90_same_dims", lambda m, v: m.rot90(v, 1, [1, 1]), M, RuntimeError,
     "expected rotation dims to be different, but got dim0 = 1 and dim1 = 1"),
    ("rot90_same_dims_wrapped", lambda m, v: m.rot90(v, 1, [0, -2]), M, RuntimeError,
     "rotation dims to be different, but got dim0 = 0 and dim1 = -2"),
    ("rot90_dim_range", lambda m, v: m.rot90(v, 1, [0, 5]), M, IndexError,
     "Dimension out of range"),
    ("fliplr_1d", lambda m, v: m.fliplr(v), V, RuntimeError, "Input must be >= 2-d."),
    ("flipud_0d", lambda m, v: m.flipud(v[0]), V, RuntimeError, "Input must be >= 1-d."),
    ("block_diag_3d", lambda m, v: m.block_diag(v), CUBE, RuntimeError,
     "Input tensors must have 2 or fewer dimensions. Input 0 has 3 dimensions"),
    ("cartesian_prod_2d", lambda m, v: m.cartesian_prod(v, v), M, RuntimeError,
     r"Expect a 1D vector, but got shape \[2, 3\]"),
    ("cartesian_prod_none", lambda m, v: m.cartesian_prod(), V, RuntimeError,
     "expects a non-empty TensorList"),
    ("cartesian_prod_dtypes", lambda m, v: m.cartesian_prod(v, v.long()), V, RuntimeError,
     "same dtype"),
    ("combinations_2d", lambda m, v: m.combinations(v), M, RuntimeError,
     r"Expect a 1D vector, but got shape \[2, 3\]"),
    ("combinations_0d", lambda m, v: m.combinations(v[0]), V, RuntimeError,
     r"Expect a 1D vector, but got shape \[\]"),
    ("combinations_negative_r", lambda m, v: m.combinations(v, -1), V, RuntimeError,
     "Expect a non-negative number, but got -1"),
    ("trace_1d", lambda m, v: v.trace(), V, RuntimeError,
     "trace: expected a matrix, but got tensor with dim 1"),
    ("trace_3d", lambda m, v: v.trace(), CUBE, RuntimeError, "expected a matrix"),
]


@pytest.mark.parametrize("call, array, error, match", [e[1:] for e in ERRORS],
                         ids=[e[0] for e in ERRORS])
def test_errors_match_torch(call, array, error, match):
    ours, theirs = _both(array)
    with pytest.raises(error, match=match):
        call(rb, ours)
    with pytest.raises(error):
        call(torch, theirs)


# -------------------------------------------------------------------- integer dtypes
INT_CALLS = [
    ("hstack", lambda m, a, b: m.hstack([a, b])),
    ("vstack", lambda m, a, b: m.vstack([a, b])),
    ("dstack", lambda m, a, b: m.dstack([a, b])),
    ("column_stack", lambda m, a, b: m.column_stack([a, b])),
    ("rot90", lambda m, a, b: m.rot90(a, -1)),
    ("fliplr", lambda m, a, b: m.fliplr(a)),
    ("flipud", lambda m, a, b: b.flipud()),
    ("block_diag", lambda m, a, b: m.block_diag(a, b)),
    ("block_diag_mixed", lambda m, a, b: m.block_diag(a, b.double())),
    ("block_diag_bool", lambda m, a, b: m.block_diag(a > 2, b > 1)),
    ("cartesian_prod", lambda m, a, b: m.cartesian_prod(a[0], a[1][:2])),
    ("combinations", lambda m, a, b: m.combinations(a[1], 3)),
    ("combinations_replacement", lambda m, a, b: m.combinations(a[0], with_replacement=True)),
    ("trace_int32", lambda m, a, b: a.trace()),
    ("trace_int16", lambda m, a, b: m.tensor([[1, 2], [3, 4]], dtype=m.int16).trace()),
    ("hstack_promotes", lambda m, a, b: m.hstack([a, b.float()])),
]


@pytest.mark.parametrize("call", [c[1] for c in INT_CALLS], ids=[c[0] for c in INT_CALLS])
def test_integer_dtypes_match_torch(call):
    a = np.arange(12, dtype=np.int32).reshape(3, 4)
    b = np.arange(12, dtype=np.int64).reshape(3, 4) - 5
    outs = [call(m, m.tensor(a), m.tensor(b)) for m in (rb, torch)]
    _same(*outs)


# ------------------------------------------------------------------- atleast_*d
@pytest.mark.parametrize("name", ["atleast_1d", "atleast_2d", "atleast_3d"])
@pytest.mark.parametrize("shape", [(), (1,), (4,), (2, 3), (2, 3, 4), (1, 2, 3, 4)])
def test_atleast_shapes_match_torch(name, shape):
    array = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape)
    ours, theirs = getattr(rb, name)(rb.tensor(array)), getattr(torch, name)(torch.tensor(array))
    _same(ours, theirs)


@pytest.mark.parametrize("name", ["atleast_1d", "atleast_2d", "atleast_3d"])
def test_atleast_calling_forms(name):
    fn = getattr(rb, name)
    a, b = rb.tensor(1.0), rb.arange(3)
    assert isinstance(fn(a), rb.Tensor)
    for out in (fn(a, b), fn([a, b]), fn((a, b))):
        assert isinstance(out, tuple) and len(out) == 2
        ref = getattr(torch, name)(torch.tensor(1.0), torch.arange(3))
        for o, r in zip(out, ref):
            _same(o, r)
    assert fn() == () and fn([]) == ()
    single = fn([b])
    assert isinstance(single, tuple) and len(single) == 1


def test_atleast_returns_input_when_already_enough_dims():
    x = rb.ones(2, 3, 4)
    assert rb.atleast_1d(x) is x and rb.atleast_2d(x) is x and rb.atleast_3d(x) is x


def test_atleast_keeps_gradients():
    x = rb.tensor(2.0, requires_grad=True)
    (rb.atleast_3d(x) * 3).sum().backward()
    assert x.grad.item() == 3.0 and x.grad.shape == ()


# ------------------------------------------------------------------------ rot90
@pytest.mark.parametrize("k", [-7, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 8])
@pytest.mark.parametrize("dims", [(0, 1), (1, 0), (-1, 0), (2, -2)])
def test_rot90_all_k_match_torch(k, dims):
    array = np.arange(24.0).reshape(2, 3, 4)
    _same(rb.rot90(rb.tensor(array), k, dims), torch.rot90(torch.tensor(array), k, dims))


def test_rot90_k4_is_a_copy_with_gradient():
    x = rb.randn(3, 2, requires_grad=True)
    for k in (0, 4, -4):
        y = rb.rot90(x, k)
        assert y is not x and np.array_equal(y.detach().numpy(), x.detach().numpy())
        assert not np.shares_memory(y.detach().numpy(), x.detach().numpy())
    (rb.rot90(x, 4) * 2).sum().backward()
    assert np.array_equal(x.grad.numpy(), np.full((3, 2), 2.0))


def test_rot90_inverse_and_method():
    x = rb.randn(3, 4)
    assert np.array_equal(x.rot90().rot90(-1).numpy(), x.numpy())
    assert np.array_equal(x.rot90(2).numpy(), x.flip(0, 1).numpy())
    assert np.array_equal(rb.rot90(x, 1, (1, 0)).numpy(), rb.rot90(x, -1).numpy())


# ---------------------------------------------------------- block_diag, products
def test_block_diag_empty_calls_match_torch():
    _same(rb.block_diag(), torch.block_diag())
    _same(rb.block_diag(rb.zeros(0, 2), rb.zeros(2, 0)),
          torch.block_diag(torch.zeros(0, 2), torch.zeros(2, 0)))


def test_block_diag_gradient_skips_integer_blocks():
    x = rb.randn(2, 2, requires_grad=True)
    out = rb.block_diag(rb.tensor([[1, 2]]), x)
    assert out.dtype is rb.float32 and tuple(out.shape) == (3, 4)
    out.sum().backward()
    assert np.array_equal(x.grad.numpy(), np.ones((2, 2), np.float32))


def test_combinations_small_cases_match_torch():
    for n in (0, 1, 2, 5):
        for r in (0, 1, 2, 3, 6):
            for rep in (False, True):
                ours = rb.combinations(rb.arange(float(n)), r, rep)
                theirs = torch.combinations(torch.arange(float(n)), r, rep)
                _same(ours, theirs)


def test_combinations_repeated_elements_accumulate_gradients():
    x = rb.tensor([1.0, 2.0, 3.0], requires_grad=True)
    rb.combinations(x, 2, with_replacement=True).sum().backward()
    t = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    torch.combinations(t, 2, with_replacement=True).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), t.grad.numpy())


def test_cartesian_prod_single_input_is_returned():
    x = rb.arange(3.0)
    assert rb.cartesian_prod(x) is x


# ------------------------------------------------------------- clone, detach, trace
def test_clone_and_detach_functions():
    x = rb.tensor([1.0, 2.0], requires_grad=True)
    c = rb.clone(x, memory_format=None)
    assert c.requires_grad and not np.shares_memory(c.detach().numpy(), x.detach().numpy())
    d = rb.detach(x)
    assert not d.requires_grad and np.shares_memory(d.numpy(), x.detach().numpy())
    (c * 3).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_trace_values_and_gradient_match_torch():
    array = np.arange(12.0).reshape(4, 3)
    ours, theirs = rb.tensor(array, requires_grad=True), torch.tensor(array, requires_grad=True)
    _same(ours.trace().detach(), theirs.trace().detach())
    ours.trace().backward()
    theirs.trace().backward()
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())
    _same(rb.zeros(0, 3).trace(), torch.zeros(0, 3).trace())


def test_methods_exist_where_torch_has_them():
    for name in ("rot90", "fliplr", "flipud", "trace", "clone", "detach"):
        assert hasattr(torch.Tensor, name) and hasattr(rb.Tensor, name), name
    for name in ("hstack", "vstack", "row_stack", "dstack", "column_stack", "atleast_1d",
                 "atleast_2d", "atleast_3d", "rot90", "fliplr", "flipud", "block_diag",
                 "cartesian_prod", "combinations", "clone", "detach"):
        assert callable(getattr(rb, name)), name
