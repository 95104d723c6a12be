"""Distribution: the base of torch.distributions' classes - shapes, sample/rsample, log_prob."""

from __future__ import annotations

import math
from typing import Any, Sequence

from .._backend import np
from ..autograd.grad_mode import no_grad
from ..autograd.tensor import Size, Tensor
from ..dtypes import finfo
from ..ops.creation import as_tensor

__all__ = ["Distribution"]


def as_float(value: Any, like: Tensor | None = None) -> Tensor:
    """value as a float tensor (a number takes like's dtype and device, or float32)."""
    if isinstance(value, Tensor):
        return value if value.is_floating_point() else value.float()
    if like is not None:
        return as_tensor(float(value), dtype=like.dtype, device=like.device)
    return as_tensor(float(value))


def probs_or_logits(probs: Any, logits: Any) -> tuple[bool, Tensor]:
    """(whether probs is the one given, it as a float tensor); raises unless exactly one of
    probs and logits is given."""
    if (probs is None) == (logits is None):
        raise ValueError("Either `probs` or `logits` must be specified, but not both.")
    return probs is not None, as_float(logits if probs is None else probs)


def broadcast_all(*values: Any) -> list[Tensor]:
    """Tensors (numbers made tensors) broadcast to one shape, as torch.distributions.utils."""
    like = next((v for v in values if isinstance(v, Tensor)), None)
    tensors = [as_float(v, like) for v in values]
    shape = tuple(np.broadcast_shapes(*(tuple(t.shape) for t in tensors)))
    return [t.expand(*shape) if tuple(t.shape) != shape else t for t in tensors]


def clamp_probs(probs: Tensor) -> Tensor:
    """probs kept within [eps, 1 - eps] of their dtype, so their logs stay finite."""
    eps = finfo(probs.dtype).eps
    return probs.clamp(min=eps, max=1 - eps)


class Distribution:
    """A batch of distributions: batch_shape of independent ones, each over event_shape."""

    has_rsample = False

    def __init__(self, batch_shape: Sequence[int] = (), event_shape: Sequence[int] = (),
                 validate_args: bool | None = None) -> None:
        self._batch_shape = Size(batch_shape)
        self._event_shape = Size(event_shape)

    @property
    def batch_shape(self) -> Size:
        """Shape of the batch of independent distributions."""
        return self._batch_shape

    @property
    def event_shape(self) -> Size:
        """Shape of one sample of one distribution."""
        return self._event_shape

    def _extended_shape(self, sample_shape: Sequence[int] = ()) -> tuple[int, ...]:
        return (*sample_shape, *self._batch_shape, *self._event_shape)

    def sample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        """Draws of shape sample_shape + batch_shape + event_shape, without gradient."""
        with no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape: Sequence[int] = ()) -> Tensor:
        """Reparameterised draws (gradients flow to the parameters)."""
        raise NotImplementedError(f"{type(self).__name__} has no reparameterised sampling")

    def log_prob(self, value: Tensor) -> Tensor:
        """log density (or mass) of value under each distribution of the batch."""
        raise NotImplementedError

    def entropy(self) -> Tensor:
        """Entropy of each distribution of the batch."""
        raise NotImplementedError

    @property
    def stddev(self) -> Tensor:
        """sqrt(variance)."""
        return self.variance.sqrt()

    @property
    def mean(self) -> Tensor:
        raise NotImplementedError

    @property
    def variance(self) -> Tensor:
        raise NotImplementedError

    def perplexity(self) -> Tensor:
        """exp(entropy)."""
        return self.entropy().exp()

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)
