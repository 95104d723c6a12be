"""Convolutions: conv1d/2d/3d, conv_transpose2d, unfold/fold, all on one im2col core.

A padded input is copied, one kernel offset at a time (a loop over kh*kw (*kd), never over
pixels), into a column buffer (C*kh*kw rows, one column per output pixel). It meets the
weight (O, C*kh*kw) in ONE BLAS matrix product (or one per sample in the 'NCHW' layout).
Backward is two more products (weight gradient, column gradient) and a col2im that adds
each kernel offset's slice back into a padded gradient buffer.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

from .._backend import array_module
from .._backend.parallel import chunk_arrays
from ..autograd.function import Function
from ..autograd.tensor import Tensor

# --------------------------------------------------------------------- array helpers
# Buffers are allocated in a memory order chosen per call and handled through views in
# one canonical axis order: images (C, N, H, W), columns (C, kh, kw, N, Ho, Wo); with
# k spatial axes (k = 2 shown) the same orders hold with k kernel and k output axes.
# - "HWN": batch axis innermost; each kernel-offset slice is one long contiguous run per
#   (channel, row), so im2col/col2im are 2-3x faster; one product for the whole batch.
# - "NCHW": sample outermost; one product per sample writes (N, O, Ho*Wo) directly, no
#   transposes at all: 4-5x faster for first layers (few input channels, many outputs).
# - "NHW": channel-major image, one product; kept for conv_transpose2d with few outputs.
FORCE_LAYOUT: str | None = None  # for benchmarks


def image_order(layout: str, k: int = 2) -> tuple:
    """Memory order of an image (C, N, *spatial) with k spatial axes in `layout`."""
    spatial = tuple(range(2, k + 2))
    return {"NHW": (0, 1) + spatial, "HWN": (0,) + spatial + (1,),
            "NCHW": (1, 0) + spatial}[layout]


def cols_order(layout: str, k: int = 2) -> tuple:
    """Memory order of columns (C, *kernel, N, *out) with k spatial axes in `layout`."""
    kernel, out = tuple(range(1, k + 1)), tuple(range(k + 2, 2 * k + 2))
    return {"NHW": (0,) + kernel + (k + 1,) + out, "HWN": (0,) + kernel + out + (k + 1,),
            "NCHW": (k + 1, 0) + kernel + out}[layout]


def pick_layout(channels: int, kernel: tuple, out_channels: int) -> str:
    """Measured on LeNet/CNN/ResNet shapes: per-sample products ('NCHW', no transposes)
    when the columns are short (the first layer: C*kh*kw < 64), else batch-innermost
    columns ('HWN', fast copies)."""
    if FORCE_LAYOUT:
        return FORCE_LAYOUT
    return "NCHW" if channels * math.prod(kernel) < 64 else "HWN"


def pick_transposed_layout(channels: int, kernel: tuple, out_channels: int) -> str:
    """Column order for conv_transpose2d (one product over the whole batch)."""
    if FORCE_LAYOUT in ("NHW", "HWN"):
        return FORCE_LAYOUT
    return "HWN" if out_channels * kernel[0] * kernel[1] >= channels else "NHW"


def cols_matrix(cols: Any, layout: str, groups: int) -> Any:
    """Canonical columns -> (groups, C/g*kh*kw, M), or (N, groups, C/g*kh*kw, Ho*Wo) for
    the per-sample ('NCHW') layout; no copy."""
    k = (cols.ndim - 2) // 2
    c, n = cols.shape[0], cols.shape[k + 1]
    rows, pixels = c // groups * math.prod(cols.shape[1:k + 1]), math.prod(cols.shape[k + 2:])
    buf = cols.transpose(cols_order(layout, k))
    if layout == "NCHW":
        return buf.reshape(n, groups, rows, pixels)
    return buf.reshape(groups, rows, n * pixels)


def alloc(xp: Any, shape: tuple, order: tuple, dtype: Any, zeros: bool = False) -> Any:
    """A new buffer laid out in `order`, returned as a view in the canonical axis order."""
    make = xp.zeros if zeros else xp.empty
    buf = make(tuple(shape[i] for i in order), dtype=dtype)
    return buf.transpose([order.index(i) for i in range(len(order))])


def as_matrix(view: Any, order: tuple, rows: int) -> Any:
    """The contiguous buffer behind a canonical view, as a (rows, -1) matrix (no copy)."""
    return view.transpose(order).reshape(rows, -1)


def window_slice(start: int, count: int, step: int) -> slice:
    """The `count` positions start, start+step, ... as a slice."""
    return slice(start, start + step * (count - 1) + 1, step)


def kernel_offsets(kernel: tuple, stride: tuple, dilation: tuple, out: tuple):
    """(offset index (i, j, ...), window slices) for each kernel offset, row-major."""
    for offset in itertools.product(*(range(k) for k in kernel)):
        yield offset, tuple(window_slice(i * d, o, s)
                            for i, d, o, s in zip(offset, dilation, out, stride))


def im2col_into(cols: Any, x: Any, kernel: tuple, stride: tuple, dilation: tuple) -> Any:
    """Copy windows of padded `x` (C, N, Hp, Wp) into `cols` (C, kh, kw, N, Ho, Wo);
    channels split over the threads."""
    out = cols.shape[len(kernel) + 2:]

    def copy(cols: Any, x: Any) -> None:
        for offset, windows in kernel_offsets(kernel, stride, dilation, out):
            cols[(slice(None), *offset)] = x[(slice(None), slice(None), *windows)]

    chunk_arrays(copy, cols, x, xp=array_module(cols))
    return cols


def col2im_into(out: Any, cols: Any, kernel: tuple, stride: tuple, dilation: tuple) -> Any:
    """Add `cols` (C, kh, kw, N, Ho, Wo) into the padded image `out` (C, N, Hp, Wp);
    channels split over the threads (each pixel's sum keeps the kernel-offset order)."""
    size = cols.shape[len(kernel) + 2:]

    def add(out: Any, cols: Any) -> None:
        for offset, windows in kernel_offsets(kernel, stride, dilation, size):
            out[(slice(None), slice(None), *windows)] += cols[(slice(None), *offset)]

    chunk_arrays(add, out, cols, work=cols.size, xp=array_module(cols))
    return out


def copy_into(out: Any, x: Any) -> Any:
    """out[...] = x for same-shape arrays (broadcasting allowed), split along axis 0."""
    def copy(out: Any, x: Any) -> None:
        out[...] = x

    chunk_arrays(copy, out, x, xp=array_module(out))
    return out


def padded_cn(xp: Any, x: Any, padding: tuple, layout: str) -> Any:
    """(N, C, H, W) -> a zero-padded copy, canonical view (C, N, Hp, Wp), in `layout`."""
    n, c, *size = x.shape
    shape = (c, n) + tuple(s + before + after for s, (before, after) in zip(size, padding))
    zeros = any(before or after for before, after in padding)
    out = alloc(xp, shape, image_order(layout, len(size)), x.dtype, zeros=zeros)
    copy_into(crop(out, padding, size), x.swapaxes(0, 1))
    return out


def crop(x: Any, padding: tuple, size: tuple) -> Any:
    """The (H, W) region of a padded (C, N, Hp, Wp) array (a view)."""
    return x[(slice(None), slice(None),
              *(slice(before, before + s) for (before, _), s in zip(padding, size)))]


def out_size(size: int, kernel: int, stride: int, pad: int, dilation: int) -> int:
    """Output length of a sliding window (pad = total padding of both sides)."""
    return (size + pad - dilation * (kernel - 1) - 1) // stride + 1


def to_nchw(xp: Any, y: Any, bias: Any = None) -> Any:
    """Canonical (C, N, H, W) view -> contiguous (N, C, H, W), adding bias in the same pass."""
    yt = y.swapaxes(0, 1)
    out = xp.empty(yt.shape, dtype=y.dtype)
    if bias is None:
        return copy_into(out, yt)
    bias = bias.reshape((1, -1) + (1,) * (y.ndim - 2))
    chunk_arrays(lambda out, yt: xp.add(yt, bias, out=out), out, yt, xp=xp)
    return out


# ----------------------------------------------------------------------- functions
class ConvNd(Function):
    """k-D cross-correlation: (N, C, *S), (O, C/g, *kernel), (O) -> (N, O, *S_out).

    Shown for k = 2 ((N, C, H, W) -> (N, O, Ho, Wo)): forward allocates a padded copy of
    the input, one (C*kh*kw, N*Ho*Wo) column buffer (kept for backward: kh*kw times the
    input) and the (O, N*Ho*Wo) product; in the 'HWN' and 'NHW' layouts the product is
    copied once more into the (N, O, Ho, Wo) output, in 'NCHW' it is the output. backward
    allocates an (O, N*Ho*Wo) copy of the output gradient ('HWN'/'NHW' only), the weight
    gradient (N partial ones summed in 'NCHW'), a (C*kh*kw, N*Ho*Wo) column gradient, the
    padded input gradient and the input gradient.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, dilation, groups):
        xp = ctx.xp
        n, c, *size = x.shape
        o, cg, *kernel = weight.shape
        k = len(kernel)
        layout = pick_layout(c, kernel, o)
        out = tuple(out_size(s, kk, st, sum(p), d)
                    for s, kk, st, p, d in zip(size, kernel, stride, padding, dilation))
        cols = alloc(xp, (c, *kernel, n, *out), cols_order(layout, k), x.dtype)
        im2col_into(cols, padded_cn(xp, x, padding, layout), kernel, stride, dilation)
        cols = cols_matrix(cols, layout, groups)
        w2 = weight.reshape(groups, o // groups, -1)
        y = xp.matmul(w2[0], cols[0]) if groups == 1 and layout != "NCHW" \
            else xp.matmul(w2, cols)
        ctx.save_for_backward(weight)
        ctx.cols = cols
        ctx.geometry = (x.shape, padding, stride, dilation, groups, layout)
        if layout == "NCHW":  # per-sample products are already (N, O, Ho*Wo)
            y = y.reshape(n, o, *out)
            if bias is not None:
                bias = bias.reshape((1, -1) + (1,) * k)
                chunk_arrays(lambda y: xp.add(y, bias, out=y), y, xp=xp)
            return y
        order = image_order(layout, k)
        y = y.reshape(_buffer_shape((o, n, *out), order))
        return to_nchw(xp, y.transpose(_inverse(order)), bias)

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        (weight,) = ctx.saved_tensors
        (n, c, *size), padding, stride, dilation, groups, layout = ctx.geometry
        need_x, need_w, need_b = ctx.needs_input_grad
        o, _, *kernel = weight.shape
        k = len(kernel)
        out = grad.shape[2:]
        order = image_order(layout, k)
        if layout == "NCHW":
            g2 = xp.ascontiguousarray(grad).reshape(n, groups, o // groups, math.prod(out))
        else:
            g2 = copy_into(alloc(xp, (o, n, *out), order, grad.dtype), grad.swapaxes(0, 1))
            g2 = as_matrix(g2, order, o).reshape(groups, o // groups, -1)
        grad_x = grad_w = grad_b = None
        if need_b:
            grad_b = grad.sum(axis=(0, *range(2, k + 2)))
        if need_w:
            grad_w = xp.matmul(g2, xp.swapaxes(ctx.cols, -1, -2))
            if layout == "NCHW":
                grad_w = grad_w.sum(axis=0)
            grad_w = grad_w.reshape(weight.shape)
        if need_x:
            w2 = weight.reshape(groups, o // groups, -1)
            gcols = xp.matmul(w2.transpose(0, 2, 1), g2)
            corder = cols_order(layout, k)
            gcols = gcols.reshape(_buffer_shape((c, *kernel, n, *out), corder))
            gcols = gcols.transpose(_inverse(corder))
            padded = tuple(s + sum(p) for s, p in zip(size, padding))
            gpad = alloc(xp, (c, n, *padded), order, grad.dtype, zeros=True)
            col2im_into(gpad, gcols, kernel, stride, dilation)
            grad_x = to_nchw(xp, crop(gpad, padding, size))
        return grad_x, grad_w, grad_b


def _inverse(order: tuple) -> tuple:
    return tuple(order.index(i) for i in range(len(order)))


def _buffer_shape(shape: tuple, order: tuple) -> tuple:
    return tuple(shape[i] for i in order)


class ConvTranspose2d(Function):
    """Transposed 2-D convolution (the gradient of conv2d with respect to its input).

    (N, Cin, H, W), (Cin, Cout/g, kh, kw), (Cout) -> (N, Cout, Hout, Wout).
    forward allocates a (Cin, N*H*W) copy of the input (kept for backward), a
    (Cout*kh*kw, N*H*W) column buffer, the padded output and the output. backward
    allocates a padded copy of the output gradient, its (Cout*kh*kw, N*H*W) columns and
    the two gradients.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, output_padding, dilation, groups):
        xp = ctx.xp
        n, cin, h, w = x.shape
        _, cog, kh, kw = weight.shape
        cout = cog * groups
        size = tuple((s - 1) * st - 2 * p + d * (k - 1) + op + 1 for s, st, p, d, k, op in zip(
            (h, w), stride, padding, dilation, (kh, kw), output_padding))
        layout = pick_transposed_layout(cin, (kh, kw), cout)
        order = image_order(layout)
        x2 = copy_into(alloc(xp, (cin, n, h, w), order, x.dtype), x.transpose(1, 0, 2, 3))
        x2 = as_matrix(x2, order, cin).reshape(groups, cin // groups, -1)
        w2 = weight.reshape(groups, cin // groups, cog * kh * kw)
        cols = xp.matmul(w2.transpose(0, 2, 1), x2)
        cols = cols.reshape(_buffer_shape((cout, kh, kw, n, h, w), cols_order(layout)))
        cols = cols.transpose(_inverse(cols_order(layout)))
        pads = ((padding[0], padding[0]), (padding[1], padding[1]))
        shape = (cout, n, size[0] + 2 * padding[0], size[1] + 2 * padding[1])
        ypad = alloc(xp, shape, order, x.dtype, zeros=True)
        col2im_into(ypad, cols, (kh, kw), stride, dilation)
        del cols
        ctx.save_for_backward(weight)
        ctx.x2 = x2
        ctx.geometry = (x.shape, pads, stride, dilation, groups, layout)
        return to_nchw(xp, crop(ypad, pads, size), bias)

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        (weight,) = ctx.saved_tensors
        (n, cin, h, w), pads, stride, dilation, groups, layout = ctx.geometry
        need_x, need_w, need_b = ctx.needs_input_grad
        _, cog, kh, kw = weight.shape
        cout = cog * groups
        order = image_order(layout)
        gcols = alloc(xp, (cout, kh, kw, n, h, w), cols_order(layout), grad.dtype)
        im2col_into(gcols, padded_cn(xp, grad, pads, layout), (kh, kw), stride, dilation)
        gcols = as_matrix(gcols, cols_order(layout), cout * kh * kw)
        gcols = gcols.reshape(groups, cog * kh * kw, -1)
        grad_x = grad_w = grad_b = None
        if need_b:
            grad_b = grad.sum(axis=(0, 2, 3))
        if need_w:
            grad_w = xp.matmul(ctx.x2, gcols.transpose(0, 2, 1)).reshape(weight.shape)
        if need_x:
            w2 = weight.reshape(groups, cin // groups, cog * kh * kw)
            gx = xp.matmul(w2, gcols).reshape(_buffer_shape((cin, n, h, w), order))
            grad_x = to_nchw(xp, gx.transpose(_inverse(order)))
        return grad_x, grad_w, grad_b


class Unfold(Function):
    """Sliding local blocks: (N, C, H, W) -> (N, C*kh*kw, L); im2col as an op.

    forward allocates a padded copy of the input and the output; backward the padded
    input gradient and the input gradient.
    """

    @staticmethod
    def forward(ctx, x, kernel, stride, padding, dilation):
        xp = ctx.xp
        n, c, h, w = x.shape
        pads = ((padding[0], padding[0]), (padding[1], padding[1]))
        ho = out_size(h, kernel[0], stride[0], 2 * padding[0], dilation[0])
        wo = out_size(w, kernel[1], stride[1], 2 * padding[1], dilation[1])
        out = xp.empty((n, c, kernel[0], kernel[1], ho, wo), dtype=x.dtype)
        im2col_into(out.transpose(1, 2, 3, 0, 4, 5), padded_cn(xp, x, pads, "NHW"), kernel,
                    stride, dilation)
        ctx.geometry = (x.shape, pads, kernel, stride, dilation)
        return out.reshape(n, c * kernel[0] * kernel[1], ho * wo)

    @staticmethod
    def backward(ctx, grad):
        (n, c, h, w), pads, kernel, stride, dilation = ctx.geometry
        return _fold(ctx.xp, grad, (h, w), pads, kernel, stride, dilation)


def _fold(xp: Any, cols: Any, size: tuple, pads: tuple, kernel: tuple, stride: tuple,
          dilation: tuple) -> Any:
    """(N, C*kh*kw, L) columns summed into a contiguous (N, C, H, W) image."""
    n = cols.shape[0]
    c = cols.shape[1] // (kernel[0] * kernel[1])
    ho = out_size(size[0], kernel[0], stride[0], sum(pads[0]), dilation[0])
    wo = out_size(size[1], kernel[1], stride[1], sum(pads[1]), dilation[1])
    cols6 = cols.reshape(n, c, kernel[0], kernel[1], ho, wo).transpose(1, 2, 3, 0, 4, 5)
    shape = (c, n, size[0] + sum(pads[0]), size[1] + sum(pads[1]))
    out = xp.zeros(shape, dtype=cols.dtype)
    col2im_into(out, cols6, kernel, stride, dilation)
    return to_nchw(xp, crop(out, pads, size))


class Fold(Function):
    """Sum sliding local blocks back into an image: (N, C*kh*kw, L) -> (N, C, H, W).

    forward allocates the padded output; backward the padded gradient and its columns.
    """

    @staticmethod
    def forward(ctx, cols, size, kernel, stride, padding, dilation):
        pads = ((padding[0], padding[0]), (padding[1], padding[1]))
        ctx.geometry = (kernel, stride, padding, dilation)
        return _fold(ctx.xp, cols, size, pads, kernel, stride, dilation)

    @staticmethod
    def backward(ctx, grad):
        kernel, stride, padding, dilation = ctx.geometry
        return Unfold.forward(ctx, grad, kernel, stride, padding, dilation)


# ---------------------------------------------------------------- argument checking
def _ntuple(value: Any, n: int, name: str) -> tuple:
    """An int or a sequence of n ints as a tuple of n ints (PyTorch's _pair/_single)."""
    if isinstance(value, int):
        return (value,) * n
    value = tuple(value)
    if len(value) == 1:
        return value * n
    if len(value) != n or not all(isinstance(v, int) for v in value):
        raise ValueError(f"{name} must be an int or a tuple of {n} ints, got {value}")
    return value


def _check_input(x: Tensor, weight: Tensor, bias: Tensor | None, op: str, ndim: int) -> None:
    if not isinstance(x, Tensor) or not isinstance(weight, Tensor):
        raise TypeError(f"{op}(): input and weight must be tensors")
    if x.ndim not in (ndim - 1, ndim):
        raise RuntimeError(
            f"Expected {ndim - 1}D (unbatched) or {ndim}D (batched) input to {op}, but got "
            f"input of size: {list(x.shape)}"
        )
    if weight.ndim != ndim:
        raise RuntimeError(f"{op}: weight must be {ndim}-D, got shape {list(weight.shape)}")
    if x.dtype != weight.dtype:
        raise RuntimeError(
            f"{op}: Input type ({x.dtype.name}) and weight type ({weight.dtype.name}) should "
            "be the same"
        )
    if bias is not None and bias.dtype != weight.dtype:
        raise RuntimeError(
            f"{op}: Input type ({x.dtype.name}) and bias type ({bias.dtype.name}) should be "
            "the same"
        )
    if not x.is_floating_point():
        raise RuntimeError(f"{op}: expected a floating-point input, got {x.dtype.name}")


def _same_padding(kernel: tuple, dilation: tuple) -> tuple:
    """'same': total d*(k-1) split with the extra element at the end, as PyTorch does."""
    pads = []
    for k, d in zip(kernel, dilation):
        total = d * (k - 1)
        pads.append((total // 2, total - total // 2))
    return tuple(pads)


def _conv_padding(padding: Any, kernel: tuple, stride: tuple, dilation: tuple, op: str) -> tuple:
    """((top, bottom), (left, right), ...) from an int, a tuple, 'same' or 'valid'."""
    n = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * n
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(f"{op}: padding='same' is not supported for strided convolutions")
            return _same_padding(kernel, dilation)
        raise ValueError(f"Invalid padding string '{padding}', should be one of ['valid', 'same']")
    p = _ntuple(padding, n, "padding")
    if any(v < 0 for v in p):
        raise RuntimeError(f"{op}: negative padding is not supported, got {p}")
    return tuple((v, v) for v in p)


def _convnd(input: Tensor, weight: Tensor, bias: Tensor | None, stride: Any,  # noqa: A002
             padding: Any, dilation: Any, groups: int, k: int) -> Tensor:
    """conv{k}d: (N, C, *S), (O, C/groups, *kernel), (O) -> (N, O, *S_out), checked."""
    op = f"conv{k}d"
    _check_input(input, weight, bias, op, k + 2)
    if input.ndim == k + 1:
        return _convnd(input.unsqueeze(0), weight, bias, stride, padding, dilation, groups,
                       k).squeeze(0)
    stride = _ntuple(stride, k, "stride")
    dilation = _ntuple(dilation, k, "dilation")
    o, cg, *kernel = weight.shape
    c, size = input.shape[1], input.shape[2:]
    if groups < 1 or o % groups:
        raise RuntimeError(f"{op}: out_channels ({o}) must be divisible by groups ({groups})")
    if cg * groups != c:
        raise RuntimeError(
            f"Given groups={groups}, weight of size {list(weight.shape)}, expected "
            f"input{list(input.shape)} to have {cg * groups} channels, but got {c} channels "
            "instead"
        )
    if bias is not None and tuple(bias.shape) != (o,):
        raise RuntimeError(f"{op}: bias must have shape ({o},), got {tuple(bias.shape)}")
    if any(s < 1 for s in stride) or any(d < 1 for d in dilation):
        raise RuntimeError(f"{op}: stride {stride} and dilation {dilation} must be positive")
    pads = _conv_padding(padding, tuple(kernel), stride, dilation, op)
    padded = [s + sum(p) for s, p in zip(size, pads)]
    spans = [d * (kk - 1) + 1 for d, kk in zip(dilation, kernel)]
    if any(p < span for p, span in zip(padded, spans)):
        raise RuntimeError(
            f"{op}: calculated padded input size per channel: "
            f"({' x '.join(map(str, padded))}). Kernel size: ({' x '.join(map(str, spans))})."
            " Kernel size can't be greater than actual input size"
        )
    return ConvNd.apply(input, weight, bias, stride=stride, padding=pads, dilation=dilation,
                        groups=groups)


def conv2d(
    input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,  # noqa: A002
    padding: Any = 0, dilation: Any = 1, groups: int = 1,
) -> Tensor:
    """2-D convolution: (N, C, H, W), (O, C/groups, kh, kw), (O) -> (N, O, Ho, Wo)."""
    return _convnd(input, weight, bias, stride, padding, dilation, groups, 2)


def conv3d(
    input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,  # noqa: A002
    padding: Any = 0, dilation: Any = 1, groups: int = 1,
) -> Tensor:
    """3-D convolution: (N, C, D, H, W), (O, C/groups, kd, kh, kw), (O) -> (N, O, Do, Ho, Wo)."""
    return _convnd(input, weight, bias, stride, padding, dilation, groups, 3)


def conv1d(
    input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,  # noqa: A002
    padding: Any = 0, dilation: Any = 1, groups: int = 1,
) -> Tensor:
    """1-D convolution: (N, C, L), (O, C/groups, k), (O) -> (N, O, Lo)."""
    _check_input(input, weight, bias, "conv1d", 3)
    if input.ndim == 2:
        return conv1d(input.unsqueeze(0), weight, bias, stride, padding, dilation,
                      groups).squeeze(0)
    stride = (1,) + _ntuple(stride, 1, "stride")
    dilation = (1,) + _ntuple(dilation, 1, "dilation")
    padding = padding if isinstance(padding, str) else (0,) + _ntuple(padding, 1, "padding")
    out = conv2d(input.unsqueeze(2), weight.unsqueeze(2), bias, stride, padding, dilation,
                 groups)
    return out.squeeze(2)


def conv_transpose2d(
    input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,  # noqa: A002
    padding: Any = 0, output_padding: Any = 0, groups: int = 1, dilation: Any = 1,
) -> Tensor:
    """Transposed conv: (N, Cin, H, W), (Cin, Cout/groups, kh, kw) -> (N, Cout, Hout, Wout)."""
    _check_input(input, weight, bias, "conv_transpose2d", 4)
    if input.ndim == 3:
        return conv_transpose2d(input.unsqueeze(0), weight, bias, stride, padding,
                                output_padding, groups, dilation).squeeze(0)
    stride = _ntuple(stride, 2, "stride")
    padding = _ntuple(padding, 2, "padding")
    output_padding = _ntuple(output_padding, 2, "output_padding")
    dilation = _ntuple(dilation, 2, "dilation")
    cin, cog, kh, kw = weight.shape
    if input.shape[1] != cin or cin % groups:
        raise RuntimeError(
            f"Given transposed=1, weight of size {list(weight.shape)}, expected "
            f"input{list(input.shape)} to have {cin} channels, but got {input.shape[1]} "
            "channels instead"
        )
    if bias is not None and tuple(bias.shape) != (cog * groups,):
        raise RuntimeError(f"conv_transpose2d: bias must have shape ({cog * groups},), got "
                           f"{tuple(bias.shape)}")
    for op, s, d in zip(output_padding, stride, dilation):
        if op >= s and op >= d:
            raise RuntimeError(
                f"conv_transpose2d: output padding must be smaller than either stride or "
                f"dilation, but got output_padding={output_padding}, stride={stride}, "
                f"dilation={dilation}"
            )
    size = [(n - 1) * s - 2 * p + d * (k - 1) + op + 1 for n, s, p, d, k, op in zip(
        input.shape[2:], stride, padding, dilation, (kh, kw), output_padding)]
    if min(size) < 1:
        raise RuntimeError(f"conv_transpose2d: output size {size} is too small for input "
                           f"{list(input.shape)}")
    return ConvTranspose2d.apply(input, weight, bias, stride=stride, padding=padding,
                                 output_padding=output_padding, dilation=dilation,
                                 groups=groups)


def unfold(
    input: Tensor, kernel_size: Any, dilation: Any = 1, padding: Any = 0,  # noqa: A002
    stride: Any = 1,
) -> Tensor:
    """Extract sliding blocks: (N, C, H, W) -> (N, C*kh*kw, L)."""
    if input.ndim != 4:
        raise RuntimeError(f"unfold: expected a 4-D (N, C, H, W) input, got shape "
                           f"{list(input.shape)}")
    kernel = _ntuple(kernel_size, 2, "kernel_size")
    dilation, padding, stride = (_ntuple(v, 2, name) for v, name in
                                 ((dilation, "dilation"), (padding, "padding"),
                                  (stride, "stride")))
    return Unfold.apply(input, kernel=kernel, stride=stride, padding=padding, dilation=dilation)


def fold(
    input: Tensor, output_size: Any, kernel_size: Any, dilation: Any = 1,  # noqa: A002
    padding: Any = 0, stride: Any = 1,
) -> Tensor:
    """Sum sliding blocks into an image: (N, C*kh*kw, L) -> (N, C, H, W)."""
    size = _ntuple(output_size, 2, "output_size")
    kernel = _ntuple(kernel_size, 2, "kernel_size")
    dilation, padding, stride = (_ntuple(v, 2, name) for v, name in
                                 ((dilation, "dilation"), (padding, "padding"),
                                  (stride, "stride")))
    if input.ndim != 3 or input.shape[1] % (kernel[0] * kernel[1]):
        raise RuntimeError(
            f"fold: expected a 3-D input (N, C*{kernel[0]}*{kernel[1]}, L), got shape "
            f"{list(input.shape)}"
        )
    blocks = [out_size(s, k, st, 2 * p, d)
              for s, k, st, p, d in zip(size, kernel, stride, padding, dilation)]
    if blocks[0] * blocks[1] != input.shape[2]:
        raise RuntimeError(
            f"fold: expected input's size at dimension 2 to match the calculated number of "
            f"sliding blocks {blocks[0]} * {blocks[1]} = {blocks[0] * blocks[1]}, but got "
            f"input.size(2)={input.shape[2]}"
        )
    return Fold.apply(input, size=size, kernel=kernel, stride=stride, padding=padding,
                      dilation=dilation)
