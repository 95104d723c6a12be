"""Lowering: recorded steps rewritten into faster kernels for a plan (NumPy only).

A plan runs no backward, so it need not keep what the ops keep for one, nor compute in their
order, nor leave a value it alone reads unchanged. The rewrites:

- a 2-D convolution (stride 1, no dilation, one group, few input taps), with the ReLU and the
  2x2 max pooling that follow it when nothing else reads their inputs, becomes one kernel.
  The image is read channels-last, and each output row's group of `g` columns is one row of
  a left matrix (a strided view: kh x (g + kw - 1) pixels, all channels) that meets a banded
  weight matrix (its columns: g columns x the output channels) in ONE product: no im2col
  copy. Max pooling runs before the bias and ReLU (they are monotone, so they commute with
  max: a quarter of the work). The result is channels-last memory seen as (N, C, H, W): the
  next lowered convolution reads it as it is, and a flatten copies it into (C, H, W) order.
- any other 2x2 max pooling (stride 2, no padding) is two strided maxima (`Pool2x2`, no
  copy of the window maxima for a backward), after a ReLU whose result only it reads: the
  ReLU then runs on the pooled values.
- a ReLU of a value that only it reads, made by an op that returns a new array (Linear, a
  lowered kernel), writes into that array instead of a new one (`ReluInPlace`).

A lowered kernel gives the op's values up to float rounding (its sums run in another order),
so `probe` compares a lowered plan with eager to a tolerance (`Plan.exact` is False).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from .._backend import np
from ..ops.conv import ConvNd
from ..ops.elementwise import Relu
from ..ops.linalg import Linear
from ..ops.pool import MaxPoolNd

ENABLED = True  # tests turn it off to compare plans with eager bit for bit
MAX_TAPS = 512  # input channels x kernel pixels of a lowered convolution (measured up to 500)


class ConvReluPool:
    """Convolution (+ ReLU) (+ 2x2 max pooling) as one plan step; see the module docstring."""

    view = True  # its result is a view of its own buffer (never of an input)

    @staticmethod
    def forward(ctx: Any, x: Any, weight: Any, bias: Any, padding: tuple, relu: bool,
                pool: bool, kept: list) -> Any:
        """(N, C, H, W), (O, C, kh, kw), (O,) or None -> (N, O, Ho, Wo), halved by `pool`;
        `kept`: this step's [weight, its copy, banded matrix] from its last run."""
        n, c, h, w = x.shape
        o, _, kh, kw = weight.shape
        (top, bottom), (left, right) = padding
        hp, wp = h + top + bottom, w + left + right
        ho, wo = hp - kh + 1, wp - kw + 1
        if top or bottom or left or right:
            image = np.zeros((n, hp, wp, c), x.dtype)
            image[:, top : top + h, left : left + w] = x.transpose(0, 2, 3, 1)
        else:
            image = np.ascontiguousarray(x.transpose(0, 2, 3, 1))  # free after a lowered conv
        group = _group(c, wo)
        s0, s1, s2 = image.strides[:3]  # (a window row: kh rows of (group + kw - 1) * c)
        windows = np.lib.stride_tricks.as_strided(
            image, (n, ho, wo // group, kh, (group + kw - 1) * c),
            (s0, s1, group * s2, s1, image.itemsize), writeable=False)
        y = windows.reshape(-1, kh * (group + kw - 1) * c) @ _banded_of(kept, weight, group)
        y = y.reshape(n, ho, wo, o)
        if pool:
            rows = np.maximum(y[:, 0 : ho - 1 : 2], y[:, 1:ho:2])
            y = np.maximum(rows[:, :, 0 : wo - 1 : 2], rows[:, :, 1:wo:2])
        if bias is not None:
            y += bias
        if relu:
            np.maximum(np.zeros((), y.dtype), y, out=y)  # zero first: relu(-0.0) is -0.0
        return y.transpose(0, 3, 1, 2)


class Pool2x2:
    """2x2 max pooling, stride 2 (+ ReLU after it) as a plan step: (N, C, H, W) in any
    memory order -> (N, C, H // 2, W // 2)."""

    view = True  # a new array (never a view of an input)

    @staticmethod
    def forward(ctx: Any, x: Any, relu: bool) -> Any:
        """Maximum of the even and odd rows, then of the even and odd columns."""
        h, w = x.shape[-2:]
        rows = np.maximum(x[..., 0 : h - 1 : 2, :], x[..., 1:h:2, :])
        y = np.maximum(rows[..., 0 : w - 1 : 2], rows[..., 1:w:2])
        if relu:
            np.maximum(np.zeros((), y.dtype), y, out=y)
        return y


class ReluInPlace:
    """ReLU written into its input (a value nothing else reads) as a plan step."""

    view = True  # its input array itself

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        """max(0, x) into x; zero first, so relu(-0.0) is -0.0 as the op's."""
        return np.maximum(np.zeros((), x.dtype), x, out=x)


# ops whose result is always a new array (never an input, a view of one, or a constant's)
_NEW_ARRAY = (ConvNd, ConvReluPool, Pool2x2, Linear)


def _group(channels: int, width: int) -> int:
    """Output columns per row of the left matrix: wider multiplies more zeros, narrower
    gives BLAS thinner products (4 for one input channel, 2 for more were fastest)."""
    for group in ((4, 2, 1) if channels < 4 else (2, 1)):
        if width % group == 0:
            return group
    return 1


def _banded_of(kept: list, weight: Any, group: int) -> Any:
    """`banded(weight, group)`, made again only when the weight changed since the last run
    (a plan reads parameters live: an optimizer step or `load_state_dict` changes them)."""
    if not kept or kept[0] is not weight or kept[2].shape[1] != group * weight.shape[0] or \
            not np.array_equal(kept[1], weight):
        kept[:] = [weight, weight.copy(), banded(weight, group)]
    return kept[2]


def banded(weight: Any, group: int) -> Any:
    """(O, C, kh, kw) -> (kh * (group + kw - 1) * C, group * O): a window row (kh rows of
    group + kw - 1 pixels, channels innermost) to its group of output columns."""
    o, c, kh, kw = weight.shape
    m = np.zeros((kh, group + kw - 1, c, group, o), weight.dtype)
    for j in range(group):
        for dx in range(kw):
            m[:, j + dx, :, j, :] = weight[:, :, :, dx].transpose(2, 1, 0)
    return m.reshape(-1, group * o)


def lower(steps: list, outputs: list) -> tuple[list, bool]:
    """`steps` (capture's records) with what can be lowered replaced; and whether any was.
    `outputs`: the tensors the forward returns (they must stay computed)."""
    if not ENABLED:
        return steps, False
    reads = Counter(id(t) for step in steps for t in step[1] if t is not None)
    reads.update(id(t) for t in outputs)
    out, i, lowered = [], 0, False
    made_by: dict[int, type] = {}  # id(value) -> the op (lowered) that made it
    while i < len(steps):
        fused = (_conv_chain(steps, i, reads) or _pool_chain(steps, i, reads)
                 or _relu_in_place(steps, i, reads, made_by))
        if fused is None:
            step, i = steps[i], i + 1
        else:
            (step, i), lowered = fused, True
        out.append(step)
        if step[3] is not None:
            made_by[id(step[3])] = step[0]
    return out, lowered


def _conv_chain(steps: list, i: int, reads: Counter) -> tuple[tuple, int] | None:
    """The lowered step for a convolution at `i` (with the ReLU and pooling after it), and
    the index after the chain; None where it does not lower."""
    op, args, params, out, seen, made = steps[i]
    if op is not ConvNd or not _lowerable(args, params):
        return None
    relu = pool = False
    j = i + 1
    if _reads_only(steps, j, Relu, out, reads):
        out, made, relu, j = steps[j][3], steps[j][5], True, j + 1
    if _reads_only(steps, j, MaxPoolNd, out, reads) and _halves(steps[j][2], out.shape):
        out, made, pool, j = steps[j][3], steps[j][5], True, j + 1
    step = (ConvReluPool, args, {"padding": params["padding"], "relu": relu, "pool": pool,
                                 "kept": []}, out, seen, made)
    return step, j


def _pool_chain(steps: list, i: int, reads: Counter) -> tuple[tuple, int] | None:
    """A 2x2 max pooling at `i` (or a ReLU at `i` that only it reads) as one `Pool2x2`."""
    op, args, params, out, seen, made = steps[i]
    relu = op is Relu and _reads_only(steps, i + 1, MaxPoolNd, out, reads)
    j = i + 1 if relu else i
    pool = steps[j]
    if pool[0] is not MaxPoolNd or not _numpy_float(args[0]) or args[0].ndim != 4 or \
            not _halves(pool[2], args[0].shape):
        return None
    return (Pool2x2, args, {"relu": relu}, pool[3], seen, pool[5]), j + 1


def _relu_in_place(steps: list, i: int, reads: Counter,
                   made_by: dict) -> tuple[tuple, int] | None:
    """A ReLU at `i` of a new array that nothing else reads, as `ReluInPlace`."""
    op, args, params, out, seen, made = steps[i]
    if op is not Relu or reads[id(args[0])] != 1 or \
            made_by.get(id(args[0])) not in _NEW_ARRAY or not _numpy_float(args[0]):
        return None
    return (ReluInPlace, args, params, out, seen, made), i + 1


def _numpy_float(t: Any) -> bool:
    """Whether a tensor's array is a floating NumPy array."""
    return type(t._data) is np.ndarray and t._data.dtype.kind == "f"


def _lowerable(args: tuple, params: dict) -> bool:
    """Whether a convolution's inputs and settings are what ConvReluPool computes."""
    x, weight, _ = args
    return (x.ndim == 4 and weight.ndim == 4 and params["groups"] == 1
            and params["stride"] == (1, 1) and params["dilation"] == (1, 1)
            and _numpy_float(x) and _numpy_float(weight) and x.dtype == weight.dtype
            and weight.shape[1] * weight.shape[2] * weight.shape[3] <= MAX_TAPS)


def _reads_only(steps: list, j: int, op: type, value: Any, reads: Counter) -> bool:
    """Whether step j is `op` of `value` alone and nothing else reads `value`."""
    return (j < len(steps) and steps[j][0] is op and len(steps[j][1]) == 1
            and steps[j][1][0] is value and reads[id(value)] == 1)


def _halves(params: dict, shape: tuple) -> bool:
    """Whether a max pooling's settings are 2x2, stride 2, no padding (floor sizes)."""
    return (params["kernel"] == (2, 2) and params["stride"] == (2, 2)
            and params["padding"] == (0, 0) and params["dilation"] == (1, 1)
            and tuple(params["out"]) == (shape[2] // 2, shape[3] // 2))
