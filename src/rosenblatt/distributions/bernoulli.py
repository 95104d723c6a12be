"""Bernoulli(probs= or logits=): 0/1 outcomes."""

from __future__ import annotations

from typing import Any, Sequence

from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from ..nn import functional as F
from ..ops.creation import bernoulli
from .distribution import Distribution, as_float, clamp_probs, probs_or_logits

__all__ = ["Bernoulli"]


def _probs_and_logits(probs: Any, logits: Any) -> tuple[Tensor, Tensor]:
    given_probs, value = probs_or_logits(probs, logits)
    if given_probs:
        clamped = clamp_probs(value)
        return value, clamped.log() - (1 - clamped).log()
    return value.sigmoid(), value


class Bernoulli(Distribution):
    """P(1) = probs (= sigmoid(logits)), elementwise."""

    def __init__(self, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        self.probs, self.logits = _probs_and_logits(probs, logits)
        super().__init__(tuple(self.probs.shape))

    @property
    def mean(self) -> Tensor:
        return self.probs

    @property
    def variance(self) -> Tensor:
        return self.probs * (1 - self.probs)

    def sample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        """0./1. draws of shape sample_shape + batch_shape."""
        with no_grad():
            return bernoulli(self.probs.expand(*self._extended_shape(sample_shape)))

    def log_prob(self, value: Tensor) -> Tensor:
        """value log p + (1 - value) log(1 - p), from the logits (stable)."""
        logits = self.logits.expand(*value.shape) if self.logits.shape != value.shape \
            else self.logits
        return -F.binary_cross_entropy_with_logits(logits, as_float(value, logits),
                                                   reduction="none")

    def entropy(self) -> Tensor:
        """-(p log p + (1 - p) log(1 - p))."""
        return F.binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")
