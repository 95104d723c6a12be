"""Dropout layers: `_DropoutNd` holds p and inplace; Dropout zeroes single elements,
Dropout1d/2d/3d whole channels."""

from __future__ import annotations

from typing import Callable

from ...autograd.tensor import Tensor
from .. import functional as F
from .module import Module


class _DropoutNd(Module):
    """Base of the dropout layers: validates and stores p and inplace; `_dropout` is the
    function (F.dropout, F.dropout1d, ...) that forward applies."""

    _dropout: Callable[..., Tensor]

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """(*) -> (*), the same shape; the identity in eval mode."""
        return self._dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """In training, zero each element with probability p and scale the rest by 1/(1-p): (*)."""

    _dropout = staticmethod(F.dropout)


class Dropout1d(_DropoutNd):
    """In training, zero each (sample, channel) sequence with probability p: (N, C, L), (C, L)."""

    _dropout = staticmethod(F.dropout1d)


class Dropout2d(_DropoutNd):
    """In training, zero each (sample, channel) feature map with probability p: (N, C, H, W)."""

    _dropout = staticmethod(F.dropout2d)


class Dropout3d(_DropoutNd):
    """In training, zero each (sample, channel) volume with probability p: (N, C, D, H, W)
    or (C, D, H, W)."""

    _dropout = staticmethod(F.dropout3d)
