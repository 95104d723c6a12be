"""Uniform(low, high): constant density on [low, high), with reparameterised sampling."""

from __future__ import annotations

from typing import Any, Sequence

from ..autograd.tensor import Tensor
from ..ops.creation import rand
from ..ops.elementwise import where
from .distribution import Distribution, broadcast_all

__all__ = ["Uniform"]


class Uniform(Distribution):
    """U[low, high), elementwise over the broadcast shape of low and high."""

    has_rsample = True

    def __init__(self, low: Any, high: Any, validate_args: bool | None = None) -> None:
        self.low, self.high = broadcast_all(low, high)
        super().__init__(tuple(self.low.shape))

    @property
    def mean(self) -> Tensor:
        return (self.high + self.low) / 2

    @property
    def variance(self) -> Tensor:
        return (self.high - self.low) ** 2 / 12

    def rsample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        """low + u (high - low), u ~ U[0, 1)."""
        u = rand(*self._extended_shape(sample_shape), dtype=self.low.dtype,
                 device=self.low.device)
        return self.low + u * (self.high - self.low)

    def log_prob(self, value: Tensor) -> Tensor:
        """-log(high - low) inside [low, high), -inf outside."""
        inside = (value >= self.low) & (value < self.high)
        log_density = -(self.high - self.low).log() + value * 0
        return where(inside, log_density, log_density * 0 - float("inf"))

    def cdf(self, value: Tensor) -> Tensor:
        """(value - low) / (high - low), clamped to [0, 1]."""
        return ((value - self.low) / (self.high - self.low)).clamp(0, 1)

    def entropy(self) -> Tensor:
        """log(high - low)."""
        return (self.high - self.low).log()
