"""The reductions added beside the op table (median, mode, kthvalue, cummax, quantile, ...):
what op_specs cannot express - ties, nan, integer dtypes, errors and empty inputs - each
checked against PyTorch itself."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import rosenblatt as rb

NAN = float("nan")


def _both(array: np.ndarray, requires_grad: bool = False) -> tuple:
    """The same values as a rosenblatt and a torch tensor."""
    ours = rb.tensor(array)
    theirs = torch.tensor(array)
    if requires_grad:
        ours.requires_grad_(True)
        theirs.requires_grad_(True)
    return ours, theirs


def _same(ours, theirs) -> None:
    """Equal values (nan matching nan), dtypes and shapes, output by output."""
    ours = list(ours) if isinstance(ours, tuple) else [ours]
    theirs = list(theirs) if isinstance(theirs, tuple) else [theirs]
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert a.dtype.name == str(b.dtype).removeprefix("torch.")
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-6,
                                   atol=1e-12, equal_nan=True)


def _tied(seed: int, shape: tuple, high: int = 3, nan: bool = False) -> np.ndarray:
    """Small integers as floats: many ties; optionally some nan."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, high, shape).astype(np.float64)
    if nan:
        x[rng.random(shape) < 0.2] = np.nan
    return x


# ------------------------------------------------------------------ ties and nan
@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("nan", [False, True])
def test_median_ties_and_nan_match_torch(seed: int, nan: bool) -> None:
    """Lower middle value; among equal values the index torch picks; nan -> first nan."""
    x = _tied(seed, (4, 2 + seed % 6), nan=nan)
    ours, theirs = _both(x)
    for dim in (0, 1, -1):
        _same(rb.median(ours, dim), torch.median(theirs, dim))
        _same(ours.nanmedian(dim, keepdim=True), theirs.nanmedian(dim, keepdim=True))
    _same(rb.median(ours), torch.median(theirs))
    _same(rb.nanmedian(ours), torch.nanmedian(theirs))


def test_median_is_lower_middle() -> None:
    x = rb.tensor([4.0, 1.0, 3.0, 2.0])
    assert rb.median(x).item() == 2.0
    assert x.median(0).values.item() == 2.0 and x.median(0).indices.item() == 3


@pytest.mark.parametrize("fn", ["median", "nanmedian"])
def test_median_all_gradient_shared_by_ties(fn: str) -> None:
    """median() spreads the gradient over every element equal to the result (as torch)."""
    x = np.array([[1.0, 2.0, 2.0], [0.0, 2.0, NAN]])
    for data in (x, np.nan_to_num(x, nan=5.0)):
        ours, theirs = _both(data, requires_grad=True)
        getattr(rb, fn)(ours).backward()
        getattr(torch, fn)(theirs).backward()
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy())


