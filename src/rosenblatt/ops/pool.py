"""Pooling and resampling: max/avg pooling, adaptive average pooling, interpolate, pad.

Pooling (2-d or 3-d) loops over the kernel offsets (never over pixels): each offset is one
strided slice of the padded input, the size of the output. Adaptive pooling and
interpolation are separable linear maps along H and W, applied as two matrix products.
"""

from __future__ import annotations

import math
from typing import Any, Callable

from .. import dtypes
from .._backend import parallel
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from .conv import _ntuple, kernel_offsets
from .elementwise import _named, refuse_bool_kernel, refuse_non_float


# --------------------------------------------------------------------------- helpers
def pool_out_size(size: int, kernel: int, stride: int, pad: int, dilation: int,
                  ceil_mode: bool) -> int:
    """PyTorch's pooling output length (ceil mode may not start a window in the padding)."""
    span = size + 2 * pad - dilation * (kernel - 1) - 1
    out = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1
    return out


def _padded(xp: Any, x: Any, pad: tuple, need: tuple, value: float) -> Any:
    """x padded by `pad` before and up to length `need` after, on the spatial axes."""
    n, c, *size = x.shape
    extra = tuple(max(nd - s - p, 0) for nd, s, p in zip(need, size, pad))
    if not (any(pad) or any(extra)):
        return x
    shape = (n, c) + tuple(s + p + e for s, p, e in zip(size, pad, extra))
    out = xp.full(shape, value, dtype=x.dtype)
    _crop(out, pad, size)[...] = x
    return out


def _crop(x: Any, pad: tuple, size: tuple) -> Any:
    """The unpadded (N, C, *size) region of a padded array (a view)."""
    return x[(..., *(slice(p, p + s) for p, s in zip(pad, size)))]


def _windows(kernel: tuple, stride: tuple, dilation: tuple, out: tuple):
    """(k, window slices) for each kernel offset, k its row-major flat index (i*kw + j)."""
    for k, (_, windows) in enumerate(kernel_offsets(kernel, stride, dilation, out)):
        yield k, windows


def _max_pool(xp: Any, x: Any, kernel: tuple, stride: tuple, padding: tuple,
              dilation: tuple, out: tuple) -> tuple:
    """(padded input, max over each window): one `maximum` pass per kernel offset."""
    xpad = _padded(xp, x, padding, _need(out, kernel, stride, dilation), -math.inf)
    best = None
    for _, windows in _windows(kernel, stride, dilation, out):
        window = xpad[(..., *windows)]
        best = window.copy() if best is None else xp.maximum(best, window, out=best)
    return xpad, best


def _first_hits(xp: Any, xpad: Any, best: Any, kernel: tuple, stride: tuple,
                dilation: tuple):
    """(offset k, window slices, mask) where offset k holds its window's FIRST maximum.

    Recomputed from the input instead of stored: PyTorch gives a tied window's gradient to
    its first maximum (a NaN counts as the maximum, and NaN propagates through `maximum`).
    """
    nan = bool(xp.isnan(best).any()) if best.dtype.kind == "f" else False
    taken = None
    for k, windows in _windows(kernel, stride, dilation, best.shape[2:]):
        window = xpad[(..., *windows)]
        hit = window == best
        if nan:
            hit |= xp.isnan(window)
        if taken is None:
            taken = hit.copy()
        else:
            hit &= ~taken
            taken |= hit
        yield k, windows, hit


def _keep_maxima(ctx: Any, x: Any, best: Any) -> Any:
    """Keep the input and the window maxima for backward, which finds each window's first
    maximum again by comparing the two; returns the maxima (the output)."""
    ctx.save_for_backward(x)
    ctx.best = best.copy()  # the output may change in place (ReLU(inplace=True)); the
    # window maxima backward compares with must not
    return best


def _kept_maxima(ctx: Any) -> tuple:
    """(input, window maxima) as `_keep_maxima` kept them."""
    return ctx.saved_tensors[0], ctx.best


