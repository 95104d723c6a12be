"""`Function`: one differentiable primitive, its forward and backward rule side by side.

A subclass writes `forward(ctx, *arrays, **params) -> array` and
`backward(ctx, grad) -> grad or tuple of grads` on raw arrays of the backend (`ctx.xp`).
`apply` runs forward on the tensors' arrays and, when a graph is being recorded, turns
the instance into a graph node: `ctx.next_nodes` links to the nodes (or leaf tensors)
that produced each input, and `ctx.saved_tensors` keeps what backward needs.
"""

from __future__ import annotations

import itertools
import weakref
from typing import Any

from .._backend import array_module, as_array, ndarray, np
from .grad_mode import _State as _Switches
from .grad_mode import state as _state


class Function:
    """Base class of differentiable ops; an instance is the `ctx` and the graph node."""

    # Saved arrays and their version snapshot are slots (an op that only saves arrays never
    # allocates a __dict__); other per-op state (ctx.shape, ...) lives in __dict__. Both are
    # dropped by release().
    __slots__ = ("next_nodes", "needs_input_grad", "xp", "seq", "saved_tensors", "versions",
                 "__dict__")

    differentiable = True  # False for ops whose output carries no gradient (argmax, ==)
    view = False  # True for ops whose output may share the input's memory (reshape, x[0:2])
    once = False  # True for nodes PyTorch frees after one backward even if they keep nothing
    # Defaults read through the class until a node sets its own (most nodes never do).
    retained: Any = None  # weakref to the tensor whose .grad retain_grad() keeps
    siblings: Any = None  # nodes making the other outputs of one PyTorch op (see tie_outputs)
    hooks: Any = None  # a list (maybe empty) whenever `retained` is set
    creation: str | None = None  # anomaly mode: where the node was made

    @staticmethod
    def forward(ctx: Any, *arrays: Any, **params: Any) -> Any:
        """Compute the output array from the input arrays."""
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        """Return the gradient for each tensor input (None where not needed)."""
        raise NotImplementedError

    def save_for_backward(self, *arrays: Any) -> None:
        """Keep arrays for backward; in-place changes to them are detected."""
        self.saved_tensors = arrays

    @property
    def next_functions(self) -> tuple:
        """((node, 0), ...) per input, as PyTorch's grad_fn.next_functions: the node that made
        the input, an AccumulateGrad for a leaf that requires grad, None otherwise."""
        return tuple(((AccumulateGrad(p) if isinstance(p, Tensor) else p), 0)
                     for p in getattr(self, "next_nodes", ()))

    @property
    def name(self) -> str:
        """The op's name, as shown in errors and graph reprs (e.g. 'MulBackward')."""
        return type(self).__name__ + "Backward"

    def __repr__(self) -> str:
        return f"<{self.name}>"

    @classmethod
    def apply(cls, *inputs: Tensor | None, **params: Any) -> Tensor:
        """Run the op on tensors; record a graph node when any input requires grad."""
        # The hot path of every op: a _link per arity runs forward and links the node; the
        # tail below wraps the output. needs_input_grad is set before forward, so a forward
        # saves only what the needed gradients use.
        ctx = _new(cls)
        ctx.saved_tensors = ()
        try:
            out, record = _LINK.get(len(inputs), _link_any)(cls, ctx, inputs, params)
        except ValueError as error:  # NumPy's shape errors, reworded with the op and shapes
            if "broadcast" not in str(error):
                raise
            raise RuntimeError(_shape_error(cls, inputs, error)) from None
        if out.__class__ is not ndarray:
            out = _as_output_array(ctx, out)
        elif out.base is not None and not cls.view:
            out = _own_memory(out, inputs)
        # only floating-point results carry gradient (x.long() of such a tensor does not)
        record = record and cls.differentiable and out.dtype.kind == "f"
        result = _new(Tensor)  # (Tensor._make's fields, inline: this is every op's path)
        result._data, result.requires_grad, result.grad = out, record, None
        result._node, result._version_box = ctx if record else None, [0]
        if cls.view:  # a view and its base count in-place changes together, as in PyTorch
            base = inputs[0]._data
            if out.base is not None and (out.base is base or out.base is base.base):
                result._version_box = inputs[0]._version_box
                if _state.enabled:  # an in-place op on the view must reach the base's graph
                    _register_view(inputs[0], result, cls, params)
        if record:
            ctx.seq = next(_sequence)  # creation order: backward runs newest first
            saved = ctx.saved_tensors
            ctx.versions = _snapshot(inputs, result) if (saved and saved[0] is not None) or \
                cls.once or _keeps_arrays(ctx) else ()
        if _Switches.anomaly:  # (one switch on the class)
            if record:
                ctx.creation = _creation_record(cls, inputs)
            _check_finite(out, cls.__name__, inputs, "forward")
        return result

    @property
    def freed(self) -> bool:
        """True once backward has run and dropped what was saved (versions is then None)."""
        return self.versions is None

    def check_versions(self) -> None:
        """Raise if a tensor saved for backward was modified in place since forward."""
        if self.freed:
            raise RuntimeError(
                f"Trying to backward through the graph a second time (or to use saved "
                f"tensors after they were freed) in {self.name}. Saved intermediate values "
                "are freed after .backward(); pass retain_graph=True to backward the "
                "first time if you need to backward twice."
            )
        saved = {id(_owner(a)): a for a in self._kept_arrays()}
        versions = self.versions
        for i in range(0, len(versions), 3):
            box, version, key = versions[i:i + 3]
            if box[0] != version and key in saved:
                raise RuntimeError(
                    f"one of the variables needed for gradient computation has been modified "
                    f"by an inplace operation: a tensor of shape {list(saved[key].shape)} "
                    f"saved by {self.name} is at version {box[0]}; expected version {version} "
                    "instead. Use out-of-place ops (x = x + 1, not x += 1) or .clone() before "
                    "changing a tensor in place."
                )

    def _kept_arrays(self) -> list:
        """Every array this node keeps for backward: saved tensors and ctx attributes."""
        found = [a for a in self.saved_tensors if a is not None]
        stack = list(self.__dict__.values())
        while stack:
            value = stack.pop()
            if value.__class__ is tuple or value.__class__ is list:
                stack.extend(value)
            elif _holds_array(value):
                found.append(value)
        return found

    def release(self) -> None:
        """Drop the arrays saved for backward, as PyTorch frees saved tensors.

        A node that kept arrays, or whose class is `once` (its version snapshot is not empty),
        is marked freed: running it again raises. One that kept none (a view's slice, a sum's
        shape) stays runnable, so a second backward through a view of a leaf works as in
        PyTorch."""
        if not self.versions:  # kept nothing, or freed already
            return
        self.saved_tensors = ()
        state = self.__dict__
        if state:  # the op's state goes (a freed node never runs again); the engine's stays
            engine_state = state.keys() & _ENGINE_STATE
            kept = {key: state[key] for key in engine_state} if engine_state else None
            state.clear()
            if kept:
                state.update(kept)
        self.versions = None


