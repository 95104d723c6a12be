"""finfo/iinfo, set_printoptions, compile, meshgrid, unique, searchsorted, bucketize and
histc against PyTorch."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

import rosenblatt as rb

RNG = np.random.default_rng(0)
FLOATS = ["float16", "float32", "float64"]
INTS = ["uint8", "int8", "int16", "int32", "int64"]


def _pair(array: np.ndarray, requires_grad: bool = False) -> tuple[rb.Tensor, torch.Tensor]:
    return (rb.tensor(array, requires_grad=requires_grad),
            torch.tensor(array, requires_grad=requires_grad))


def _same(ours: rb.Tensor, theirs: torch.Tensor) -> None:
    assert ours.dtype.name == str(theirs.dtype).removeprefix("torch.")
    assert ours.requires_grad == theirs.requires_grad
    np.testing.assert_array_equal(ours.detach().numpy(), theirs.detach().numpy())


# ---------------------------------------------------------------- finfo / iinfo
@pytest.mark.parametrize("name", FLOATS)
def test_finfo_matches_pytorch(name):
    ours, theirs = rb.finfo(getattr(rb, name)), torch.finfo(getattr(torch, name))
    for field in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype"):
        assert getattr(ours, field) == getattr(theirs, field), field
    assert repr(ours) == repr(theirs)


def test_finfo_defaults_to_the_default_dtype():
    rb.set_default_dtype(rb.float64)
    try:
        assert rb.finfo().dtype == "float64"
    finally:
        rb.set_default_dtype(rb.float32)
    assert rb.finfo().eps == torch.finfo().eps


@pytest.mark.parametrize("name", INTS)
def test_iinfo_matches_pytorch(name):
    ours, theirs = rb.iinfo(getattr(rb, name)), torch.iinfo(getattr(torch, name))
    assert (ours.bits, ours.max, ours.min, ours.dtype) == (
        theirs.bits, theirs.max, theirs.min, theirs.dtype)
    assert repr(ours) == repr(theirs)


def test_info_rejects_the_wrong_kind_of_dtype():
    with pytest.raises(TypeError):
        rb.finfo(rb.int32)
    with pytest.raises(TypeError):
        rb.iinfo(rb.float32)
    with pytest.raises(TypeError, match="bool"):
        rb.iinfo(rb.bool)


# ------------------------------------------------------------- set_printoptions
@pytest.fixture
def printoptions():
    """Both libraries' print options, restored afterwards."""
    yield
    rb.set_printoptions(profile="default")
    torch.set_printoptions(profile="default")


def _same_repr(array: np.ndarray) -> None:
    theirs = str(torch.from_numpy(array.copy())).replace("torch.", "rosenblatt.")
    assert repr(rb.from_numpy(array.copy())) == theirs


PRINT_CASES = [
    {"precision": 2},
    {"precision": 7},
    {"threshold": 5},
    {"threshold": 5, "edgeitems": 1},
    {"linewidth": 30},
    {"sci_mode": True},
    {"sci_mode": False},
    {"profile": "short"},
    {"profile": "full"},
    {"profile": "short", "precision": 6},
]


@pytest.mark.parametrize("options", PRINT_CASES, ids=str)
def test_printoptions_match_pytorch(options, printoptions):
    rb.set_printoptions(**options)
    torch.set_printoptions(**options)
    _same_repr(RNG.standard_normal((4, 9)).astype(np.float32))
    _same_repr(np.array([1e-5, 1.0, 1e5], np.float32))
    _same_repr(np.arange(1200, dtype=np.int64))
    _same_repr(np.arange(12, dtype=np.float32).reshape(3, 4))  # no dtype suffix: its name differs


def test_default_profile_restores_the_defaults(printoptions):
    before = repr(rb.arange(2000.0) / 3)
    rb.set_printoptions(precision=1, threshold=10, edgeitems=1, linewidth=20, sci_mode=True)
    assert repr(rb.arange(2000.0) / 3) != before
    rb.set_printoptions(profile="default")
    assert repr(rb.arange(2000.0) / 3) == before


# --------------------------------------------------------------------- compile
def test_compile_wraps_a_module_and_returns_a_function_unchanged():
    model = rb.nn.Linear(3, 2)
    assert rb.compile(model)._orig_mod is model  # (plans: tests/test_compile.py)
    assert rb.compile(model, mode="max-autotune", fullgraph=True, dynamic=True)._orig_mod is model

    def step(x):
        return x * 2

    assert rb.compile(step, backend="eager") is step


def test_compile_as_a_decorator_with_and_without_arguments():
    @rb.compile
    def double(x):
        return x * 2

    @rb.compile(mode="reduce-overhead", disable=True)
    def triple(x):
        return x * 3

    assert double(rb.tensor(2.0)).item() == 4.0
    assert triple(rb.tensor(2.0)).item() == 6.0
    assert double.__name__ == "double" and triple.__name__ == "triple"


def test_compile_errors_as_pytorch():
    with pytest.raises(RuntimeError, match="mode or options"):
        rb.compile(lambda x: x, mode="default", options={})
    with pytest.raises(AssertionError, match="callable"):
        rb.compile(3)


# -------------------------------------------------------------------- meshgrid
@pytest.mark.parametrize("indexing", ["ij", "xy"])
@pytest.mark.parametrize("sizes", [(3,), (3, 2), (2, 4, 3), (0, 2)])
def test_meshgrid_values_and_gradients_match_pytorch(indexing, sizes):
    arrays = [RNG.standard_normal(n) for n in sizes]
    ours = [rb.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    grids = rb.meshgrid(*ours, indexing=indexing)
    expected = torch.meshgrid(*theirs, indexing=indexing)
    weights = [RNG.standard_normal(tuple(g.shape)) for g in expected]
    for g, e in zip(grids, expected):
        assert tuple(g.shape) == tuple(e.shape)
        np.testing.assert_array_equal(g.detach().numpy(), e.detach().numpy())
    sum((g * rb.tensor(w)).sum() for g, w in zip(grids, weights)).backward()
    sum((e * torch.tensor(w)).sum() for e, w in zip(expected, weights)).backward()
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), atol=1e-12)


