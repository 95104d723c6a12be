"""Sequential's no-grad fast path: its layers as a chain of array kernels, one Tensor at the end.

Without autograd, a small layer's real work is one or two NumPy calls of a microsecond or
two (batch-1 inference), and building a Tensor, calling `Function.apply` and dispatching
through `Module.__call__` per layer costs more than that work. So when grad mode is off,
`Sequential` runs a plan instead: for each child, a kernel `(scratch, array) -> array` that
calls the same `Function.forward` the ordinary path calls, so results are bit-identical.

Only exact layer types listed in `_KERNELS` take part; a subclass, a layer with hooks or with
`forward` replaced, an in-place activation or a training-mode dropout makes the whole
Sequential take the ordinary path. A plan is compiled once and reused while no module
anywhere changes (`module.Changes.count`). A kernel that meets an input it does not expect
(wrong width, dtype) raises `_UnfitInputError`, and the ordinary path then runs and gives its error.
"""

from __future__ import annotations

from typing import Any, Callable

from ..._backend import array_module, np
from ...autograd.grad_mode import _State as _Switches
from ...autograd.tensor import Tensor
from ...ops import elementwise as ew
from ...ops import linalg
from ...ops.shape import flattened_shape
from .activation import ReLU, Sigmoid, Tanh
from .container import Sequential
from .dropout import Dropout
from .flatten import Flatten
from .linear import Identity, Linear
from .module import Changes, Module

ndarray = np.ndarray
Kernel = Callable[[Any, Any], Any]


class _UnfitInputError(Exception):
    """A kernel met an input the ordinary path must handle (and explain)."""


class _Scratch:
    """Stands in for a graph node when a Function's forward runs outside autograd.

    One per planned call (a small object, cheap beside the layers): a forward may keep
    values on its ctx (Linear keeps the flattened row count), and calls from several
    threads must not share them.
    """

    def __init__(self, xp: Any) -> None:
        self.xp = xp

    def save_for_backward(self, *arrays: Any) -> None:
        """Nothing is kept: no backward will run."""


def _linear(layer: Linear) -> Kernel:
    params = layer._parameters  # read at call time: `to()` or `load_state_dict` may swap data

    def run(ctx: _Scratch, x: Any) -> Any:
        weight, bias = params["weight"]._data, params["bias"]
        # (`is`: NumPy's dtypes are singletons; an equal twin just takes the ordinary path)
        if x.dtype is not weight.dtype or not x.ndim or x.shape[-1] != weight.shape[1]:
            raise _UnfitInputError
        return linalg.Linear.forward(ctx, x, weight, None if bias is None else bias._data)

    return run


def _relu(layer: ReLU) -> Kernel | None:
    return None if layer.inplace else ew.Relu.forward  # in place must write the caller's tensor


def _float_only(fn: Any) -> Callable[[Module], Kernel]:
    def run(ctx: _Scratch, x: Any) -> Any:
        if x.dtype.kind != "f":
            raise _UnfitInputError  # the ordinary path casts integers first
        return fn.forward(ctx, x)

    return lambda layer: run


def _flatten(layer: Flatten) -> Kernel:
    start, end = layer.start_dim, layer.end_dim

    def run(ctx: _Scratch, x: Any) -> Any:
        shape = flattened_shape(x.shape, start, end)
        return x if shape is None else x.reshape(shape)

    return run


def _identity(ctx: _Scratch, x: Any) -> Any:
    return x


def _dropout(layer: Dropout) -> Kernel | None:
    return None if layer.training and layer.p > 0 else _identity


def _sequential(seq: Module) -> Kernel | None:
    kernels = plan(seq)
    if kernels is None:
        return None

    def run(ctx: _Scratch, x: Any) -> Any:
        for kernel in kernels:
            x = kernel(ctx, x)
        return x

    return run


_KERNELS: dict[type, Callable[[Any], Kernel | None]] = {
    Linear: _linear,
    ReLU: _relu,
    Tanh: _float_only(ew.Tanh),
    Sigmoid: _float_only(ew.Sigmoid),
    Flatten: _flatten,
    Identity: lambda layer: _identity,
    Dropout: _dropout,
    Sequential: _sequential,
}
_VIEWS = (Flatten, Identity, Dropout)  # kernels that may return (a view of) their input


def plan(seq: Module) -> list[Kernel] | None:
    """The kernels of `seq`'s children in order, or None if any child must run as a module."""
    kernels = []
    for child in seq._modules.values():
        build = _KERNELS.get(type(child))
        if (build is None or child._forward_hooks or child._forward_pre_hooks
                or "forward" in child.__dict__):
            return None
        kernel = build(child)
        if kernel is None:
            return None
        kernels.append(kernel)
    return kernels


def run_planned(seq: Module, input: Any) -> Tensor | None:  # noqa: A002
    """`seq(input)` through its plan under no_grad; None when the ordinary path must run."""
    cached = seq.__dict__.get("_plan")
    # the owner's id: a deep copy carries the plan of the original's parameters
    if cached is None or cached[0] != Changes.count or cached[1] != id(seq):
        kernels = plan(seq)
        if kernels is not None and all(type(m) in _VIEWS for m in seq._modules.values()):
            kernels = None  # the output would share the input's memory: keep view tracking
        cached = (Changes.count, id(seq), kernels)
        object.__setattr__(seq, "_plan", cached)  # not a change of the module
    kernels = cached[2]
    if kernels is None or input.__class__ is not Tensor or _Switches.anomaly:
        return None
    data = input._data
    ctx = _Scratch(np if data.__class__ is ndarray else array_module(data))
    try:
        for kernel in kernels:
            data = kernel(ctx, data)
    except _UnfitInputError:
        return None
    return Tensor._make(data, False, None)
