"""Activations composed of elementwise primitives (their gradients come from those ops):
hardsigmoid, hardswish, celu, softsign, tanhshrink, softshrink, hardshrink, threshold, glu."""

from __future__ import annotations

from ...autograd.tensor import Tensor
from ...ops import activation as act
from ...ops import elementwise as ew
from ...ops.shape import chunk


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """relu6(x + 3) / 6: 0 below -3, 1 above 3, linear between (gradient strictly inside)."""
    ew.refuse_non_float(input, "hardsigmoid_cpu")
    return ew.clamp(input / 6.0 + 0.5, 0.0, 1.0, rule="open")


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """x * hardsigmoid(x) (MobileNetV3), with PyTorch's derivative at the kinks."""
    return act.hardswish(input)


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """max(0, x) + min(0, alpha (exp(x / alpha) - 1)); slope 1 at x = 0 as PyTorch's."""
    return act.celu(input, alpha)


def softsign(input: Tensor) -> Tensor:  # noqa: A002
    """x / (1 + |x|)."""
    return input / (ew.abs(input) + 1.0)


def tanhshrink(input: Tensor) -> Tensor:  # noqa: A002
    """x - tanh(x)."""
    return input - ew.tanh(input)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:  # noqa: A002
    """x - lambd above lambd, x + lambd below -lambd, 0 between (boundaries included; a NaN
    passes its gradient, as PyTorch's)."""
    if lambd < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {lambd}.")
    ew.refuse_non_float(input, "softshrink_check")
    return input - ew.clamp(input, -lambd, lambd)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:  # noqa: A002
    """x where |x| > lambd, else 0 (a NaN stays, passing its gradient, as PyTorch's)."""
    ew.refuse_non_float(input, "hardshrink_cpu")
    return ew.where((input >= -lambd) & (input <= lambd), 0.0, input)


def threshold(input: Tensor, threshold: float, value: float,  # noqa: A002
              inplace: bool = False) -> Tensor:
    """x where x > threshold, else value (in x's dtype); PyTorch tests x <= threshold, so a NaN
    stays and passes its gradient."""
    ew.refuse_bool_kernel(input, "threshold_cpu")
    return ew.where(input <= threshold, ew.constant(value, input), input)


def glu(input: Tensor, dim: int = -1) -> Tensor:  # noqa: A002
    """a * sigmoid(b), a and b the two halves of input along dim."""
    if input.ndim == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    if input.shape[dim] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {dim} is size "
                           f"{input.shape[dim]}")
    a, b = chunk(input, 2, dim)
    return a * ew.sigmoid(b)
