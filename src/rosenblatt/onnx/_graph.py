"""The trace and the ONNX graph builder behind `rosenblatt.onnx.export`.

Tracing: while the model runs once on the example inputs, every `Function.apply` call (the one
door every op goes through) is recorded on a tape as (op class, input tensors, parameters,
output). The autograd graph alone is not enough: it keeps no parameters (a convolution's
stride, a reshape's shape) and records nothing under no_grad. The tape runs with grad enabled
so that Sequential's fused no-grad inference path (which bypasses the ops) is not taken.
"""

from __future__ import annotations

import itertools
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from .._backend import np
from ..autograd.function import Function


@dataclass
class Step:
    """One op applied while tracing: its class, tensor inputs, parameters and output."""

    op: type
    inputs: tuple
    params: dict
    output: Any
    twin: Any = None  # the same step traced with the dynamic axes grown (see export)


class Comparison:
    """Tape marker: a comparison (params: op, e.g. '__gt__'), which is no Function."""


class Logical:
    """Tape marker: logical and/or/xor/not of bool tensors, which are no Functions."""


@contextmanager
def recording() -> Iterator[list[Step]]:
    """Within the block, every op application is appended to the yielded tape (also the
    comparisons and logical ops, which make bool tensors without a Function)."""
    from ..ops import elementwise as ew

    tape: list[Step] = []
    original = Function.__dict__["apply"]
    plain = {name: getattr(ew, name) for name in
             ("_compare", "logical_and", "logical_or", "logical_xor", "logical_not")}

    def apply(cls: type, *inputs: Any, **params: Any) -> Any:
        out = original.__func__(cls, *inputs, **params)
        tape.append(Step(cls, inputs, params, out))
        return out

    def compare(op: str, a: Any, b: Any) -> Any:
        a, b = ew._operands(a, b)
        out = plain["_compare"](op, a, b)
        tape.append(Step(Comparison, (a, b), {"op": op}, out))
        return out

    def logical(name: str) -> Any:
        def run(*args: Any) -> Any:
            inputs = ew._operands(*args) if len(args) == 2 else args
            out = plain[name](*inputs)
            tape.append(Step(Logical, tuple(inputs), {"op": name[len("logical_"):]}, out))
            return out
        return run

    Function.apply = classmethod(apply)  # type: ignore[method-assign]
    ew._compare = compare
    for name in plain:
        if name != "_compare":
            setattr(ew, name, logical(name))
    try:
        yield tape
    finally:
        Function.apply = original  # type: ignore[method-assign]
        for name, fn in plain.items():
            setattr(ew, name, fn)


class UnsupportedOperatorError(RuntimeError):
    """An op of the traced model has no ONNX converter."""


Converter = Callable[["Graph", Step, list], Any]
CONVERTERS: dict[type, Converter] = {}


def converts(*ops: type) -> Callable[[Converter], Converter]:
    """Register a converter for the given op (Function) classes."""
    def register(fn: Converter) -> Converter:
        for op in ops:
            CONVERTERS[op] = fn
        return fn
    return register