def test_median_dim_gradient_goes_to_index_on_ties() -> None:
    x = _tied(3, (3, 6))
    ours, theirs = _both(x, requires_grad=True)
    (rb.median(ours, 1).values * rb.tensor([1.0, 2.0, 3.0])).sum().backward()
    (torch.median(theirs, 1).values * torch.tensor([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())


@pytest.mark.parametrize("seed", range(20))
def test_mode_ties_match_torch(seed: int) -> None:
    """The smallest of the most frequent values, at its last index."""
    x = _tied(seed, (3, 1 + seed % 9), high=1 + seed % 4)
    ours, theirs = _both(x)
    for dim in (0, -1):
        _same(rb.mode(ours, dim), torch.mode(theirs, dim))
    ints = x.astype(np.int64)
    _same(rb.tensor(ints).mode(), torch.tensor(ints).mode())


def test_mode_gradient_goes_to_index() -> None:
    ours, theirs = _both(np.array([1.0, 2.0, 2.0, 0.0, 2.0]), requires_grad=True)
    rb.mode(ours).values.backward()
    torch.mode(theirs).values.backward()
    assert ours.grad.tolist() == theirs.grad.tolist() == [0.0, 0.0, 0.0, 0.0, 1.0]


@pytest.mark.parametrize("seed", range(30))
def test_kthvalue_ties_and_nan_match_torch(seed: int) -> None:
    """The index among equal values is the one torch's quickselect lands on; nan is largest."""
    x = _tied(seed, (3, 1 + seed % 13), nan=seed % 2 == 1)
    ours, theirs = _both(x)
    for k in range(1, x.shape[1] + 1):
        _same(rb.kthvalue(ours, k), torch.kthvalue(theirs, k))
    _same(ours.kthvalue(2, 0, keepdim=True), theirs.kthvalue(2, 0, keepdim=True))


@pytest.mark.parametrize("seed", range(20))
@pytest.mark.parametrize("fn", ["cummax", "cummin"])
def test_cummax_cummin_ties_and_nan_match_torch(seed: int, fn: str) -> None:
    """Ties move the index to the latest occurrence; nan sticks and each nan is the index."""
    x = _tied(seed, (3, 2 + seed % 7), nan=seed % 2 == 1)
    ours, theirs = _both(x, requires_grad=True)
    for dim in (0, 1):
        _same(getattr(rb, fn)(ours, dim), getattr(torch, fn)(theirs, dim))
    # the gradient goes to the indices (accumulating where an index repeats)
    v = np.random.default_rng(seed).standard_normal(x.shape)
    (getattr(ours, fn)(1).values * rb.tensor(v)).sum().backward()
    (getattr(theirs, fn)(1).values * torch.tensor(v)).sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy())


def test_cummax_integer_and_zero_dim() -> None:
    ints = np.array([[3, 1, 3, 5], [0, 0, -1, 2]])
    _same(rb.cummax(rb.tensor(ints), 1), torch.cummax(torch.tensor(ints), 1))
    _same(rb.cummin(rb.tensor(ints), 0), torch.cummin(torch.tensor(ints), 0))
    _same(rb.cummax(rb.tensor(2.5), 0), torch.cummax(torch.tensor(2.5), 0))
    _same(rb.cummax(rb.tensor(True), -1), torch.cummax(torch.tensor(True), -1))


# ------------------------------------------------------------------ nan-aware ops
def test_nansum_nanmean_values_and_dtypes() -> None:
    x = np.array([[1.0, NAN, 3.0], [NAN, NAN, NAN]])
    ours, theirs = _both(x)
    _same(rb.nansum(ours), torch.nansum(theirs))
    _same(rb.nansum(ours, 1), torch.nansum(theirs, 1))
    _same(rb.nanmean(ours, 1), torch.nanmean(theirs, 1))  # an all-nan row -> nan
    _same(ours.nanmean(dtype=rb.float32), theirs.nanmean(dtype=torch.float32))
    for ints in (np.array([[1, 2], [3, 4]], np.int32), np.array([True, False, True])):
        _same(rb.tensor(ints).nansum(), torch.tensor(ints).nansum())  # int64, as sum
    _same(rb.nansum(rb.tensor(x), 0, dtype=rb.float32), torch.nansum(torch.tensor(x), 0,
                                                                      dtype=torch.float32))


def test_nansum_nanmean_gradients_match_torch_with_all_nan_rows() -> None:
    x = np.array([[1.0, NAN, 3.0], [NAN, NAN, NAN]])
    for fn in ("nansum", "nanmean"):
        ours, theirs = _both(x, requires_grad=True)
        getattr(rb, fn)(ours, 1).sum().backward()
        getattr(torch, fn)(theirs, 1).sum().backward()
        np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())


def test_quantile_with_nan() -> None:
    x = np.array([[1.0, NAN, 3.0, 0.5], [NAN, NAN, NAN, NAN], [2.0, 1.0, 4.0, 3.0]])
    ours, theirs = _both(x)
    for how in ("linear", "lower", "higher", "midpoint", "nearest"):
        _same(rb.quantile(ours, 0.4, 1, interpolation=how),
              torch.quantile(theirs, 0.4, 1, interpolation=how))
        _same(rb.nanquantile(ours, 0.4, 1, interpolation=how),
              torch.nanquantile(theirs, 0.4, 1, interpolation=how))
    _same(rb.quantile(ours, 0.5), torch.quantile(theirs, 0.5))
    _same(rb.nanquantile(ours, 0.5, keepdim=True), torch.nanquantile(theirs, 0.5, keepdim=True))


