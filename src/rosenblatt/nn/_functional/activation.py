"""Activation functions with PyTorch's signatures (inplace flags, implicit softmax dim)."""

from __future__ import annotations

import warnings
from typing import Any

from ...autograd.tensor import Tensor
from ...ops import activation as act
from ...ops import elementwise as ew
from ...ops import fused


def relu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """max(0, x): (*) -> (*)."""
    return input.relu_() if inplace else ew.relu(input)


def leaky_relu(input: Tensor, negative_slope: float = 0.01,  # noqa: A002
               inplace: bool = False) -> Tensor:
    """x if x > 0 else negative_slope * x: (*) -> (*)."""
    if inplace:
        return input._inplace(lambda: act.leaky_relu(input, negative_slope))
    return act.leaky_relu(input, negative_slope)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:  # noqa: A002
    """x if x > 0 else alpha * (exp(x) - 1): (*) -> (*)."""
    if inplace:
        return input._inplace(lambda: act.elu(input, alpha))
    return act.elu(input, alpha)


def silu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """x * sigmoid(x): (*) -> (*)."""
    if inplace:
        return input._inplace(lambda: act.silu(input))
    return act.silu(input)


def _softmax_dim(name: str, ndim: int) -> int:
    """PyTorch's legacy implicit dim (0 for 0-, 1- and 3-D input, else 1), with its warning."""
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                  "to include dim=X as an argument.", UserWarning, stacklevel=3)
    return 0 if ndim in (0, 1, 3) else 1


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,  # noqa: A002
            dtype: Any = None) -> Tensor:
    """exp(x) / sum(exp(x)) along dim: (*) -> (*)."""
    if dim is None:
        dim = _softmax_dim("softmax", input.ndim)
    return fused.softmax(input, dim, dtype)


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3,  # noqa: A002
                dtype: Any = None) -> Tensor:
    """x - logsumexp(x) along dim: (*) -> (*)."""
    if dim is None:
        dim = _softmax_dim("log_softmax", input.ndim)
    return fused.log_softmax(input, dim, dtype)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,  # noqa: A002
             inplace: bool = False) -> Tensor:
    """x clamped into [min_val, max_val]: (*) -> (*). Integer input stays integer, its bounds
    truncated toward zero, as PyTorch's kernel does; bool input is refused."""
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    ew.refuse_bool(input, "Bool inputs not supported for hardtanh")
    if not input.is_floating_point():
        min_val, max_val = int(min_val), int(max_val)
    if inplace:
        return input._inplace(lambda: ew.clamp(input, min_val, max_val, rule="hardtanh"))
    return ew.clamp(input, min_val, max_val, rule="hardtanh")


def relu6(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """min(max(0, x), 6): (*) -> (*)."""
    return hardtanh(input, 0.0, 6.0, inplace)


def logsigmoid(input: Tensor) -> Tensor:  # noqa: A002
    """log(sigmoid(x)) = -softplus(-x), stable for any x: (*) -> (*)."""
    return act.logsigmoid(input)


def mish(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """x * tanh(softplus(x)): (*) -> (*)."""
    out = act.mish(input)
    return input._inplace(lambda: out) if inplace else out


def selu(input: Tensor, inplace: bool = False) -> Tensor:  # noqa: A002
    """scale * elu(x, alpha) with the self-normalising constants: (*) -> (*)."""
    out = act.elu(input, _SELU_ALPHA) * _SELU_SCALE
    return input._inplace(lambda: out) if inplace else out


def prelu(input: Tensor, weight: Tensor) -> Tensor:  # noqa: A002
    """x if x > 0 else weight * x, weight per channel (dim 1) or shared: (*) -> (*)."""
    if weight.numel() > 1:
        if input.ndim < 2 or input.shape[1] != weight.numel():
            raise RuntimeError(f"prelu: weight of {weight.numel()} parameters does not match "
                               f"the channels (dim 1) of input {tuple(input.shape)}")
        weight = weight.reshape((1, -1) + (1,) * (input.ndim - 2))
    return ew.where(input > 0, input, weight * input)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3,  # noqa: A002
            dtype: Any = None) -> Tensor:
    """softmax(-x) along dim: (*) -> (*)."""
    if dim is None:
        dim = _softmax_dim("softmin", input.ndim)
    return fused.softmax(-input, dim, dtype)