class MaxPoolNd(Function):
    """Max over each window: (N, C, *S) -> (N, C, *S_out), e.g. (N, C, H, W) -> (N, C, Ho, Wo).

    forward allocates a padded copy of the input (when padding or ceil_mode need one) and
    the output; nothing beyond the input and output is kept. backward re-pads the input,
    finds each window's first maximum (a few output-sized boolean masks) and allocates
    the (padded) input gradient.
    """

    @staticmethod
    def forward(ctx, x, kernel, stride, padding, dilation, out):
        best = parallel.slabs(lambda x: _max_pool(ctx.xp, x, kernel, stride, padding, dilation,
                                                  out)[1], x, blocks=False)  # (images)
        ctx.geometry = (kernel, stride, padding, dilation)
        return _keep_maxima(ctx, x, best)

    @staticmethod
    def backward(ctx, grad):
        x, best = _kept_maxima(ctx)
        return parallel.slabs(_max_pool_grad, ctx.xp, x, best, grad, *ctx.geometry,
                              blocks=False)


def _max_pool_grad(xp: Any, x: Any, best: Any, grad: Any, kernel: tuple, stride: tuple,
                   padding: tuple, dilation: tuple) -> Any:
    """The input gradient of max pooling: each window's gradient to its first maximum."""
    out = best.shape[2:]
    xpad = _padded(xp, x, padding, _need(out, kernel, stride, dilation), -math.inf)
    overlap = any(s < d * (k - 1) + 1 for s, d, k in zip(stride, dilation, kernel))
    tiled = stride == kernel and all(d == 1 for d in dilation) and \
        xpad.shape[2:] == tuple(s * o for s, o in zip(stride, out))
    gpad = (xp.empty if tiled else xp.zeros)(xpad.shape, dtype=grad.dtype)
    for _, windows, hit in _first_hits(xp, xpad, best, kernel, stride, dilation):
        if overlap:
            gpad[(..., *windows)] += grad * hit
        else:  # disjoint windows: write each offset's share directly
            xp.multiply(grad, hit, out=gpad[(..., *windows)])
    return _crop(gpad, padding, x.shape[2:])


def _need(out: tuple, kernel: tuple, stride: tuple, dilation: tuple) -> tuple:
    """Padded input length the windows of an output of spatial size `out` reach."""
    return tuple((o - 1) * s + d * (k - 1) + 1 for o, s, d, k in zip(out, stride,
                                                                      dilation, kernel))


def _avg_divisor(xp: Any, size: tuple, kernel: tuple, stride: tuple, padding: tuple,
                 out: tuple, count_include_pad: bool, dtype: Any) -> Any:
    """The (Ho, Wo) divisor of each window, following PyTorch's avg_pool2d rules."""
    divisor = xp.ones((), dtype=xp.int64)
    for n, k, s, p, o in zip(size, kernel, stride, padding, out):
        start = xp.arange(o) * s - p
        end = xp.minimum(start + k, n + p)
        if count_include_pad:
            count = end - start
        else:
            count = xp.minimum(end, n) - xp.maximum(start, 0)
        divisor = divisor[..., None] * count  # outer product over the spatial axes
    return divisor.astype(dtype)


class AvgPoolNd(Function):
    """Mean over each window: (N, C, *S) -> (N, C, *S_out), e.g. (N, C, H, W) -> (N, C, Ho, Wo).

    forward allocates a padded copy of the input (when padding or ceil_mode need one) and
    the output; backward the padded input gradient and the scaled output gradient.
    """

    @staticmethod
    def forward(ctx, x, kernel, stride, padding, out, divisor):
        ctx.geometry = (x.shape[2:], kernel, stride, padding, divisor)
        return parallel.slabs(_avg_pool, ctx.xp, x, kernel, stride, padding, out, divisor,
                              blocks=False)

    @staticmethod
    def backward(ctx, grad):
        return parallel.slabs(_avg_pool_grad, ctx.xp, grad, *ctx.geometry, blocks=False)


# average pooling's kernels, run over slabs of images (split across the kernel threads)
def _avg_pool(xp: Any, x: Any, kernel: tuple, stride: tuple, padding: tuple, out: tuple,
              divisor: Any) -> Any:
    ones = (1,) * len(kernel)
    xpad = _padded(xp, x, padding, _need(out, kernel, stride, ones), 0.0)
    total = None
    for _, windows in _windows(kernel, stride, ones, out):
        window = xpad[(..., *windows)]
        total = window.copy() if total is None else xp.add(total, window, out=total)
    if total.dtype.kind in "iu":  # PyTorch's integer average truncates toward zero
        return xp.trunc(total / divisor).astype(total.dtype)
    return xp.divide(total, divisor, out=total)


