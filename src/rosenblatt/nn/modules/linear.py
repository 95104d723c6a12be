"""Linear layers: Identity, Linear, Bilinear."""

from __future__ import annotations

import math
from typing import Any

from ...autograd.tensor import Tensor
from ...ops.creation import empty
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module


def _weight_and_bias(module: Module, shape: tuple[int, ...], bias: int | None, device: Any,
                     dtype: Any) -> None:
    """Register an uninitialised `weight` of `shape` and a `bias` of `bias` features (or None)."""
    module.weight = Parameter(empty(shape, device=device, dtype=dtype))
    if bias is not None:
        module.bias = Parameter(empty(bias, device=device, dtype=dtype))
    else:
        module.register_parameter("bias", None)


def _kaiming_reset(weight: Tensor, bias: Tensor | None, empty_bias: bool = False) -> None:
    """PyTorch's default for Linear and Conv: kaiming_uniform_(a=sqrt(5)) weight,
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)) bias. With fan_in 0, Conv leaves the bias alone and
    Linear (`empty_bias`) draws it from U(0, 0), as PyTorch does."""
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    fan_in, _ = init._calculate_fan_in_and_fan_out(weight)
    if bias is not None and (fan_in or empty_bias):
        bound = 1 / math.sqrt(fan_in) if fan_in else 0
        init.uniform_(bias, -bound, bound)


class Identity(Module):
    """Returns its input unchanged (arguments are accepted and ignored)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """(*) -> (*), the same tensor."""
        return input


class Linear(Module):
    """y = x W^T + b: (*, in_features) -> (*, out_features)."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        _weight_and_bias(self, (out_features, in_features), out_features if bias else None,
                         device, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: kaiming_uniform_(a=sqrt(5)) weight, U(+-1/sqrt(fan_in)) bias."""
        _kaiming_reset(self.weight, self.bias, empty_bias=True)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """(*, in_features) -> (*, out_features); F.linear names both shapes on a mismatch."""
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class NonDynamicallyQuantizableLinear(Linear):
    """MultiheadAttention's out_proj (torch's name; it differs from Linear only in quantization)."""


class Bilinear(Module):
    """y = x1^T A x2 + b: (*, in1), (*, in2) -> (*, out)."""

    def __init__(self, in1_features: int, in2_features: int, out_features: int,
                 bias: bool = True, device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        _weight_and_bias(self, (out_features, in1_features, in2_features),
                         out_features if bias else None, device, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """U(-1/sqrt(in1), 1/sqrt(in1)) for weight and bias, as PyTorch."""
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1: Tensor, input2: Tensor) -> Tensor:
        """(*, in1), (*, in2) -> (*, out)."""
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
