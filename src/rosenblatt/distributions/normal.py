"""Normal(loc, scale): the Gaussian, with reparameterised sampling."""

from __future__ import annotations

import math
from typing import Any, Sequence

from ..autograd.tensor import Tensor
from ..ops.creation import randn
from ..ops.elementwise import erf
from .distribution import LOG_SQRT_2PI, Distribution, broadcast_all

__all__ = ["Normal"]


class Normal(Distribution):
    """N(loc, scale^2), elementwise over the broadcast shape of loc and scale."""

    has_rsample = True

    def __init__(self, loc: Any, scale: Any, validate_args: bool | None = None) -> None:
        self.loc, self.scale = broadcast_all(loc, scale)
        super().__init__(tuple(self.loc.shape))

    @property
    def mean(self) -> Tensor:
        return self.loc

    mode = mean  # a Gaussian peaks at its mean

    @property
    def stddev(self) -> Tensor:
        return self.scale

    @property
    def variance(self) -> Tensor:
        return self.scale ** 2

    def rsample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        """loc + scale * eps, eps ~ N(0, 1) of shape sample_shape + batch_shape."""
        eps = randn(*self._extended_shape(sample_shape), dtype=self.loc.dtype,
                    device=self.loc.device)
        return self.loc + eps * self.scale

    def log_prob(self, value: Tensor) -> Tensor:
        """-(value - loc)^2 / (2 scale^2) - log(scale) - log(sqrt(2 pi))."""
        return -((value - self.loc) ** 2) / (2 * self.variance) - self.scale.log() - LOG_SQRT_2PI

    def cdf(self, value: Tensor) -> Tensor:
        """P(X <= value)."""
        return 0.5 * (1 + erf((value - self.loc) / (self.scale * math.sqrt(2))))

    def entropy(self) -> Tensor:
        """0.5 + 0.5 log(2 pi) + log(scale)."""
        return 0.5 + LOG_SQRT_2PI + self.scale.log()

    def __repr__(self) -> str:
        return f"Normal(loc: {self.loc.size()}, scale: {self.scale.size()})"
