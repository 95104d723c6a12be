"""Pixel and channel shuffles: pixel_shuffle, pixel_unshuffle, channel_shuffle (reshapes)."""

from __future__ import annotations

from ..._backend import array_module
from ...autograd.tensor import Tensor
from ...ops.shape import clone, contiguous_format, permute, reshape


def _not_a_view(out: Tensor, input: Tensor) -> Tensor:  # noqa: A002
    """`out`, copied where the reshapes could make it a view of `input` (size-1 or empty
    groups): PyTorch's shuffles always return a new tensor, which in-place ops may change."""
    data = out._data
    if not data.size or array_module(data).may_share_memory(data, input._data):  # empty: cheap
        return clone(out, memory_format=contiguous_format)
    return out


def _check_factor(value: object, name: str, op: str) -> int:
    """An int > 0, with PyTorch's TypeError / RuntimeError."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{op}(): argument '{name}' (position 2) must be int, not "
                        f"{type(value).__name__}")
    if value <= 0:
        raise RuntimeError(f"{op} expects a positive {name}, but got {value}")
    return value


def _check_3d(input: Tensor, op: str) -> None:  # noqa: A002
    if input.ndim < 3:
        raise RuntimeError(f"{op} expects input to have at least 3 dimensions, but got input "
                           f"with {input.ndim} dimension(s)")


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:  # noqa: A002
    """Channels to space: (*, C * r^2, H, W) -> (*, C, H * r, W * r)."""
    r = _check_factor(upscale_factor, "upscale_factor", "pixel_shuffle")
    _check_3d(input, "pixel_shuffle")
    *batch, channels, h, w = input.shape
    if channels % (r * r):
        raise RuntimeError("pixel_shuffle expects its input's 'channel' dimension to be "
                           f"divisible by the square of upscale_factor, but "
                           f"input.size(-3)={channels} is not divisible by {r * r}")
    n = len(batch)
    # (*, C, r, r, H, W) -> (*, C, H, r, W, r): each r x r block of channels becomes pixels
    x = reshape(input, (*batch, channels // (r * r), r, r, h, w))
    x = permute(x, (*range(n), n, n + 3, n + 1, n + 4, n + 2))
    return _not_a_view(reshape(x, (*batch, channels // (r * r), h * r, w * r)), input)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:  # noqa: A002
    """Space to channels: (*, C, H * r, W * r) -> (*, C * r^2, H, W)."""
    r = _check_factor(downscale_factor, "downscale_factor", "pixel_unshuffle")
    _check_3d(input, "pixel_unshuffle")
    *batch, channels, h, w = input.shape
    for side, size, dim in (("height", h, -2), ("width", w, -1)):
        if size % r:
            raise RuntimeError(f"pixel_unshuffle expects {side} to be divisible by "
                               f"downscale_factor, but input.size({dim})={size} is not "
                               f"divisible by {r}")
    n = len(batch)
    # (*, C, H, r, W, r) -> (*, C, r, r, H, W): the inverse of pixel_shuffle's permutation
    x = reshape(input, (*batch, channels, h // r, r, w // r, r))
    x = permute(x, (*range(n), n, n + 2, n + 4, n + 1, n + 3))
    return _not_a_view(reshape(x, (*batch, channels * r * r, h // r, w // r)), input)


def channel_shuffle(input: Tensor, groups: int) -> Tensor:  # noqa: A002
    """(N, C, *) -> (N, C, *): channels seen as (groups, C / groups), transposed, flattened."""
    if isinstance(groups, bool) or not isinstance(groups, int):
        raise TypeError(f"channel_shuffle(): argument 'groups' (position 2) must be int, not "
                        f"{type(groups).__name__}")
    if input.ndim <= 2:
        raise RuntimeError(f"channel_shuffle expects input with > 2 dims, but got input with "
                           f"sizes {list(input.shape)}")
    if groups <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value "
                           f"of groups:{groups}")
    n, channels, *rest = input.shape
    if channels % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {channels} "
                           f"channels and {groups} groups.")
    # (N, g, C/g, *) -> (N, C/g, g, *): reading the groups column by column interleaves them
    x = reshape(input, (n, groups, channels // groups, *rest))
    x = permute(x, (0, 2, 1, *range(3, x.ndim)))
    return _not_a_view(reshape(x, tuple(input.shape)), input)
