"""Resampling: interpolate (nearest, bilinear, linear) and pad (constant, reflect, replicate,
circular).

Interpolation is a separable linear map (one (out, in) matrix per spatial axis, applied by
`pool.Separable2d`); border padding modes are gathers along each padded axis.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

from ..autograd.function import Function
from ..autograd.tensor import Tensor
from .pool import Separable2d


# ---------------------------------------------------------------------- interpolate
def _source_index(xp: Any, size: int, out: int, scale: float, mode: str,
                  align_corners: bool) -> Any:
    """Where each output position samples the input (PyTorch's coordinate rules)."""
    dst = xp.arange(out, dtype=xp.float64)
    if mode == "nearest":
        return xp.minimum(xp.floor(dst * scale).astype(xp.int64), size - 1)
    if mode == "nearest-exact":
        return xp.minimum(xp.floor((dst + 0.5) * scale).astype(xp.int64), size - 1)
    if align_corners:
        return dst * ((size - 1) / (out - 1) if out > 1 else 0.0)
    return xp.maximum((dst + 0.5) * scale - 0.5, 0.0)


def _interp_matrix(xp: Any, size: int, out: int, scale: float, mode: str,
                   align_corners: bool, dtype: Any) -> Any:
    """(out, size) matrix that resamples one axis."""
    src = _source_index(xp, size, out, scale, mode, align_corners)
    m = xp.zeros((out, size), dtype=xp.float64)
    rows = xp.arange(out)
    if mode in ("nearest", "nearest-exact"):
        m[rows, src] = 1.0
        return m.astype(dtype)
    lo = xp.floor(src).astype(xp.int64)
    hi = xp.minimum(lo + 1, size - 1)
    frac = src - lo
    m[rows, lo] += 1.0 - frac
    m[rows, hi] += frac
    return m.astype(dtype)


def interpolate(
    input: Tensor, size: Any = None, scale_factor: Any = None,  # noqa: A002
    mode: str = "nearest", align_corners: bool | None = None,
    recompute_scale_factor: bool | None = None, antialias: bool = False,
) -> Tensor:
    """Resize (N, C, H, W) (or (N, C, L) for linear/nearest) to `size` or by `scale_factor`."""
    modes_2d = {"nearest", "nearest-exact", "bilinear"}
    modes_1d = {"nearest", "nearest-exact", "linear"}
    if input.ndim == 3 and mode in modes_1d:
        spatial = 1
    elif input.ndim == 4 and mode in modes_2d:
        spatial = 2
    else:
        raise NotImplementedError(
            f"interpolate: mode '{mode}' on a {input.ndim}-D input is not supported "
            "(use nearest/bilinear for 4-D, nearest/linear for 3-D)"
        )
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported")
    if align_corners is not None and mode.startswith("nearest"):
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    if (size is None) == (scale_factor is None):
        raise ValueError("only one of size or scale_factor should be defined")
    sizes = list(input.shape[2:])
    if size is not None:
        out = [size] * spatial if isinstance(size, int) else list(size)
        scales = [s / o for s, o in zip(sizes, out)]
    else:
        factors = [scale_factor] * spatial if isinstance(scale_factor, (int, float)) \
            else list(scale_factor)
        out = [int(math.floor(s * f)) for s, f in zip(sizes, factors)]
        scales = [s / o if recompute_scale_factor else 1.0 / f
                  for s, o, f in zip(sizes, out, factors)]
    if len(out) != spatial or min(out) < 1:
        raise ValueError(f"interpolate: output size {out} is invalid for input of shape "
                         f"{list(input.shape)}")
    xp, dtype = input.device.xp, input._data.dtype
    if input.dtype.is_floating_point is False:
        raise NotImplementedError("interpolate: expected a floating-point input")
    kind = "linear" if mode in ("bilinear", "linear") else mode
    mats = [_interp_matrix(xp, s, o, sc, kind, bool(align_corners), dtype)
            for s, o, sc in zip(sizes, out, scales)]
    if spatial == 1:
        one = xp.ones((1, 1), dtype=dtype)
        return Separable2d.apply(input.unsqueeze(2), mh=one, mw=mats[0]).squeeze(2)
    return Separable2d.apply(input, mh=mats[0], mw=mats[1])


# ------------------------------------------------------------------------------ pad
class ConstantPad(Function):
    """Pad (or crop, for negative amounts) every axis with a constant.

    forward allocates the output; backward returns a view of the gradient (a zero-filled
    input-sized array when some padding was negative).
    """

    @staticmethod
    def forward(ctx, x, pads, value):
        xp = ctx.xp
        shape = tuple(n + lo + hi for n, (lo, hi) in zip(x.shape, pads))
        out = xp.full(shape, value, dtype=x.dtype)
        dst, src = _regions(x.shape, pads)
        out[dst] = x[src]
        ctx.geometry = (x.shape, pads)
        return out

    @staticmethod
    def backward(ctx, grad):
        shape, pads = ctx.geometry
        dst, src = _regions(shape, pads)
        if all(lo >= 0 and hi >= 0 for lo, hi in pads):
            return grad[dst]
        out = ctx.xp.zeros(shape, dtype=grad.dtype)
        out[src] = grad[dst]
        return out


def _regions(shape: tuple, pads: tuple) -> tuple:
    """(output slices, input slices) that hold the same elements."""
    dst, src = [], []
    for n, (lo, hi) in zip(shape, pads):
        dst.append(slice(max(lo, 0), max(lo, 0) + n - max(-lo, 0) - max(-hi, 0)))
        src.append(slice(max(-lo, 0), n - max(-hi, 0)))
    return tuple(dst), tuple(src)


class GatherAxes(Function):
    """x indexed along some axes by integer arrays (border padding): one take per axis.

    Each index array is (lo border, 0..n-1, hi border). forward allocates one array per
    padded axis; backward copies the interior of the gradient per axis and adds the border
    entries back with `add.at`.
    """

    @staticmethod
    def forward(ctx, x, indices):
        ctx.indices = indices
        ctx.shape = x.shape
        for axis, _, idx in indices:
            x = ctx.xp.take(x, idx, axis=axis)
        return x

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        for axis, lo, idx in reversed(ctx.indices):
            n = ctx.shape[axis]
            moved = xp.moveaxis(grad, axis, 0)
            g = moved[lo:lo + n].copy()
            border = xp.concatenate([xp.arange(lo), xp.arange(lo + n, len(idx))])
            xp.add.at(g, idx[border], moved[border])
            grad = xp.moveaxis(g, 0, axis)
        return grad


def _border_index(xp: Any, n: int, lo: int, hi: int, mode: str) -> Any:
    """Source position of each padded position along one axis."""
    i = xp.arange(-lo, n + hi)
    if mode == "replicate":
        return xp.clip(i, 0, n - 1)
    if mode == "circular":
        return i % n
    period = 2 * (n - 1)  # reflect: ... 2 1 | 0 1 2 ... n-1 | n-2 ...
    i = xp.abs(i) % period if period else xp.zeros_like(i)
    return xp.where(i >= n, period - i, i)


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant",  # noqa: A002
        value: float | None = None) -> Tensor:
    """Pad the last len(pad)//2 axes: pad = (left, right, top, bottom, ...), last axis first."""
    pad = tuple(int(p) for p in pad)
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(f"pad: padding length must be even and at most 2*ndim, got {pad} "
                         f"for an input of shape {list(input.shape)}")
    k = len(pad) // 2
    pads = [(0, 0)] * (input.ndim - k) + [(pad[2 * i], pad[2 * i + 1])
                                           for i in reversed(range(k))]
    if mode == "constant":
        return ConstantPad.apply(input, pads=tuple(pads), value=0 if value is None else value)
    if mode not in ("reflect", "replicate", "circular"):
        raise NotImplementedError(f"pad: mode '{mode}' is not supported")
    if value:
        raise ValueError(f"pad: padding mode '{mode}' doesn't take in value argument")
    if k > input.ndim - 1 or k > 3:
        raise NotImplementedError(
            f"pad: only the last 1, 2 or 3 (non-batch) dimensions can be padded in mode "
            f"'{mode}', got pad={pad} for input of shape {list(input.shape)}"
        )
    xp = input.device.xp
    indices = []
    for axis in range(input.ndim - k, input.ndim):
        n = input.shape[axis]
        lo, hi = pads[axis]
        if mode == "reflect" and (lo >= n or hi >= n):
            raise RuntimeError(
                f"pad: padding size should be less than the corresponding input dimension, "
                f"but got padding ({lo}, {hi}) at dimension {axis} of input "
                f"{list(input.shape)}"
            )
        if lo < 0 or hi < 0:
            raise NotImplementedError(f"pad: negative padding in mode '{mode}' is not supported")
        if mode == "circular" and (lo > n or hi > n):
            raise RuntimeError("pad: padding value causes wrapping around more than once")
        if lo or hi:
            indices.append((axis, lo, _border_index(xp, n, lo, hi, mode)))
    if not indices:
        return input + 0.0
    return GatherAxes.apply(input, indices=tuple(indices))
