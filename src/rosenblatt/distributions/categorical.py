"""Categorical(probs= or logits=): one of K classes (the last dim), per batch element."""

from __future__ import annotations

import math
from typing import Any, Sequence

from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Tensor
from ..dtypes import finfo
from ..ops.creation import multinomial
from .distribution import Distribution, clamp_probs, probs_or_logits

__all__ = ["Categorical"]


class Categorical(Distribution):
    """P(k) = probs[..., k] (normalised), or softmax(logits)[..., k]."""

    def __init__(self, probs: Any = None, logits: Any = None,
                 validate_args: bool | None = None) -> None:
        given_probs, value = probs_or_logits(probs, logits)
        if value.ndim < 1:
            name = "probs" if given_probs else "logits"
            raise ValueError(f"`{name}` parameter must be at least one-dimensional.")
        if given_probs:
            self.probs = value / value.sum(-1, keepdim=True)
            self.logits = clamp_probs(self.probs).log()
        else:
            self.logits = value - value.logsumexp(-1, keepdim=True)
            self.probs = self.logits.softmax(-1)
        self._num_events = int(self.probs.shape[-1])
        super().__init__(tuple(self.probs.shape[:-1]))

    @property
    def param_shape(self) -> tuple[int, ...]:
        return tuple(self.probs.shape)

    @property
    def mean(self) -> Tensor:
        return self.probs.sum(-1) * math.nan

    @property
    def mode(self) -> Tensor:
        return self.probs.argmax(-1)

    @property
    def variance(self) -> Tensor:
        return self.probs.sum(-1) * math.nan

    def sample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        """int64 class indices of shape sample_shape + batch_shape."""
        n = math.prod(sample_shape)
        with no_grad():
            flat = self.probs.reshape(-1, self._num_events)
            draws = multinomial(flat, n, replacement=True)  # (batch, n)
        return draws.t().reshape(*sample_shape, *self._batch_shape)

    def log_prob(self, value: Tensor) -> Tensor:
        """log P(value), broadcasting value against batch_shape."""
        value = value.long()
        shape = tuple(_broadcast(tuple(value.shape), tuple(self._batch_shape)))
        logits = self.logits.expand(*shape, self._num_events)
        index = value.expand(*shape).unsqueeze(-1)
        return logits.gather(-1, index).squeeze(-1)

    def entropy(self) -> Tensor:
        """-sum_k p_k log p_k."""
        logits = self.logits.clamp(min=finfo(self.logits.dtype).min)
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        """0..K-1 along a new first dim (expanded over the batch when expand)."""
        from ..ops.creation import arange

        values = arange(self._num_events, device=self.probs.device).reshape(
            -1, *([1] * len(self._batch_shape)))
        return values.expand(-1, *self._batch_shape) if expand else values


def _broadcast(a: tuple, b: tuple) -> tuple:
    from .._backend import np

    return np.broadcast_shapes(a, b)
