"""Rosenblatt: a deep learning framework built from first principles, with PyTorch's API.

The core (tensors, autograd, ops) loads on import; nn, optim, data and the rest load on
first use, so `import rosenblatt` stays about as fast as `import numpy`.
"""

from __future__ import annotations

import builtins as _builtins
import importlib
from typing import Any

from . import autograd, linalg
from ._backend import Device
from ._backend import device as device
from .autograd import (
    Tensor,
    enable_grad,
    inference_mode,
    is_grad_enabled,
    no_grad,
    set_grad_enabled,
)
from .autograd.printing import set_printoptions
from .autograd.tensor import Size
from .compiler import compile
from .dtypes import (
    bool,
    double,
    dtype,
    finfo,
    float,
    float16,
    float32,
    float64,
    get_default_dtype,
    half,
    iinfo,
    int,
    int8,
    int16,
    int32,
    int64,
    long,
    promote_types,
    result_type,
    set_default_dtype,
    short,
    uint8,
)
from .ops.creation import (
    BoolTensor,
    ByteTensor,
    DoubleTensor,
    FloatTensor,
    IntTensor,
    LongTensor,
    arange,
    as_tensor,
    bernoulli,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    logspace,
    multinomial,
    normal,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    tensor,
    zeros,
    zeros_like,
)
from .ops.elementary import (
    acos,
    acosh,
    addcdiv,
    addcmul,
    arccos,
    arccosh,
    arcsin,
    arcsinh,
    arctan,
    arctan2,
    arctanh,
    asin,
    asinh,
    atan,
    atan2,
    atanh,
    clamp_max,
    clamp_min,
    copysign,
    cosh,
    deg2rad,
    exp2,
    expm1,
    float_power,
    frac,
    heaviside,
    hypot,
    isneginf,
    isposinf,
    isreal,
    log1p,
    log2,
    log10,
    logaddexp,
    logaddexp2,
    logit,
    positive,
    rad2deg,
    reciprocal,
    signbit,
    sinc,
    sinh,
    square,
    tan,
    xlogy,
)
from .ops.elementwise import (
    abs,
    absolute,
    add,
    allclose,
    ceil,
    clamp,
    clip,
    cos,
    div,
    divide,
    eq,
    equal,
    erf,
    erfc,
    exp,
    floor,
    floor_divide,
    fmod,
    ge,
    gt,
    isclose,
    isfinite,
    isinf,
    isnan,
    le,
    lerp,
    log,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    lt,
    maximum,
    minimum,
    mul,
    multiply,
    nan_to_num,
    ne,
    neg,
    negative,
    pow,
    relu,
    remainder,
    round,
    rsqrt,
    sigmoid,
    sign,
    sin,
    sqrt,
    sub,
    subtract,
    tanh,
    true_divide,
    trunc,
    where,
)
from .ops.fused import log_softmax, softmax
from .ops.index import (
    argsort,
    argwhere,
    diag,
    diag_embed,
    diagonal,
    gather,
    index_add,
    index_copy,
    index_fill,
    index_select,
    isin,
    masked_fill,
    masked_scatter,
    masked_select,
    nonzero,
    scatter,
    scatter_add,
    select,
    sort,
    take,
    take_along_dim,
    topk,
    tril,
    triu,
)
from .ops.linalg import (
    addbmm,
    addmm,
    baddbmm,
    bmm,
    cross,
    dot,
    einsum,
    kron,
    matmul,
    mm,
    mv,
    outer,
    tensordot,
)
from .ops.linalg_decomp import det, logdet, matrix_exp, pinverse, slogdet
from .ops.linalg_decomp import inv as inverse
from .ops.linalg_decomp import legacy_cholesky as cholesky
from .ops.reduce import (
    all,
    amax,
    amin,
    aminmax,
    any,
    argmax,
    argmin,
    bincount,
    cdist,
    count_nonzero,
    cummax,
    cummin,
    cumprod,
    cumsum,
    dist,
    kthvalue,
    logcumsumexp,
    logsumexp,
    max,
    mean,
    median,
    min,
    mode,
    nanmean,
    nanmedian,
    nanquantile,
    nansum,
    norm,
    prod,
    quantile,
    std,
    std_mean,
    sum,
    var,
    var_mean,
)
from .ops.search import bucketize, histc, meshgrid, searchsorted, unique
from .ops.shape import (
    atleast_1d,
    atleast_2d,
    atleast_3d,
    block_diag,
    broadcast_to,
    cartesian_prod,
    cat,
    channels_last,
    chunk,
    clone,
    column_stack,
    combinations,
    concat,
    concatenate,
    contiguous_format,
    detach,
    diff,
    dstack,
    flatten,
    flip,
    fliplr,
    flipud,
    hstack,
    memory_format,
    movedim,
    narrow,
    permute,
    preserve_format,
    ravel,
    repeat,
    repeat_interleave,
    reshape,
    roll,
    rot90,
    row_stack,
    split,
    squeeze,
    stack,
    swapaxes,
    t,
    tensor_split,
    tile,
    transpose,
    unbind,
    unflatten,
    unsqueeze,
    vstack,
)
from .random import Generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state

__version__ = "0.1.0"

_SUBMODULES = {
    "nn", "optim", "utils", "datasets", "transforms", "train", "models", "text", "export",
    "apps", "serve", "inspect", "serialization", "metrics", "cli", "amp",
    "cuda", "accelerator", "mps", "backends", "onnx", "vision", "run", "distributed", "jit",
    "version", "multiprocessing", "distributions", "testing", "ao", "quantization",
}
_LAZY = {
    "qint8": "rosenblatt.ao.quantization",
    "save": "rosenblatt.serialization",
    "load": "rosenblatt.serialization",
    "summary": "rosenblatt.inspect.summary",
    "autocast": "rosenblatt.amp",
    "set_float32_matmul_precision": "rosenblatt.backends",
    "get_float32_matmul_precision": "rosenblatt.backends",
    "set_num_threads": "rosenblatt.backends",
    "get_num_threads": "rosenblatt.backends",
    "use_deterministic_algorithms": "rosenblatt.backends",
    "are_deterministic_algorithms_enabled": "rosenblatt.backends",
}


def __getattr__(name: str) -> Any:
    """Load optional parts of the library on first use."""
    if name in _SUBMODULES:
        try:
            return importlib.import_module(f"rosenblatt.{name}")
        except ModuleNotFoundError as e:  # a part not in this build: hasattr() says False
            if e.name != f"rosenblatt.{name}":
                raise
            raise AttributeError(f"module 'rosenblatt' has no attribute '{name}' (no "
                                 f"rosenblatt.{name} in this build)") from None
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'rosenblatt' has no attribute '{name}'")


def trace(obj: Any, *args: Any, **kwargs: Any) -> Any:
    """trace(input): a matrix's diagonal sum, (m, n) -> () (torch.trace); trace(model, x):
    one example through a network, step by step (rosenblatt.inspect.trace)."""
    if isinstance(obj, Tensor):
        return obj.trace(*args, **kwargs)
    from .inspect.trace import trace as network_trace  # (inspect loads on first use)

    return network_trace(obj, *args, **kwargs)


def is_tensor(obj: Any) -> _builtins.bool:
    """True for rosenblatt tensors."""
    return isinstance(obj, Tensor)


def numel(x: Tensor) -> _builtins.int:
    """Number of elements of x."""
    return x.numel()


def is_floating_point(x: Tensor) -> _builtins.bool:
    """True for floating-point tensors."""
    return x.is_floating_point()