def test_quantile_q_forms_and_shapes() -> None:
    x = np.random.default_rng(0).standard_normal((2, 3, 4))
    ours, theirs = _both(x)
    q = np.array([0.0, 0.5, 1.0])
    _same(rb.quantile(ours, rb.tensor(q), dim=1), torch.quantile(theirs, torch.tensor(q), dim=1))
    _same(rb.quantile(ours, rb.tensor(0.3, dtype=rb.float64)),
          torch.quantile(theirs, torch.tensor(0.3, dtype=torch.float64)))
    _same(rb.quantile(ours, rb.tensor(q), keepdim=True),
          torch.quantile(theirs, torch.tensor(q), keepdim=True))
    _same(rb.quantile(rb.tensor(2.0), 0.5, 0), torch.quantile(torch.tensor(2.0), 0.5, 0))
    ours32, theirs32 = _both(x.astype(np.float32))
    _same(ours32.quantile(0.25, -1, interpolation="nearest"),
          theirs32.quantile(0.25, -1, interpolation="nearest"))


# ----------------------------------------------------------------- other behaviour
def test_integer_dtypes_keep_their_type() -> None:
    ints = np.array([[3, 1, 2, 2], [5, -1, 7, 0]])
    ours, theirs = _both(ints)
    _same(rb.median(ours), torch.median(theirs))
    _same(rb.median(ours, 1), torch.median(theirs, 1))
    _same(rb.nanmedian(ours, 0), torch.nanmedian(theirs, 0))
    _same(rb.kthvalue(ours, 2), torch.kthvalue(theirs, 2))
    _same(rb.aminmax(ours), torch.aminmax(theirs))
    _same(rb.aminmax(ours, dim=0), torch.aminmax(theirs, dim=0))


def test_aminmax_fields_and_ties() -> None:
    ours, theirs = _both(np.array([[1.0, 3.0, 3.0], [0.0, 0.0, 2.0]]), requires_grad=True)
    result = rb.aminmax(ours)
    assert result.min.item() == 0.0 and result.max.item() == 3.0
    (result.min + 2 * result.max).backward()
    t = torch.aminmax(theirs)
    (t.min + 2 * t.max).backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy())


def test_logcumsumexp_extremes_and_gradient() -> None:
    x = np.array([[-np.inf, 0.0, 800.0, -800.0], [1e-3, -np.inf, -np.inf, 2.0]])
    ours, theirs = _both(x, requires_grad=True)
    _same(rb.logcumsumexp(ours, 1), torch.logcumsumexp(theirs, 1))
    v = np.array([[1.0, -2.0, 0.5, 3.0], [-1.0, 0.0, 2.0, 1.0]])
    (rb.logcumsumexp(ours, 1) * rb.tensor(v)).sum().backward()
    (torch.logcumsumexp(theirs, 1) * torch.tensor(v)).sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-10)
    _same(rb.logcumsumexp(rb.tensor(1.5), 0), torch.logcumsumexp(torch.tensor(1.5), 0))


def test_std_mean_forms() -> None:
    x = np.random.default_rng(1).standard_normal((3, 4))
    ours, theirs = _both(x)
    _same(rb.std_mean(ours, 1, True, True), torch.std_mean(theirs, 1, True, True))
    _same(rb.std_mean(ours, dim=0, correction=2), torch.std_mean(theirs, dim=0, correction=2))
    _same(rb.std_mean(ours, unbiased=False), torch.std_mean(theirs, unbiased=False))


def test_bincount() -> None:
    idx = np.array([0, 2, 2, 5, 1])
    ours, theirs = _both(idx)
    _same(rb.bincount(ours), torch.bincount(theirs))
    _same(ours.bincount(minlength=9), theirs.bincount(minlength=9))
    for w in (np.arange(5.0), np.arange(5, dtype=np.float32), np.arange(5)):
        _same(rb.bincount(ours, rb.tensor(w)), torch.bincount(theirs, torch.tensor(w)))
    empty = np.zeros(0, np.int64)
    _same(rb.bincount(rb.tensor(empty)), torch.bincount(torch.tensor(empty)))
    _same(rb.bincount(rb.tensor(empty), minlength=3),
          torch.bincount(torch.tensor(empty), minlength=3))


