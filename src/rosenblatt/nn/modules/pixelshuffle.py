"""Pixel and channel shuffles: PixelShuffle, PixelUnshuffle, ChannelShuffle (layers).

Each is a reshape, a permute and a reshape, so the gradient is the same rearrangement in
reverse (recorded by the shape ops). The layers are `_Pointwise` ones: forward applies the
function with the layer's one setting, and extra_repr shows it.
"""

from __future__ import annotations

from .._functional.pixelshuffle import channel_shuffle, pixel_shuffle, pixel_unshuffle
from .activation import _Pointwise


class PixelShuffle(_Pointwise):
    """Rearrange (*, C * r^2, H, W) -> (*, C, H * r, W * r), r = upscale_factor."""

    _function, settings = staticmethod(pixel_shuffle), ("upscale_factor",)

    def __init__(self, upscale_factor: int) -> None:
        super().__init__()
        self.upscale_factor = upscale_factor


class PixelUnshuffle(_Pointwise):
    """Rearrange (*, C, H * r, W * r) -> (*, C * r^2, H, W), r = downscale_factor."""

    _function, settings = staticmethod(pixel_unshuffle), ("downscale_factor",)

    def __init__(self, downscale_factor: int) -> None:
        super().__init__()
        self.downscale_factor = downscale_factor


class ChannelShuffle(_Pointwise):
    """Interleave `groups` groups of channels: (N, C, *) -> (N, C, *)."""

    _function, settings = staticmethod(channel_shuffle), ("groups",)

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = groups
