"""Pixel and channel shuffles: PixelShuffle, PixelUnshuffle, ChannelShuffle (layers).

Each is a reshape, a permute and a reshape, so the gradient is the same rearrangement in
reverse (recorded by the shape ops).
"""

from __future__ import annotations

from ...autograd.tensor import Tensor
from .._functional.pixelshuffle import channel_shuffle, pixel_shuffle, pixel_unshuffle
from .module import Module


class PixelShuffle(Module):
    """Rearrange (*, C * r^2, H, W) -> (*, C, H * r, W * r), r = upscale_factor."""

    def __init__(self, upscale_factor: int) -> None:
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """(*, C * r^2, H, W) -> (*, C, H * r, W * r)."""
        return pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """Rearrange (*, C, H * r, W * r) -> (*, C * r^2, H, W), r = downscale_factor."""

    def __init__(self, downscale_factor: int) -> None:
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """(*, C, H * r, W * r) -> (*, C * r^2, H, W)."""
        return pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"


class ChannelShuffle(Module):
    """Interleave `groups` groups of channels: (N, C, *) -> (N, C, *)."""

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """(N, C, *) -> (N, C, *), channels reordered."""
        return channel_shuffle(input, self.groups)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"
