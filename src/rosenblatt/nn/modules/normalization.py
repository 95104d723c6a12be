"""Layer and group normalisation, and the affine parameters every norm layer registers
(torch.nn.modules.normalization)."""

from __future__ import annotations

from typing import Any, Sequence

from ...autograd.tensor import Tensor
from ...ops.creation import empty
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module


def _add_affine(module: Module, shape: Any, affine: bool, bias: bool, device: Any,
                dtype: Any) -> None:
    """Register `weight` (and `bias`) of `shape`, or None for them, as every norm layer does."""
    def make() -> Parameter:
        return Parameter(empty(shape, device=device, dtype=dtype))

    module.register_parameter("weight", make() if affine else None)
    module.register_parameter("bias", make() if affine and bias else None)


def _reset_affine(module: Module) -> None:
    """Weight 1, bias 0 (where they exist)."""
    if module.weight is not None:
        init.ones_(module.weight)
    if module.bias is not None:
        init.zeros_(module.bias)


class _AffineNorm(Module):
    """A norm layer whose affine `weight` (and `bias`), where it has them, start at 1 (and 0)."""

    def reset_parameters(self) -> None:
        """Weight 1, bias 0 (where they exist)."""
        _reset_affine(self)


class _ShapeNorm(_AffineNorm):
    """A norm over the trailing `normalized_shape` dims with an optional per-element affine
    map: what LayerNorm and RMSNorm share (settings, parameters, repr)."""

    def __init__(self, normalized_shape: int | Sequence[int], eps: Any, elementwise_affine: bool,
                 bias: bool, device: Any, dtype: Any) -> None:
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape = tuple(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        _add_affine(self, self.normalized_shape, elementwise_affine, bias, device, dtype)
        self.reset_parameters()

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


class LayerNorm(_ShapeNorm):
    """Normalise over the trailing normalized_shape dims, then a per-element affine map."""

    def __init__(self, normalized_shape: int | Sequence[int], eps: float = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__(normalized_shape, eps, elementwise_affine, bias, device, dtype)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """(*, *normalized_shape) -> same shape."""
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, bias={self.bias is not None}"


class GroupNorm(_AffineNorm):
    """Normalise groups of channels of (N, C, *) input; per-channel weight and bias."""

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, device: Any = None, dtype: Any = None, *,
                 bias: bool = True) -> None:
        super().__init__()
        if num_channels % num_groups:
            raise ValueError("num_channels must be divisible by num_groups")
        self.num_groups = num_groups
        self.num_channels = num_channels
        self.eps = eps
        self.affine = affine
        _add_affine(self, num_channels, affine, bias, device, dtype)
        self.reset_parameters()

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """(N, C, *) -> (N, C, *)."""
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.bias is not None}")


class RMSNorm(_ShapeNorm):
    """Root-mean-square normalisation over the trailing normalized_shape dims, then a
    per-element weight (Zhang & Sennrich, 2019)."""

    def __init__(self, normalized_shape: int | Sequence[int], eps: float | None = None,
                 elementwise_affine: bool = True, device: Any = None, dtype: Any = None) -> None:
        super().__init__(normalized_shape, eps, elementwise_affine, False, device, dtype)

    def forward(self, x: Tensor) -> Tensor:
        """(*, *normalized_shape) -> same shape."""
        return F.rms_norm(x, self.normalized_shape, self.weight, self.eps)