class AccumulateGrad:
    """Where a leaf's gradient goes, as it shows in next_functions (`.variable` is the leaf)."""

    next_functions: tuple = ()

    def __init__(self, variable: Tensor) -> None:
        self.variable = variable

    def name(self) -> str:
        """'torch::autograd::AccumulateGrad', PyTorch's name for it."""
        return "torch::autograd::AccumulateGrad"

    def __repr__(self) -> str:
        return "<AccumulateGrad>"


_new = object.__new__
_sequence = itertools.count()


def tie_outputs(*tensors: Tensor, saved: bool = False) -> tuple[Tensor, ...]:
    """Tie the nodes that made the outputs of one PyTorch op (var_mean's two, a split's
    pieces): PyTorch has one node for them, so once one was freed by a backward pass, a
    later pass through another raises as through that one node, and autograd.grad treats
    them as one. With `saved` (PyTorch's node saves every output, as aminmax's), each node
    also keeps the others: an in-place change to any output fails every backward through
    them. Returns the tensors."""
    nodes = tuple(t._node for t in tensors if t._node is not None)
    if len(nodes) > 1:
        for node in nodes:
            node.siblings = nodes
        if saved:
            for t in tensors:
                others = [o for o in tensors if o is not t]
                node = t._node
                node.tied_outputs = tuple(o._data for o in others)
                node.versions = (node.versions or ()) + tuple(itertools.chain.from_iterable(
                    (o._version_box, o._version_box[0], id(_owner(o._data))) for o in others))
    return tensors