def test_meshgrid_gradcheck_and_list_argument():
    x = rb.tensor(RNG.standard_normal(3), requires_grad=True)
    y = rb.tensor(RNG.standard_normal(2), requires_grad=True)
    assert rb.autograd.gradcheck(lambda a, b: rb.meshgrid(a, b, indexing="xy"), (x, y))
    assert [tuple(g.shape) for g in rb.meshgrid([x, rb.tensor(1.0).double()], indexing="ij")] == [
        (3, 1), (3, 1)]


def test_meshgrid_without_indexing_warns_and_uses_ij():
    with pytest.warns(UserWarning, match="indexing argument"):
        grids = rb.meshgrid(rb.arange(3), rb.arange(2))
    assert tuple(grids[0].shape) == (3, 2)
    with pytest.raises(RuntimeError, match="indexing"):
        rb.meshgrid(rb.arange(3), indexing="yx")
    with pytest.raises(RuntimeError, match="0D or 1D"):
        rb.meshgrid(rb.zeros(2, 2), indexing="ij")


# ---------------------------------------------------------------------- unique
@pytest.mark.parametrize("dim", [None, 0, 1])
@pytest.mark.parametrize("flags", [(False, False), (True, False), (False, True), (True, True)])
def test_unique_matches_pytorch(dim, flags):
    array = RNG.integers(0, 3, (6, 2)).astype(np.float64)
    ours, theirs = _pair(array, requires_grad=True)
    got = rb.unique(ours, sorted=True, return_inverse=flags[0], return_counts=flags[1], dim=dim)
    want = torch.unique(theirs, sorted=True, return_inverse=flags[0], return_counts=flags[1],
                        dim=dim)
    got, want = (got, want) if isinstance(want, tuple) else ((got,), (want,))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        _same(g, w)


def test_unique_method_integers_and_no_derivative():
    ours, theirs = _pair(np.array([3, 1, 2, 3, 1]))
    _same(ours.unique(), theirs.unique())
    x = rb.tensor([2.0, 1.0, 2.0], requires_grad=True)
    with pytest.raises(NotImplementedError, match="derivative"):
        rb.unique(x).sum().backward()


# ------------------------------------------------------- searchsorted / bucketize
@pytest.mark.parametrize("right", [False, True])
@pytest.mark.parametrize("out_int32", [False, True])
def test_searchsorted_and_bucketize_match_pytorch(right, out_int32):
    seq = np.sort(RNG.integers(0, 10, (3, 6)).astype(np.float64), axis=-1)
    values = RNG.integers(-1, 11, (3, 4)).astype(np.float64)  # with ties and out of range
    (s, ts), (v, tv) = _pair(seq), _pair(values, requires_grad=True)
    _same(rb.searchsorted(s, v, right=right, out_int32=out_int32),
          torch.searchsorted(ts, tv, right=right, out_int32=out_int32))
    _same(rb.searchsorted(s[0], v, side="right" if right else "left"),
          torch.searchsorted(ts[0], tv, side="right" if right else "left"))
    _same(rb.bucketize(v, s[1], right=right, out_int32=out_int32),
          torch.bucketize(tv, ts[1], right=right, out_int32=out_int32))
    _same(rb.searchsorted(s[0], 4.0, right=right), torch.searchsorted(ts[0], 4.0, right=right))


def test_searchsorted_sorter_and_errors():
    (s, ts), (v, tv) = _pair(np.array([5.0, 1.0, 3.0])), _pair(np.array([0.0, 3.0, 6.0]))
    (order, torder) = _pair(np.array([1, 2, 0]))
    _same(rb.searchsorted(s, v, sorter=order), torch.searchsorted(ts, tv, sorter=torder))
    with pytest.raises(RuntimeError, match="opposites"):
        rb.searchsorted(s, v, side="left", right=True)
    with pytest.raises(RuntimeError, match="1 dimension"):
        rb.bucketize(v, rb.zeros(2, 2))
    with pytest.raises(RuntimeError, match="dimensions"):
        rb.searchsorted(rb.zeros(2, 3), rb.zeros(3, 1))


# ----------------------------------------------------------------------- histc
@pytest.mark.parametrize("bins, lo, hi", [(4, 0, 3), (10, 0, 0), (7, -1.0, 0.5), (3, 2, 2)])
def test_histc_matches_pytorch(bins, lo, hi):
    ours, theirs = _pair(RNG.standard_normal(50), requires_grad=True)
    _same(rb.histc(ours, bins=bins, min=lo, max=hi), torch.histc(theirs, bins=bins, min=lo, max=hi))
    _same(ours.histc(5), theirs.histc(5))


def test_histc_of_one_value_and_errors():
    ours, theirs = _pair(np.array([1.0, 1.0], np.float32))
    _same(rb.histc(ours, bins=4), torch.histc(theirs, bins=4))
    with pytest.raises(NotImplementedError):
        rb.histc(rb.tensor([1, 2]))


def test_printing_grad_fn_of_unique_is_shown():
    # unique keeps its input in the graph, as PyTorch's does
    x = rb.tensor([2.0, 1.0], requires_grad=True)
    assert re.search(r"grad_fn=<\w+>", repr(rb.unique(x)))
