"""Channel dropout: Dropout1d, Dropout2d zero whole feature maps (N, C, *) at once."""

from __future__ import annotations

from .. import random as rnd
from .._backend import to_device
from ..autograd.tensor import Tensor
from ..ops import elementwise as ew
from .module import Module


def _channel_dropout(input: Tensor, p: float, training: bool, inplace: bool,  # noqa: A002
                     spatial: int, op: str) -> Tensor:
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if input.ndim not in (spatial + 1, spatial + 2):
        raise RuntimeError(f"{op}: expected a {spatial + 1}-D or {spatial + 2}-D input, got "
                           f"shape {list(input.shape)}")
    if not training or p == 0.0:
        return input
    channels = tuple(input.shape[:-spatial]) + (1,) * spatial  # one draw per feature map
    keep = rnd.gen().random(channels) >= p
    scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)
    mask = Tensor._make(to_device((keep * scale).astype(input._data.dtype), input.device),
                        False, None)
    if inplace:
        return input.mul_(mask)
    return ew.mul(input, mask)


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,  # noqa: A002
              inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, H, W) with probability p, scale the rest by 1/(1-p)."""
    return _channel_dropout(input, p, training, inplace, 2, "dropout2d")


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True,  # noqa: A002
              inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, L) with probability p, scale the rest by 1/(1-p)."""
    return _channel_dropout(input, p, training, inplace, 1, "dropout1d")


class Dropout2d(Module):
    """In training, zero each (sample, channel) feature map with probability p."""

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """(N, C, H, W) -> (N, C, H, W); the identity in eval mode."""
        return dropout2d(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout1d(Dropout2d):
    """In training, zero each (sample, channel) sequence with probability p."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """(N, C, L) -> (N, C, L); the identity in eval mode."""
        return dropout1d(input, self.p, self.training, self.inplace)