def next_sequence() -> int:
    """A sequence number: nodes recorded after this call have larger ones."""
    return next(_sequence)


def rebind_versions(root: Function, first: int, snapshot: list, box: list) -> None:
    """After an in-place op computed on a snapshot of a tensor's old values: the op's own
    first input (the old values) stays the snapshot, which PyTorch keeps too; but the tensor
    passed again as another input (y.mul_(y), y.addcmul_(y, y)) is the memory being
    written, so a node that saved it must fail its backward, as in PyTorch. Walks the nodes
    recorded since `first`; a node's version triples are its output's, then its inputs'."""
    stack, seen = [root], set()
    while stack:
        node = stack.pop()
        if id(node) in seen or node.seq <= first:
            continue
        seen.add(id(node))
        versions = node.versions
        if versions:
            keep = 6 if node is root else 3  # the root's first input is the op's own
            node.versions = versions[:keep] + tuple(
                box if v is snapshot else v for v in versions[keep:])
        stack.extend(p for p in node.next_nodes if isinstance(p, Function))


def _keeps_arrays(ctx: Function) -> bool:
    """Whether a node keeps array memory for backward, saved or as ctx attributes: then
    in-place changes to it are checked, and release() frees it."""
    for array in ctx.saved_tensors:
        if array is not None:  # (a rule may save None for a gradient not needed)
            return True
    state = ctx.__dict__
    if state:
        for value in state.values():  # (plain values skip the call: most are, and this is hot)
            if value.__class__ not in _PLAIN and _holds_array(value):
                return True
    return False


def _holds_array(value: Any) -> bool:
    """Whether a ctx attribute keeps array memory (an array, or a tuple or list of them)."""
    kind = value.__class__
    if kind is ndarray:
        return True
    if kind is tuple or kind is list:
        for item in value:
            if item.__class__ is not int and _holds_array(item):
                return True
        return False
    if kind in _PLAIN:
        return False
    return hasattr(value, "dtype") and not isinstance(value, (type, np.generic))


_PLAIN = {int, float, bool, str, type(None), slice}
# ctx attributes the engine sets (the rest is the op's): release() keeps these
_ENGINE_STATE = frozenset({"retained", "siblings", "hooks", "creation", "freed_in"})


def _as_output_array(ctx: Function, out: Any) -> Any:
    """A forward's NumPy scalar (0-d results) as a 0-d array, also where the op saved it for
    backward: the saved array must be the output's memory, or in-place changes to the
    output would go unnoticed by the version check."""
    array = as_array(out)
    if array is not out and ctx.saved_tensors:
        ctx.saved_tensors = tuple(array if s is out else s for s in ctx.saved_tensors)
    return array


def _own_memory(out: Any, inputs: tuple) -> Any:
    """A copy of `out` where NumPy returned a view of an input (rot90, diag...) from an op
    that is not a view in PyTorch: writing into the result must not change the input."""
    base = out.base
    for t in inputs:
        if t is not None and (base is t._data or base is t._data.base):
            return out.copy()
    return out


# One _link per arity: run forward on the inputs' arrays and, when recording, link the node
# to the nodes (or leaf tensors) that made the inputs. Each returns (output, recording).
# (Grad mode is per thread, a slower read: only made when an input requires grad.)