def _avg_pool_grad(xp: Any, grad: Any, size: tuple, kernel: tuple, stride: tuple,
                   padding: tuple, divisor: Any) -> Any:
    ones = (1,) * len(kernel)
    need = _need(grad.shape[2:], kernel, stride, ones)
    padded = tuple(s + p + max(n - s - p, 0) for s, p, n in zip(size, padding, need))
    scaled = grad / divisor
    gpad = xp.zeros(grad.shape[:2] + padded, dtype=grad.dtype)
    for _, windows in _windows(kernel, stride, ones, grad.shape[2:]):
        gpad[(..., *windows)] += scaled
    return _crop(gpad, padding, size)


class Separable2d(Function):
    """out = Mh @ x @ Mw^T on the last two axes: (N, C, H, W) -> (N, C, Ho, Wo).

    Adaptive average pooling and interpolation are such linear maps. forward allocates an
    (N, C, H, Wo) intermediate and the output; backward the same two sizes.
    """

    @staticmethod
    def forward(ctx, x, mh, mw):
        n, c, h, w = x.shape
        t = ctx.xp.matmul(x.reshape(-1, w), mw.T).reshape(n * c, h, mw.shape[0])
        ctx.mats = (mh, mw)
        ctx.shape = x.shape
        return ctx.xp.matmul(mh, t).reshape(n, c, mh.shape[0], mw.shape[0])

    @staticmethod
    def backward(ctx, grad):
        mh, mw = ctx.mats
        n, c, h, w = ctx.shape
        t = ctx.xp.matmul(mh.T, grad.reshape(n * c, mh.shape[0], mw.shape[0]))
        return ctx.xp.matmul(t.reshape(-1, mw.shape[0]), mw).reshape(n, c, h, w)


# ---------------------------------------------------------------------- public API
def _pool_args(x: Tensor, kernel_size: Any, stride: Any, padding: Any, dilation: Any,
               op: str, k: int = 2) -> tuple:
    if x.ndim not in (k + 1, k + 2):
        raise RuntimeError(f"{op}: expected {k + 1}D or {k + 2}D (batch mode) tensor for "
                           f"input, got shape {list(x.shape)}")
    kernel = _ntuple(kernel_size, k, "kernel_size")
    stride = kernel if stride is None or stride == [] or stride == () \
        else _ntuple(stride, k, "stride")
    padding = _ntuple(padding, k, "padding")
    dilation = _ntuple(dilation, k, "dilation")
    if min(kernel) < 1 or min(stride) < 1 or min(dilation) < 1:
        raise RuntimeError(f"{op}: kernel_size {kernel}, stride {stride} and dilation "
                           f"{dilation} must be positive")
    for p, kk in zip(padding, kernel):
        if p < 0 or p > kk // 2:
            raise RuntimeError(f"{op}: pad should be at most half of effective kernel size, "
                               f"but got pad={padding}, kernel_size={kernel}")
    return kernel, stride, padding, dilation


def _out_shape(x: Tensor, kernel: tuple, stride: tuple, padding: tuple, dilation: tuple,
               ceil_mode: bool, op: str) -> tuple:
    k = len(kernel)
    out = tuple(pool_out_size(s, kk, st, p, d, ceil_mode) for s, kk, st, p, d in zip(
        x.shape[-k:], kernel, stride, padding, dilation))
    if min(out) < 1:
        raise RuntimeError(f"{op}: given input size {list(x.shape)}, calculated output size "
                           f"{list(x.shape[:-k]) + list(out)} is too small")
    return out


def _batched(x: Tensor, fn: Any, k: int = 2) -> Any:
    """Run a function of (N, C, *k spatial) on an unbatched (C, *k spatial) input too."""
    if x.ndim == k + 1:
        result = fn(x.unsqueeze(0))
        if isinstance(result, tuple):
            return tuple(r.squeeze(0) for r in result)
        return result.squeeze(0)
    return fn(x)


