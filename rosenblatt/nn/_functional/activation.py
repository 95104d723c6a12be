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