def _link1(cls: type, ctx: Function, inputs: tuple, params: dict) -> tuple[Any, bool]:
    """One tensor input: elementwise ops, reductions, views."""
    a = inputs[0]
    if a is None:
        return _link_any(cls, ctx, inputs, params)
    record = a.requires_grad and _state.enabled
    ctx.needs_input_grad = _ONE[record]
    data = a._data
    ctx.xp = np if data.__class__ is ndarray else array_module(data)
    out = cls.forward(ctx, data, **params) if params else cls.forward(ctx, data)
    if record:
        ctx.next_nodes = (a._node or a,)
    return out, record


def _link2(cls: type, ctx: Function, inputs: tuple, params: dict) -> tuple[Any, bool]:
    """Two tensor inputs: binary ops, matmul."""
    a, b = inputs
    if a is None or b is None:
        return _link_any(cls, ctx, inputs, params)
    need_a, need_b = a.requires_grad, b.requires_grad
    record = (need_a or need_b) and _state.enabled
    ctx.needs_input_grad = _NEEDS[need_a][need_b] if record else _NONE2
    data = a._data
    ctx.xp = np if data.__class__ is ndarray else array_module(data)
    out = cls.forward(ctx, data, b._data, **params) if params else cls.forward(
        ctx, data, b._data)
    if record:
        ctx.next_nodes = ((a._node or a) if need_a else None, (b._node or b) if need_b else None)
    return out, record


def _link3(cls: type, ctx: Function, inputs: tuple, params: dict) -> tuple[Any, bool]:
    """(input, weight, optional bias): linear, conv, norms."""
    a, b, c = inputs
    if a is None or b is None:
        return _link_any(cls, ctx, inputs, params)
    need_a, need_b = a.requires_grad, b.requires_grad
    need_c = c is not None and c.requires_grad
    record = (need_a or need_b or need_c) and _state.enabled
    ctx.needs_input_grad = (need_a, need_b, need_c) if record else _NONE3
    data = a._data
    ctx.xp = np if data.__class__ is ndarray else array_module(data)
    c_data = None if c is None else c._data
    out = cls.forward(ctx, data, b._data, c_data, **params) if params else cls.forward(
        ctx, data, b._data, c_data)
    if record:
        ctx.next_nodes = ((a._node or a) if need_a else None, (b._node or b) if need_b else None,
                          (c._node or c) if need_c else None)
    return out, record


def _link_any(cls: type, ctx: Function, inputs: tuple, params: dict) -> tuple[Any, bool]:
    """Any number of inputs, some of which may be None."""
    arrays = [None if t is None else t._data for t in inputs]
    first = next((x for x in arrays if x is not None), None)
    ctx.xp = np if first is None or first.__class__ is ndarray else array_module(first)
    needs = tuple([t is not None and t.requires_grad for t in inputs])
    record = True in needs and _state.enabled
    ctx.needs_input_grad = needs if record else (False,) * len(inputs)
    out = cls.forward(ctx, *arrays, **params)
    if record:
        ctx.next_nodes = tuple([(t._node or t) if need else None
                                for t, need in zip(inputs, needs)])
    return out, record


_LINK = {1: _link1, 2: _link2, 3: _link3}


def _register_view(base: Tensor, view: Tensor, cls: type, params: dict) -> None:
    """Link a view made while recording and its base both ways (the base's link is weak):
    an in-place op on the view reaches the base's graph, one on the base the view's."""
    view._view_of = (base, cls, params)
    refs = getattr(base, "_views", None)
    if refs is None:
        base._views = [weakref.ref(view)]
        return
    if len(refs) >= 16 and (len(refs) & (len(refs) - 1)) == 0:  # now and then, drop the dead
        refs[:] = [r for r in refs if r() is not None]
    refs.append(weakref.ref(view))