def _max_pooling(k: int, doc: str) -> Callable[..., Any]:
    """The public max_pool{k}d: (N, C, *S) -> (N, C, *S_out) [, int64 flat indices into
    prod(S)]."""
    op = f"max_pool{k}d"

    def max_pool(
        input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,  # noqa: A002
        dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False,
    ) -> Any:
        refuse_bool_kernel(input, op)
        kernel, stride, padding, dilation = _pool_args(input, kernel_size, stride, padding,
                                                       dilation, op, k)
        out = _out_shape(input, kernel, stride, padding, dilation, ceil_mode, op)

        def pool(x: Tensor) -> Any:
            y = MaxPoolNd.apply(x, kernel=kernel, stride=stride, padding=padding,
                                dilation=dilation, out=out)
            if not return_indices:
                return y
            return y, _max_indices(x, kernel, stride, padding, dilation, out)

        return _batched(input, pool, k)

    return _named(max_pool, op, doc)


max_pool2d = _max_pooling(2, "Max pooling: (N, C, H, W) -> (N, C, Ho, Wo) [, int64 flat "
                              "indices into H*W].")
max_pool3d = _max_pooling(3, "Max pooling: (N, C, D, H, W) -> (N, C, Do, Ho, Wo) [, int64 "
                              "indices into D*H*W].")


def _max_indices(x: Tensor, kernel: tuple, stride: tuple, padding: tuple, dilation: tuple,
                 out: tuple) -> Tensor:
    """Flat positions (d*H + h)*W + w of each window's maximum, as PyTorch's return_indices."""
    xp = x.device.xp
    xpad, best = _max_pool(xp, x._data, kernel, stride, padding, dilation, out)
    arg = xp.zeros(best.shape, dtype=xp.int64)
    for k, _, hit in _first_hits(xp, xpad, best, kernel, stride, dilation):
        arg += k * hit
    offsets = xp.unravel_index(arg, kernel)
    flat = xp.zeros(best.shape, dtype=xp.int64)
    for axis, (o, s, p, d, size) in enumerate(zip(out, stride, padding, dilation,
                                                  x.shape[2:])):
        start = (xp.arange(o) * s - p).reshape((-1,) + (1,) * (len(out) - axis - 1))
        flat = flat * size + start + offsets[axis] * d
    return Tensor._make(flat, False, None)


def _avg_pooling(k: int, doc: str) -> Callable[..., Tensor]:
    """The public avg_pool{k}d: (N, C, *S) -> (N, C, *S_out)."""
    op = f"avg_pool{k}d"

    def avg_pool(
        input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,  # noqa: A002
        ceil_mode: bool = False, count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> Tensor:
        refuse_bool_kernel(input, op)
        kernel, stride, padding, _ = _pool_args(input, kernel_size, stride, padding, 1, op, k)
        out = _out_shape(input, kernel, stride, padding, (1,) * k, ceil_mode, op)
        xp = input.device.xp
        if divisor_override:
            divisor = xp.asarray(divisor_override, dtype=input._data.dtype)
        else:
            divisor = _avg_divisor(xp, input.shape[-k:], kernel, stride, padding, out,
                                   count_include_pad, input._data.dtype)
        return _batched(input, lambda x: AvgPoolNd.apply(x, kernel=kernel, stride=stride,
                                                         padding=padding, out=out,
                                                         divisor=divisor), k)

    return _named(avg_pool, op, doc)


avg_pool2d = _avg_pooling(2, "Average pooling: (N, C, H, W) -> (N, C, Ho, Wo).")
avg_pool3d = _avg_pooling(3, "Average pooling: (N, C, D, H, W) -> (N, C, Do, Ho, Wo).")


def max_pool1d(
    input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,  # noqa: A002
    dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = False,
) -> Any:
    """Max pooling over the last axis: (N, C, L) -> (N, C, Lo)."""
    result = max_pool2d(
        input.unsqueeze(-2), (1,) + _ntuple(kernel_size, 1, "kernel_size"),
        None if stride is None else (1,) + _ntuple(stride, 1, "stride"),
        (0,) + _ntuple(padding, 1, "padding"), (1,) + _ntuple(dilation, 1, "dilation"),
        ceil_mode, return_indices)
    if return_indices:
        return result[0].squeeze(-2), result[1].squeeze(-2)
    return result.squeeze(-2)


def avg_pool1d(
    input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,  # noqa: A002
    ceil_mode: bool = False, count_include_pad: bool = True,
) -> Tensor:
    """Average pooling over the last axis: (N, C, L) -> (N, C, Lo)."""
    return avg_pool2d(
        input.unsqueeze(-2), (1,) + _ntuple(kernel_size, 1, "kernel_size"),
        None if stride is None else (1,) + _ntuple(stride, 1, "stride"),
        (0,) + _ntuple(padding, 1, "padding"), ceil_mode, count_include_pad).squeeze(-2)


def _adaptive_matrix(xp: Any, size: int, out: int, dtype: Any) -> Any:
    """(out, size) averaging matrix of PyTorch's adaptive pooling windows."""
    i = xp.arange(out)
    start = (i * size) // out
    end = ((i + 1) * size + out - 1) // out
    j = xp.arange(size)
    mask = (j >= start[:, None]) & (j < end[:, None])
    return (mask / (end - start)[:, None]).astype(dtype)


def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:  # noqa: A002
    """Average pooling to a fixed output size: (N, C, H, W) -> (N, C, *output_size)."""
    if input.ndim not in (3, 4):
        raise RuntimeError(f"adaptive_avg_pool2d: expected 3D or 4D tensor, got shape "
                           f"{list(input.shape)}")
    if not input.is_floating_point():  # PyTorch's mean of the windows has no integer result
        raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either a "
                           f"floating point or complex dtype. Got: "
                           f"{dtypes.scalar_type_name(input.dtype)}")
    h, w = input.shape[-2:]
    out = _adaptive_size(output_size, (h, w), "adaptive_avg_pool2d")
    xp, dtype = input.device.xp, input._data.dtype
    if (h, w) == out:
        return input + 0.0
    mh = _adaptive_matrix(xp, h, out[0], dtype)
    mw = _adaptive_matrix(xp, w, out[1], dtype)
    return _batched(input, lambda x: Separable2d.apply(x, mh=mh, mw=mw))