def test_dist_p0_and_zero_difference() -> None:
    a = np.array([[1.0, 2.0], [3.0, 4.0]])
    b = np.array([[1.0, 0.0], [3.0, 5.0]])
    for p in (0, 2, 1, float("inf")):
        ours = [rb.tensor(a, requires_grad=True), rb.tensor(b, requires_grad=True)]
        theirs = [torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)]
        _same(rb.dist(*ours, p), torch.dist(*theirs, p))
        rb.dist(ours[0], ours[0].detach(), p).backward()  # zero difference: zero gradient
        assert not ours[0].grad.numpy().any()


def test_cdist_gradients_at_coincident_rows_and_ties() -> None:
    """Equal rows (distance 0) get gradient 0; p=inf gives every tied coordinate the gradient."""
    x1 = np.array([[0.0, 1.0, 2.0], [1.0, -1.0, 0.0]])
    x2 = np.array([[0.0, 1.0, 2.0], [2.0, 0.0, 1.0], [1.0, 1.0, 1.0]])
    for p in (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, float("inf")):
        a, b = rb.tensor(x1, requires_grad=True), rb.tensor(x2, requires_grad=True)
        ta, tb = torch.tensor(x1, requires_grad=True), torch.tensor(x2, requires_grad=True)
        v = np.arange(6.0).reshape(2, 3) - 2
        (rb.cdist(a, b, p) * rb.tensor(v)).sum().backward()
        (torch.cdist(ta, tb, p) * torch.tensor(v)).sum().backward()
        _same(rb.cdist(a, b, p), torch.cdist(ta, tb, p))
        np.testing.assert_allclose(a.grad.numpy(), ta.grad.numpy(), err_msg=f"p={p}")
        np.testing.assert_allclose(b.grad.numpy(), tb.grad.numpy(), err_msg=f"p={p}")


def test_cdist_large_inputs_close_to_torch_matmul_path() -> None:
    """Past 25 rows torch computes p=2 through a matmul; the direct values agree closely."""
    rng = np.random.default_rng(2)
    x1, x2 = rng.standard_normal((2, 30, 5)), rng.standard_normal((2, 40, 5))
    np.testing.assert_allclose(rb.cdist(rb.tensor(x1), rb.tensor(x2)).numpy(),
                               torch.cdist(torch.tensor(x1), torch.tensor(x2)).numpy(),
                               rtol=1e-9)


# ------------------------------------------------------------------ empty inputs
def test_empty_inputs_where_torch_defines_them() -> None:
    empty = np.zeros((0, 3))
    ours, theirs = _both(empty)
    _same(rb.median(ours), torch.median(theirs))  # nan
    _same(rb.nanmedian(ours), torch.nanmedian(theirs))
    _same(rb.median(ours, 1), torch.median(theirs, 1))  # reducing a non-empty dim
    _same(rb.cummax(ours, 0), torch.cummax(theirs, 0))
    _same(rb.logcumsumexp(ours, 0), torch.logcumsumexp(theirs, 0))
    _same(rb.nansum(ours), torch.nansum(theirs))
    _same(rb.nanmean(ours, 0), torch.nanmean(theirs, 0))
    _same(rb.aminmax(ours, dim=1), torch.aminmax(theirs, dim=1))
    _same(rb.kthvalue(rb.zeros(3, 0), 1, 0), torch.kthvalue(torch.zeros(3, 0), 1, 0))
    _same(rb.cdist(rb.zeros(0, 3), rb.zeros(2, 3)), torch.cdist(torch.zeros(0, 3),
                                                               torch.zeros(2, 3)))