def _snapshot(inputs: tuple, output: Tensor) -> tuple:
    """Flat (version box, version now, id of the memory's owner) triples of the output and
    inputs.

    Taken whenever an op keeps anything for backward; backward compares the versions and, on
    a change, looks up whether an array it kept lives in that memory (the array itself or a
    view of it: only those count). Ids, not arrays: holding an input that was not saved would
    keep its memory alive. One flat tuple, because every container a node allocates is more
    work for Python's GC."""
    box = output._version_box
    base = output._data.base
    snap = [box, box[0], id(output._data if base is None else base)]
    for t in inputs:
        if t is not None:
            box = t._version_box
            base = t._data.base  # (the memory's owner, as _owner: inline, this is hot)
            snap += (box, box[0], id(t._data if base is None else base))
    return tuple(snap)


def _owner(array: Any) -> Any:
    """The array that owns `array`'s memory (itself, or the base of a view)."""
    base = array.base
    return array if base is None else base


# needs_input_grad tuples shared rather than allocated per node: one input [recorded],
# two inputs [a][b], three inputs none needed
_ONE = ((False,), (True,))
_NEEDS = (((False, False), (False, True)), ((True, False), (True, True)))
_NONE2, _NONE3 = _NEEDS[0][0], (False, False, False)


def _shape_error(cls: type, inputs: tuple, error: Exception) -> str:
    """PyTorch's broadcast message where it applies, always naming the op and input shapes."""
    shapes = [t.shape for t in inputs if t is not None]
    text = str(error)
    if "broadcast" in text and len(shapes) >= 2:
        a, b = shapes[0], shapes[1]
        for d in range(1, max(len(a), len(b)) + 1):
            m = a[-d] if d <= len(a) else 1
            n = b[-d] if d <= len(b) else 1
            if m != n and m != 1 and n != 1:
                text = (f"The size of tensor a ({m}) must match the size of tensor b ({n}) at "
                        f"non-singleton dimension {max(len(a), len(b)) - d}")
                break
    return f"{cls.__name__.lower()}: {text} (inputs {_describe_inputs(inputs)})"


def _describe_inputs(inputs: tuple) -> str:
    """'(32x784 float32, 784 float32)' for error messages."""
    parts = [
        "None" if t is None else f"{'x'.join(map(str, t.shape)) or 'scalar'} {t.dtype.name}"
        for t in inputs
    ]
    return "(" + ", ".join(parts) + ")"


def _creation_record(cls: type, inputs: tuple) -> str:
    """Where and on what a node was made, for anomaly reports."""
    import traceback

    stack = "".join(traceback.format_stack(limit=8)[:-2])
    return f"{cls.__name__} on inputs {_describe_inputs(inputs)}, created at:\n{stack}"


def _check_finite(array: Any, op: str, inputs: tuple, phase: str) -> None:
    """Anomaly mode: raise at the first NaN/inf produced by an op."""
    if array is None or array.dtype.kind != "f":
        return
    xp = array_module(array)
    if not bool(xp.isfinite(array).all()):
        bad = "nan" if bool(xp.isnan(array).any()) else "inf"
        raise RuntimeError(
            f"anomaly detected: {op} produced {bad} in {phase} from inputs "
            f"{_describe_inputs(inputs)}"
        )


def check_backward_finite(node: Function, grads: tuple) -> None:
    """Anomaly mode: raise when a backward rule produced NaN/inf, naming its forward op."""
    xp = node.xp
    for g in grads:
        if g is not None and g.dtype.kind == "f" and not bool(xp.isfinite(g).all()):
            bad = "nan" if bool(xp.isnan(g).any()) else "inf"
            made = node.creation or f"{type(node).__name__} (no creation record)"
            raise RuntimeError(
                f"anomaly detected: function {node.name} returned {bad} values in its "
                f"gradient. The forward op was {made}"
            )


# Imported last: tensor.py loads the ops, which subclass Function (defined above by now).
from .tensor import Tensor  # noqa: E402