def adaptive_avg_pool1d(input: Tensor, output_size: Any) -> Tensor:  # noqa: A002
    """Average pooling to a fixed length: (N, C, L) -> (N, C, output_size)."""
    size = output_size if isinstance(output_size, int) else _ntuple(output_size, 1,
                                                                      "output_size")[0]
    return adaptive_avg_pool2d(input.unsqueeze(-2), (1, size)).squeeze(-2)


def _adaptive_size(output_size: Any, size: tuple, op: str) -> tuple:
    """(oh, ow) from an int, a pair, or None entries (keep that input size)."""
    if isinstance(output_size, int) or output_size is None:
        output_size = (output_size, output_size)
    out = (output_size[0] or size[0], output_size[1] or size[1])
    if min(out) < 1:
        raise RuntimeError(f"{op}: output size {out} must be positive")
    return out


def _adaptive_offsets(xp: Any, size: tuple, out: tuple):
    """(rows, cols, valid) for each offset inside PyTorch's adaptive windows.

    Window i spans [floor(i*H/oh), ceil((i+1)*H/oh)); offsets past a window's end are
    clamped to its last element (harmless for a max) and marked invalid.
    """
    bounds = []
    for n, o in zip(size, out):
        i = xp.arange(o)
        bounds.append(((i * n) // o, ((i + 1) * n + o - 1) // o))
    (h0, h1), (w0, w1) = bounds
    for a in range(int((h1 - h0).max())):
        for b in range(int((w1 - w0).max())):
            rows, cols = xp.minimum(h0 + a, h1 - 1), xp.minimum(w0 + b, w1 - 1)
            valid = (h0 + a < h1)[:, None] & (w0 + b < w1)[None, :]
            yield rows[:, None], cols[None, :], valid


class AdaptiveMaxPool2d(Function):
    """Max over PyTorch's adaptive windows: (N, C, H, W) -> (N, C, oh, ow).

    One gather of output size per window offset (windows are at most about H/oh + 1
    tall). forward allocates the output; backward the input gradient and output-sized
    masks, adding with `add.at` because neighbouring windows may share a row or column.
    """

    @staticmethod
    def forward(ctx, x, out):
        best = None
        for rows, cols, _ in _adaptive_offsets(ctx.xp, x.shape[-2:], out):
            window = x[:, :, rows, cols]
            best = window if best is None else ctx.xp.maximum(best, window, out=best)
        return _keep_maxima(ctx, x, best)

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        x, best = _kept_maxima(ctx)
        gx = xp.zeros(x.shape, dtype=grad.dtype)
        for rows, cols, hit in _adaptive_hits(xp, x, best):
            xp.add.at(gx, (slice(None), slice(None), rows, cols), grad * hit)
        return gx


def _adaptive_hits(xp: Any, x: Any, best: Any):
    """(rows, cols, mask of windows whose FIRST maximum is at this offset)."""
    nan = bool(xp.isnan(best).any())
    taken = xp.zeros(best.shape, dtype=bool)
    for rows, cols, valid in _adaptive_offsets(xp, x.shape[-2:], best.shape[-2:]):
        window = x[:, :, rows, cols]
        hit = (window == best) | xp.isnan(window) if nan else window == best
        hit &= valid
        hit &= ~taken
        taken |= hit
        yield rows, cols, hit


def adaptive_max_pool2d(input: Tensor, output_size: Any,  # noqa: A002
                        return_indices: bool = False) -> Any:
    """Max pooling to a fixed output size: (N, C, H, W) -> (N, C, *output_size)."""
    if input.ndim not in (3, 4):
        raise RuntimeError(f"adaptive_max_pool2d: expected 3D or 4D tensor, got shape "
                           f"{list(input.shape)}")
    refuse_non_float(input, "adaptive_max_pool2d")
    out = _adaptive_size(output_size, tuple(input.shape[-2:]), "adaptive_max_pool2d")

    def pool(x: Tensor) -> Any:
        y = AdaptiveMaxPool2d.apply(x, out=out)
        if not return_indices:
            return y
        xp = x.device.xp
        index = xp.zeros(y.shape, dtype=xp.int64)
        for rows, cols, hit in _adaptive_hits(xp, x._data, y._data):
            index += hit * (rows * x.shape[-1] + cols)
        return y, Tensor._make(index, False, None)

    return _batched(input, pool)


def adaptive_max_pool1d(input: Tensor, output_size: Any,  # noqa: A002
                        return_indices: bool = False) -> Any:
    """Max pooling to a fixed length: (N, C, L) -> (N, C, output_size)."""
    size = output_size if isinstance(output_size, int) else _ntuple(output_size, 1,
                                                                      "output_size")[0]
    result = adaptive_max_pool2d(input.unsqueeze(-2), (1, size), return_indices)
    if return_indices:
        return result[0].squeeze(-2), result[1].squeeze(-2)
    return result.squeeze(-2)


class MaxUnpool2d(Function):
    """Place each value at its max-pool index in a zero image: (N, C, h, w) -> (N, C, H, W).

    forward allocates the output; backward gathers the gradient at the indices.
    """

    @staticmethod
    def forward(ctx, x, indices, size):
        xp = ctx.xp
        n, c = x.shape[:2]
        out = xp.zeros((n, c, size[0] * size[1]), dtype=x.dtype)
        flat = indices.reshape(n, c, -1)
        xp.put_along_axis(out, flat, x.reshape(n, c, -1), axis=2)
        ctx.flat, ctx.shape = flat, x.shape
        return out.reshape(n, c, size[0], size[1])

    @staticmethod
    def backward(ctx, grad):
        n, c = grad.shape[:2]
        picked = ctx.xp.take_along_axis(grad.reshape(n, c, -1), ctx.flat, axis=2)
        return picked.reshape(ctx.shape), None


def max_unpool2d(
    input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None,  # noqa: A002
    padding: Any = 0, output_size: Any = None,
) -> Tensor:
    """Partial inverse of max_pool2d: (N, C, h, w) + its indices -> (N, C, H, W)."""
    kernel = _ntuple(kernel_size, 2, "kernel_size")
    stride = kernel if stride is None else _ntuple(stride, 2, "stride")
    padding = _ntuple(padding, 2, "padding")
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(f"max_unpool2d: indices of shape {list(indices.shape)} must match "
                           f"the input of shape {list(input.shape)}")
    size = tuple((n - 1) * s - 2 * p + k for n, s, p, k in
                 zip(input.shape[-2:], stride, padding, kernel))
    if output_size is not None:
        size = tuple(output_size)[-2:]
    if indices.numel() and int(indices.max().item()) >= size[0] * size[1]:
        raise RuntimeError(f"max_unpool2d: found an index {int(indices.max().item())} out of "
                           f"bounds for an output of size {list(size)}")
    return _batched(input, lambda x: MaxUnpool2d.apply(
        x, indices if indices.ndim == x.ndim else indices.unsqueeze(0), size=size))