# ------------------------------------------------------------------------ errors
@pytest.mark.parametrize("call, error", [
    (lambda m, x: m.median(x, 2), IndexError),
    (lambda m, x: m.median(m.zeros(3, 0), 1), IndexError),
    (lambda m, x: m.nanmedian(m.zeros(3, 0), -1), IndexError),
    (lambda m, x: m.mode(x, -3), IndexError),
    (lambda m, x: m.mode(m.zeros(0, 3), 0), IndexError),
    (lambda m, x: m.kthvalue(x, 5, 1), RuntimeError),
    (lambda m, x: m.kthvalue(x, 0), RuntimeError),
    (lambda m, x: m.kthvalue(x, 1, 2), IndexError),
    (lambda m, x: m.cummax(x, 2), IndexError),
    (lambda m, x: m.cummin(x, -3), IndexError),
    (lambda m, x: m.logcumsumexp(x, 2), IndexError),
    (lambda m, x: m.logcumsumexp(m.tensor([1, 2]), 0), NotImplementedError),
    (lambda m, x: m.aminmax(m.zeros(0, 3)), RuntimeError),
    (lambda m, x: m.aminmax(m.zeros(0, 3), dim=0), IndexError),
    (lambda m, x: m.aminmax(x, dim=2), IndexError),
    (lambda m, x: m.nansum(x, 2), IndexError),
    (lambda m, x: m.nanmean(m.tensor([1, 2])), RuntimeError),
    (lambda m, x: m.quantile(x, 1.5), RuntimeError),
    (lambda m, x: m.quantile(x, -0.1), RuntimeError),
    (lambda m, x: m.quantile(x, m.tensor([0.5, 1.5], dtype=m.float64)), RuntimeError),
    (lambda m, x: m.quantile(x, m.tensor([[0.5]], dtype=m.float64)), RuntimeError),
    (lambda m, x: m.quantile(x, m.tensor([0.5], dtype=m.float32)), RuntimeError),
    (lambda m, x: m.quantile(x, 0.5, interpolation="cubic"), RuntimeError),
    (lambda m, x: m.quantile(x, 0.5, dim=2), IndexError),
    (lambda m, x: m.quantile(m.zeros(0, 3, dtype=m.float64), 0.5), RuntimeError),
    (lambda m, x: m.quantile(m.tensor([1, 2]), 0.5), RuntimeError),
    (lambda m, x: m.nanquantile(x, 2.0), RuntimeError),
    (lambda m, x: m.bincount(m.tensor([1, -1])), RuntimeError),
    (lambda m, x: m.bincount(m.tensor([[1]])), RuntimeError),
    (lambda m, x: m.bincount(m.tensor([1.0])), NotImplementedError),
    (lambda m, x: m.bincount(m.tensor([1, 2]), m.tensor([1.0])), RuntimeError),
    (lambda m, x: m.cdist(x[0], x[0]), RuntimeError),
    (lambda m, x: m.cdist(x, x[:, :3]), RuntimeError),
    (lambda m, x: m.cdist(x, x, p=-1), RuntimeError),
    (lambda m, x: m.cdist(m.tensor([[1, 2]]), m.tensor([[1, 2]])), RuntimeError),
    (lambda m, x: m.dist(m.tensor([1, 2]), m.tensor([1, 2])), RuntimeError),
])
def test_errors_match_torch(call, error) -> None:
    """Both libraries refuse the same calls with the same exception type."""
    x = np.random.default_rng(0).standard_normal((3, 4))
    for m in (rb, torch):
        with pytest.raises(error):
            call(m, m.tensor(x))


def test_error_messages_are_clear() -> None:
    x = rb.tensor(np.arange(6.0).reshape(2, 3))
    with pytest.raises(RuntimeError, match=r"q must be in the range \[0, 1\] but got 1.5"):
        rb.quantile(x, 1.5)
    with pytest.raises(RuntimeError, match="interpolation must be one of linear"):
        x.quantile(0.5, interpolation="cubic")
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.median(4)
    with pytest.raises(IndexError, match="Expected reduction dim 1 to have non-zero size"):
        rb.zeros(2, 0).mode(1)
    with pytest.raises(RuntimeError, match="selected number k out of range"):
        x.kthvalue(4)
    with pytest.raises(RuntimeError, match="same number of columns"):
        rb.cdist(x, x[:, :2])


def test_tensor_methods_follow_torch() -> None:
    for name in ("nansum nanmean median nanmedian mode kthvalue cummax cummin logcumsumexp "
                 "aminmax quantile nanquantile bincount dist").split():
        assert hasattr(torch.Tensor, name) and hasattr(rb.Tensor, name), name
    for name in ("std_mean", "cdist"):  # functions only, in torch too
        assert not hasattr(torch.Tensor, name) and hasattr(rb, name)
