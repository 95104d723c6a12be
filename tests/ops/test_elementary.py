"""The special cases of ops.elementary that the op table (random inputs) does not reach:
integer inputs, exact zeros, infinities, the boolean results and the in-place variants."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import rosenblatt as rb

UNARY = ["tan", "asin", "acos", "atan", "sinh", "cosh", "asinh", "acosh", "atanh", "log2",
         "log10", "log1p", "expm1", "exp2", "reciprocal", "sinc", "deg2rad", "rad2deg",
         "frac", "square", "logit"]


def _same(ours: rb.Tensor, theirs: torch.Tensor) -> None:
    assert ours.dtype.name == str(theirs.dtype).removeprefix("torch.")
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, equal_nan=True)


@pytest.mark.parametrize("name", [n for n in UNARY if n != "frac"])
def test_integer_inputs_give_what_pytorch_gives(name: str) -> None:
    """Integers become the default float (square keeps them integral), as in PyTorch."""
    values = [-3, -1, 0, 1, 2, 5]
    _same(getattr(rb, name)(rb.tensor(values)), getattr(torch, name)(torch.tensor(values)))


def test_frac_refuses_integers_as_pytorch_does() -> None:
    for m in (rb, torch):
        with pytest.raises(NotImplementedError):
            m.frac(m.tensor([1, 2]))


@pytest.mark.parametrize("name", UNARY)
def test_edge_values_match_pytorch(name: str) -> None:
    """0, +-1, +-inf and nan: the same values, nan and inf included."""
    values = [0.0, -0.0, 1.0, -1.0, 0.5, float("inf"), float("-inf"), float("nan"), 1e-8]
    _same(getattr(rb, name)(rb.tensor(values)), getattr(torch, name)(torch.tensor(values)))


def test_sinc_gradient_at_zero_is_zero() -> None:
    x = rb.tensor([0.0, 0.5], dtype=rb.float64, requires_grad=True)
    rb.sinc(x).sum().backward()
    t = torch.tensor([0.0, 0.5], dtype=torch.float64, requires_grad=True)
    torch.sinc(t).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), t.grad.numpy(), atol=1e-12)


def test_xlogy_is_zero_where_x_is_zero() -> None:
    """0 * log(0) = 0 (entropy terms), but nan stays nan; the gradient in x there is 0."""
    cases = ([0.0, 0.0, 0.0, 2.0], [0.0, float("nan"), 3.0, 0.0])
    x = rb.tensor(cases[0], requires_grad=True)
    y = rb.tensor(cases[1])
    out = rb.xlogy(x, y)
    tx = torch.tensor(cases[0], requires_grad=True)
    theirs = torch.xlogy(tx, torch.tensor(cases[1]))
    _same(out.detach(), theirs.detach())
    out[[0, 2]].sum().backward()
    theirs[[0, 2]].sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())
    assert rb.xlogy(2, rb.tensor([1.0, 4.0])).tolist() == pytest.approx([0.0, 2 * np.log(4)])


def test_copysign_and_signbit_see_negative_zero() -> None:
    values, signs = [1.0, 2.0, -3.0, 0.0], [-0.0, 1.0, 0.0, -1.0]
    _same(rb.copysign(rb.tensor(values), rb.tensor(signs)),
          torch.copysign(torch.tensor(values), torch.tensor(signs)))
    assert rb.signbit(rb.tensor(signs)).tolist() == torch.signbit(torch.tensor(signs)).tolist()


def test_infinity_tests_and_heaviside() -> None:
    values = [float("inf"), float("-inf"), 0.0, -2.0, float("nan")]
    for name in ("isposinf", "isneginf", "isreal"):
        ours = getattr(rb, name)(rb.tensor(values))
        theirs = getattr(torch, name)(torch.tensor(values))
        assert ours.dtype is rb.bool and ours.tolist() == theirs.tolist()
    x, v = [-1.5, 0.0, 2.0], [0.5]
    _same(rb.heaviside(rb.tensor(x), rb.tensor(v)),
          torch.heaviside(torch.tensor(x), torch.tensor(v)))
    with pytest.raises(RuntimeError, match="different dtypes"):
        rb.heaviside(rb.tensor(x), rb.tensor([1]))


def test_float_power_computes_in_float64() -> None:
    _same(rb.float_power(rb.tensor([2, 3]), 2), torch.float_power(torch.tensor([2, 3]), 2))
    _same(rb.float_power(rb.tensor([2.0], dtype=rb.float32), rb.tensor([0.5])),
          torch.float_power(torch.tensor([2.0]), torch.tensor([0.5])))


def test_logaddexp_is_stable_for_large_values() -> None:
    a, b = [1000.0, -1000.0, 0.0], [1000.0, -1000.0, -800.0]
    _same(rb.logaddexp(rb.tensor(a), rb.tensor(b)),
          torch.logaddexp(torch.tensor(a), torch.tensor(b)))


@pytest.mark.parametrize("call", [
    lambda m, x: x.tan_(), lambda m, x: x.log1p_(), lambda m, x: x.square_(),
    lambda m, x: x.sigmoid_(), lambda m, x: x.abs_(), lambda m, x: x.sin_(),
    lambda m, x: x.round_(),
    lambda m, x: x.clamp_min_(0.2), lambda m, x: x.atan2_(m.ones(3)), lambda m, x: x.gt_(0.3),
    lambda m, x: x.addcmul_(x, x, value=2), lambda m, x: x.cumsum_(0), lambda m, x: x.tril_(),
    lambda m, x: x.scatter_add_(1, m.tensor([[0], [2]]), m.ones(2, 1)),
    lambda m, x: x.scatter_(1, m.tensor([[1], [0]]), 5.0), lambda m, x: x.multiply_(3),
], ids=["tan_", "log1p_", "square_", "sigmoid_", "abs_", "sin_", "round_", "clamp_min_",
        "atan2_", "gt_", "addcmul_", "cumsum_", "tril_", "scatter_add_", "scatter_", "multiply_"])
def test_inplace_variants_write_into_the_tensor(call) -> None:
    values = np.array([[0.25, -0.5, 1.5], [2.0, 0.75, -1.25]], np.float32)
    ours, theirs = rb.tensor(values), torch.tensor(values)
    assert call(rb, ours) is ours
    call(torch, theirs)
    _same(ours, theirs)


def test_inplace_variant_is_recorded_by_autograd() -> None:
    """y = (2 x).log1p_() has the gradient of log1p(2 x)."""
    x = rb.tensor([0.5, 1.0], dtype=rb.float64, requires_grad=True)
    (x * 2).log1p_().sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 / (1 + 2 * np.array([0.5, 1.0])))