class Graph:
    """ONNX nodes, initializers and the tensor -> value-name map of one export."""

    def __init__(self, names: dict[int, str], opset: int = 17) -> None:
        from onnx import helper, numpy_helper

        self.opset = opset
        self.helper, self.numpy_helper = helper, numpy_helper
        self.known = dict(names)  # id(tensor) -> name of parameters and buffers
        self.values: dict[int, str] = {}  # id(tensor) -> ONNX value name
        self.produced: set[int] = set()  # ids of tensors computed from the graph inputs
        self.twins: dict[int, Any] = {}  # id(tensor) -> the same tensor in the second trace
        self.dims: list[tuple[str, int, int, int]] = []  # (input, axis, size, growth)
        self.poisoned: dict[str, str] = {}  # value name -> why it cannot be exported
        self.nodes: list = []
        self.initializers: dict[str, Any] = {}
        self._count = itertools.count()

    def fresh(self, hint: str) -> str:
        """A new unique value name."""
        return f"{hint}_{next(self._count)}"

    def const(self, array: Any, hint: str = "const") -> str:
        """An initializer holding `array`; returns its name."""
        name = self.fresh(hint)
        self.initializers[name] = self.numpy_helper.from_array(np.ascontiguousarray(array), name)
        return name

    def value(self, tensor: Any, dtype: Any = None) -> str:
        """The value name of a tensor: traced, an input, or else a constant (parameters by name).

        `dtype` casts a constant (a Python number an op turned into a tensor) to the op's type."""
        key = id(tensor)
        if key in self.values:
            return self.values[key]
        array = np.asarray(tensor.detach().numpy())
        twin = self.twins.get(key)
        if twin is not None and tuple(twin.shape) != array.shape:  # sized by a dynamic axis
            self.values[key] = self.sized_constant(array, np.asarray(twin.detach().numpy()))
            return self.values[key]
        if dtype is not None and array.ndim == 0 and key not in self.known:
            array = array.astype(dtype)
        name = self.known.get(key) or self.fresh("const")
        self.initializers[name] = self.numpy_helper.from_array(np.ascontiguousarray(array), name)
        self.values[key] = name
        return name

    def size(self, traced: int, grown: int) -> str:
        """A 1-element int64 value: a size that was `traced`, and `grown` with the dynamic
        axes grown, as the graph input's size (plus an offset) at run time."""
        for name, axis, size, growth in self.dims:
            if grown - traced == growth:
                shape = self.node("Shape", [name], start=axis, end=axis + 1)
                offset = traced - size
                return shape if not offset else self.node(
                    "Add", [shape, self.const(np.array([offset], np.int64))])
        raise RuntimeError(f"torch.onnx.export: a size ({traced}) follows no dynamic axis")

    def sized_constant(self, array: Any, twin: Any) -> str:
        """A constant whose shape follows the dynamic axes: positions 0..n-1 (Range) or a
        constant fill (ConstantOfShape); anything else cannot be exported."""
        first = int(array[0]) if array.ndim == 1 and array.size else 0
        if array.ndim == 1 and array.dtype.kind in "iu" and np.array_equal(
                array, np.arange(first, first + array.size)) and np.array_equal(
                twin, np.arange(first, first + twin.size)):
            # first + cumsum(ones(n)) - 1, not Range: onnxruntime's embedding-layer-norm
            # fusion mistakes a Range of positions for its own pattern and fails at run time
            fill = self.numpy_helper.from_array(np.array([1], array.dtype), "value")
            ones = self.node("ConstantOfShape", [self.size(array.size, twin.size)], value=fill)
            count = self.node("CumSum", [ones, self.const(np.array(0, np.int64))])
            return self.node("Add", [count, self.const(np.array(first - 1, array.dtype))])
        if array.size and np.all(array == array.flat[0]) and np.all(twin == array.flat[0]):
            dims = [self.const(np.array([d], np.int64)) if d == e else self.size(d, e)
                    for d, e in zip(array.shape, twin.shape)]
            shape = self.node("Concat", dims, axis=0)
            fill = self.numpy_helper.from_array(np.array([array.flat[0]], array.dtype), "value")
            return self.node("ConstantOfShape", [shape], value=fill)
        name = self.fresh("unexportable")
        self.poisoned[name] = (f"torch.onnx.export: a constant of shape {list(array.shape)} "
                               "changes with the input's dynamic axes (it was computed outside "
                               "the traced ops); export with those axes static")
        return name

    def node(self, op: str, inputs: list, hint: str = "", outputs: int = 1, **attrs: Any) -> Any:
        """Append an ONNX node; returns its output name (or names when outputs > 1)."""
        names = [self.fresh(hint or op.lower()) for _ in range(outputs)]
        self.nodes.append(self.helper.make_node(op, list(inputs), names, **attrs))
        return names[0] if outputs == 1 else names

    def emit(self, step: Step) -> None:
        """Convert one traced op; its output gets the converter's value name."""
        converter = CONVERTERS.get(step.op)
        if converter is None:
            raise UnsupportedOperatorError(
                f"torch.onnx.export: the op {step.op.__name__} ({step.op.__module__}) has no "
                "ONNX converter in Rosenblatt")
        names = [None if t is None else self.value(t, _dtype_of(step)) for t in step.inputs]
        self.values[id(step.output)] = converter(self, step, names)
        self.produced.add(id(step.output))


def _dtype_of(step: Step) -> Any:
    """The dtype constants of an arithmetic op take: its output's (floating) dtype."""
    dtype = step.output.detach().numpy().dtype
    return dtype if dtype is not None and dtype.kind == "f" else None


def needed(tape: list[Step], outputs: list, inputs: list) -> list[Step]:
    """The steps the outputs depend on, in tape order (shape checks and dead ops dropped).

    Steps that do not depend on the inputs (an LSTM's zero initial state, a GPT's position
    embeddings) are folded: their traced outputs become constants; unless their output's
    shape follows a dynamic axis (it differs in the second trace): those stay ops."""
    varying = {id(t) for t in inputs}
    for s in tape:
        if any(t is not None and id(t) in varying for t in s.inputs) or (
                s.twin is not None and tuple(s.twin.output.shape) != tuple(s.output.shape)):
            varying.add(id(s.output))
    producer = {id(s.output): i for i, s in enumerate(tape) if id(s.output) in varying}
    stop = {id(t) for t in inputs}
    keep: set[int] = set()
    stack = [id(t) for t in outputs]
    while stack:
        key = stack.pop()
        i = producer.get(key)
        if key in stop or i is None or i in keep:
            continue
        keep.add(i)
        stack.extend(id(t) for t in tape[i].inputs if t is not None)
    return [tape[i] for i in sorted(keep)]
