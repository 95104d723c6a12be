"""Capture: run a module's forward once while recording every `Function.apply`, and turn the
record into a plan, one generated Python function that calls the same ops' forwards on raw
arrays, in order, with no Tensor, Module or autograd work between them.

A value in the plan is an input, a parameter or buffer (read live at each run, so optimizer
updates and `load_state_dict` are seen), the output of an earlier step, or a constant (a
tensor the forward made without an op: `arange` positions, a causal mask). Constants are
what can go wrong: one computed from the input's values outside the ops would be stale on the
next input. So a capture fails (with a reason) when the forward reads a tensor's values
(`item`, `bool`, `tolist`, `numpy`...), draws random numbers, changes a module, or writes in
place into a tensor it did not compute (an in-place op on its own intermediate is fine: in
the plan the tensor takes the written result's name); and `probe` runs eager and the plan
on a second, different input, and with parameters and buffers shifted, and compares.
"""

from __future__ import annotations

import re
import threading
from contextlib import contextmanager
from typing import Any, Callable, Iterator

from .._backend import array_module, as_array, np
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ..nn.modules import _inference
from ..nn.modules.module import Changes, Module
from ..ops import elementwise as ew
from ..ops._util import iterator_layout
from ..random import default_generator
from .lower import lower


class CaptureError(Exception):
    """The forward cannot be captured; the message says why."""


def _fresh_ctx(op: type, xp: Any, inputs: int) -> Any:
    """A ctx for a plan's run of `op`'s forward, as `Function.apply` makes one (an instance
    of the op: forwards read class settings through it), with no input needing grad."""
    ctx = object.__new__(op)
    ctx.xp, ctx.needs_input_grad, ctx.saved_tensors = xp, (False,) * inputs, ()
    return ctx


class _Compare:
    """A comparison as a plan step (it is no Function: a bool result has no gradient)."""

    view = False

    @staticmethod
    def forward(ctx: Any, a: Any, b: Any, op: str) -> Any:
        """`a op b` on arrays, laid out as `ops.elementwise`'s comparisons."""
        return iterator_layout(getattr(a, op)(b), a, b)


class _Write:
    """Record marker: an in-place op wrote its result (input 2) into a tensor (input 1)."""


# Tensor methods that hand a tensor's values to Python: a forward that calls one may branch
# on them or build constants from them, which a plan cannot follow.
_VALUE_READS = ("item", "tolist", "numpy", "__array__", "__bool__", "__float__", "__int__",
                "__index__")


class _Recorder:
    """The ops one thread applies, as (op class, input tensors, params, output tensor)."""

    def __init__(self) -> None:
        self.thread = threading.get_ident()
        # (op class, input tensors, params, output, inputs' versions, output's version)
        self.steps: list[tuple] = []
        self.depth = 0  # > 0 inside an op (an op built of ops is recorded once, whole)
        self.problem: str | None = None

    def mine(self) -> bool:
        """Whether the calling thread is the one capturing, outside any op."""
        return self.depth == 0 and threading.get_ident() == self.thread


# One capture at a time (it swaps class attributes); while one runs, compiled modules called
# inside it run eagerly, so that their ops are recorded into it (`capturing`).
_LOCK = threading.Lock()
capturing: list[_Recorder | None] = [None]


@contextmanager
def _recording() -> Iterator[_Recorder]:
    """Record the ops of this thread; Sequential's own no-grad shortcut (which runs outside
    the ops) and value reads are intercepted too. Other threads run as usual."""
    with _LOCK:
        capturing[0] = rec = _Recorder()
        try:
            with _intercepting(rec):
                yield rec
        finally:
            capturing[0] = None


@contextmanager
def _intercepting(rec: _Recorder) -> Iterator[None]:
    """Swap in the recording Function.apply, Sequential shortcut and value reads."""
    apply, compare, write = Function.__dict__["apply"], ew._compare, Tensor.__dict__["_write"]
    ufunc = Tensor.__dict__["_ufunc_"]
    planned = _inference.run_planned
    reads = {name: Tensor.__dict__[name] for name in _VALUE_READS if name in Tensor.__dict__}

    def record(cls: type, inputs: tuple, params: dict, run: Callable[[], Tensor]) -> Tensor:
        seen = tuple(None if t is None else t._version_box[0] for t in inputs)
        rec.depth += 1
        try:
            out = run()
        finally:
            rec.depth -= 1
        rec.steps.append((cls, inputs, params, out, seen, out._version_box[0]))
        return out

    def recorded(cls: type, *inputs: Any, **params: Any) -> Any:
        if not rec.mine():
            return apply.__func__(cls, *inputs, **params)
        return record(cls, inputs, params, lambda: apply.__func__(cls, *inputs, **params))

    def compared(op: str, a: Any, b: Any) -> Tensor:
        if not rec.mine():
            return compare(op, a, b)
        a, b = ew._operands(a, b)
        return record(_Compare, (a, b), {"op": op}, lambda: compare(op, a, b))

    def written(self: Tensor, out: Tensor) -> Tensor:
        if not rec.mine():
            return write(self, out)
        seen = (self._version_box[0], out._version_box[0])
        write(self, out)
        rec.steps.append((_Write, (self, out), {}, None, seen, self._version_box[0]))
        return self

    def through_ops(self: Tensor, *args: Any, **kwargs: Any) -> Any:
        # (x += y without autograd writes with a NumPy ufunc; None sends it through the op)
        return None if rec.mine() else ufunc(self, *args, **kwargs)

    def unplanned(seq: Module, input: Any) -> Any:  # noqa: A002
        return None if rec.mine() else planned(seq, input)

    def flagged(name: str, method: Callable) -> Callable:
        def read(self: Tensor, *args: Any, **kwargs: Any) -> Any:
            if rec.mine() and rec.problem is None:
                rec.problem = f"the forward reads a tensor's values (Tensor.{name})"
            return method(self, *args, **kwargs)
        return read

    Function.apply = classmethod(recorded)  # type: ignore[method-assign]
    ew._compare = compared
    Tensor._write, Tensor._ufunc_ = written, through_ops  # type: ignore[method-assign]
    _inference.run_planned = unplanned
    for name, method in reads.items():
        setattr(Tensor, name, flagged(name, method))
    try:
        yield
    finally:
        Function.apply = apply  # type: ignore[method-assign]
        ew._compare = compare
        Tensor._write, Tensor._ufunc_ = write, ufunc  # type: ignore[method-assign]
        _inference.run_planned = planned
        for name, method in reads.items():
            setattr(Tensor, name, method)


def flatten(value: Any, tensors: list) -> Any:
    """The structure of `value` (nested tuples/lists/dicts) with each tensor replaced by its
    index in `tensors` (appended); raises CaptureError for what cannot be guarded."""
    if isinstance(value, Tensor):
        tensors.append(value)
        return (_TENSOR, len(tensors) - 1, value.shape, value.dtype, value.requires_grad)
    if isinstance(value, (tuple, list)):
        return (type(value), tuple(flatten(v, tensors) for v in value))
    if isinstance(value, dict):
        return (dict, tuple((k, flatten(v, tensors)) for k, v in value.items()))
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise CaptureError(f"an argument of type {type(value).__name__} cannot be guarded")


_TENSOR = "tensor"


def rebuild(spec: Any, tensors: list) -> Any:
    """The inverse of `flatten`: `spec` with its tensor entries taken from `tensors`."""
    if isinstance(spec, tuple) and spec:
        if spec[0] == _TENSOR:
            return tensors[spec[1]]
        if spec[0] in (tuple, list):
            return spec[0](rebuild(s, tensors) for s in spec[1])
        if spec[0] is dict:
            return {k: rebuild(s, tensors) for k, s in spec[1]}
    return spec


class Plan:
    """A captured forward: `run(args, kwargs)` gives what the forward gave, computed by
    one generated function over raw arrays (`source` shows it)."""

    def __init__(self, source: str, scope: dict, out_spec: Any, out_fixed: dict,
                 batch: int | None = None, exact: bool = True) -> None:
        self.source = source
        self.ops = source.count("  # ")  # one comment per op: its name
        exec(compile(source, "<rosenblatt.compile plan>", "exec"), scope)  # noqa: S102
        self.kernel = scope["plan"]
        self.xp = scope["xp"]
        self.out_spec = out_spec
        self.out_fixed = out_fixed  # output position -> tensor returned as is (an input...)
        self.single = out_spec[0] == _TENSOR and not out_fixed  # one new tensor
        # (buffer, its array, a copy) whose values the plan's constants were computed from
        self.watched: list[tuple[Tensor, Any, Any]] = []
        # the batch size (dim 0 of the inputs) the op settings that follow it were recorded
        # at: the plan computes them from its inputs' (None: only for the captured shapes)
        self.batch = batch
        self.exact = exact  # False: lowered kernels, the op's values up to float rounding

    def stale(self) -> bool:
        """Whether a buffer the plan's constants came from changed since the capture."""
        for t, array, copy in self.watched:
            if t._data is not array or not _equal(array, copy):
                return True
        return False

    def run(self, inputs: list | tuple) -> Any:
        """The forward's result for the flattened input tensors `inputs`."""
        arrays = self.kernel(self.xp, *[t._data for t in inputs])
        if self.single:
            return Tensor._make(arrays[0], False, None)
        fixed, make = self.out_fixed, Tensor._make
        outs = [fixed[i] if i in fixed else make(a, False, None) for i, a in enumerate(arrays)]
        return rebuild(self.out_spec, outs)


def capture(module: Module, args: tuple, kwargs: dict,
            batch: int | None = None) -> tuple[Any, Plan | str]:
    """Run `module(*args, **kwargs)` once, recording; returns its result and the plan, or
    the reason the forward cannot become one. `batch`: the inputs' dim 0, to be followed
    (op settings equal to it are computed from the inputs' dim 0; `probe` checks)."""
    inputs: list = []
    flatten((args, kwargs), inputs)
    state = list(module.parameters()) + list(module.buffers())
    versions = [t._version_box[0] for t in state + inputs]
    buffers = [t._data.copy() for t in module.buffers()]
    changes, rng = Changes.count, default_generator.get_state()._data.copy()
    with _recording() as rec:
        result = module(*args, **kwargs)
    if rec.problem:
        return result, rec.problem
    if Changes.count != changes:
        return result, "the forward changes a module (sets an attribute, parameter or hook)"
    if not np.array_equal(default_generator.get_state()._data, rng):
        return result, "the forward draws random numbers (dropout in training mode?)"
    if [t._version_box[0] for t in state + inputs] != versions or any(
            not _equal(b, t._data)
            for b, t in zip(buffers, module.buffers())):
        return result, ("the forward writes a tensor in place (an input, a parameter or a "
                        "buffer: batch norm in training mode?)")
    try:
        return result, _build(rec.steps, inputs, state, versions, result, batch)
    except CaptureError as error:
        return result, str(error)


def _build(steps: list, inputs: list, state: list, versions: list, result: Any,
           batch: int | None = None) -> Plan:
    """Generate the plan's function from the recorded steps; `versions`: those of `state`
    and `inputs` before the forward ran; `batch`: see `capture`."""
    names: dict[int, str] = {}  # id(tensor) -> its variable or expression in the source
    # id(tensor) -> its version when made (or first read): a later read at another version
    # means an in-place write in between, which the plan would not repeat
    version = {id(t): v for t, v in zip(state + inputs, versions)}
    scope: dict[str, Any] = {"as_array": as_array, "own": _own, "fresh": _fresh_ctx,
                             "sized": _sized}
    keep: list = []  # the tensors named, alive until the plan is built (ids stay unique)
    for i, t in enumerate(inputs):
        names.setdefault(id(t), f"a{i}")
    for i, t in enumerate(state):
        scope[f"p{i}"] = t
        names.setdefault(id(t), f"p{i}._data")
    lines = []
    outs: list = []
    out_spec = flatten(result, outs)
    first = inputs[0]._data if inputs else (state[0]._data if state else np.empty(0))
    scope["xp"] = array_module(first)
    exact = True
    if scope["xp"] is np:
        steps, lowered = lower(steps, outs)
        exact = not lowered
    sizes = False  # whether a step's settings follow the batch size

    def name_of(t: Any, seen: int) -> str:
        if t is None:
            return "None"
        key = id(t)
        if key not in names:  # made outside the ops: a constant of this capture
            scope[f"c{len(keep)}"] = t._data
            names[key] = f"c{len(keep)}"
        keep.append(t)
        if version.setdefault(key, seen) != seen:
            raise CaptureError("the forward writes a tensor in place (a later op reads it)")
        return names[key]

    for n, (op, args, params, out, seen, made) in enumerate(steps):
        if op is _Write:  # the tensor holds the result from now on: it takes its name
            target, written = args
            value = name_of(written, seen[1])
            if not names.get(id(target), "").startswith("v") or \
                    target._data.dtype != written._data.dtype:
                raise CaptureError("the forward writes in place into a tensor it did not "
                                   "compute (an input, parameter, buffer or attribute)")
            name_of(target, seen[0])
            names[id(target)], version[id(target)] = value, made
            continue
        # a fresh ctx per step, dropped after it: what a forward keeps there goes with it
        scope[f"f{n}"], scope[f"O{n}"] = op.forward, op
        ctx = f"fresh(O{n}, xp, {len(args)})"
        call = ", ".join([ctx] + [name_of(t, v) for t, v in zip(args, seen)])
        if params:
            template = _with_batch(params, batch) if batch is not None else params
            scope[f"k{n}"] = template
            sizes |= template is not params
            call += f", **sized(k{n}, n)" if template is not params else f", **k{n}"
        lines.append(f"    v{n} = f{n}({call})  # {op.__name__}")
        if out._data.ndim == 0:  # NumPy gives a scalar: the op's path turns it into an array
            lines.append(f"    v{n} = as_array(v{n})")
        elif not op.view:  # a NumPy view of an input where the op copies (Function.apply)
            inputs_of = call[len(ctx) + 2:]
            lines.append(f"    if v{n}.base is not None: v{n} = own(v{n}, {inputs_of})")
        names[id(out)], version[id(out)] = f"v{n}", made
        keep.append(out)
    given = {id(t) for t in inputs + state}
    fixed = {i: t for i, t in enumerate(outs) if id(t) in given}
    returned = "".join(_fresh(name_of(t, t._version_box[0]), i in fixed) + ", "
                       for i, t in enumerate(outs))
    head = ", ".join(["xp"] + [f"a{i}" for i in range(len(inputs))])
    lines = _released(lines, set(_VALUE.findall(returned)))
    if sizes:
        lines.insert(0, "    n = a0.shape[0]")
    source = "\n".join([f"def plan({head}):", *lines, f"    return ({returned})", ""])
    return Plan(source, scope, out_spec, fixed, batch, exact)


class _Batch:
    """Stands for the batch size in a recorded op setting (`_with_batch`)."""


def _with_batch(value: Any, batch: int) -> Any:
    """`value` (an op's settings: dicts, tuples, lists of numbers) with each int equal to
    `batch` replaced by `_Batch`; `value` itself where there is none."""
    if type(value) is int and value == batch:
        return _Batch
    if isinstance(value, (tuple, list, dict)):
        items = list(value.items() if isinstance(value, dict) else enumerate(value))
        new = {k: _with_batch(v, batch) for k, v in items}
        if all(new[k] is v for k, v in items):
            return value
        return new if isinstance(value, dict) else type(value)(new.values())
    return value


def _sized(value: Any, batch: int) -> Any:
    """The inverse of `_with_batch` at the batch size of this run."""
    if value is _Batch:
        return batch
    if isinstance(value, dict):
        return {k: _sized(v, batch) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return type(value)(_sized(v, batch) for v in value)
    return value


_VALUE = re.compile(r"\bv\d+\b")


def _released(lines: list[str], kept: set[str]) -> list[str]:
    """`lines` with `del v` after each value's last use (but those `kept`), so its memory
    can serve the next allocations instead of living to the end of the run."""
    last = {name: i for i, line in enumerate(lines) for name in _VALUE.findall(line)}
    done: dict[int, list[str]] = {}
    for name, i in last.items():
        if name not in kept:
            done.setdefault(i, []).append(name)
    out = []
    for i, line in enumerate(lines):
        out.append(line)
        if i in done:
            out.append(f"    del {', '.join(sorted(done[i]))}")
    return out


def _own(out: Any, *inputs: Any, **params: Any) -> Any:
    """`out`, copied when it is a view of one of the input arrays (as `Function.apply`)."""
    base = out.base
    for a in inputs:
        if a is not None and (base is a or base is a.base):
            return out.copy()
    return out


def _fresh(name: str, fixed: bool) -> str:
    """The returned value: a copy where it is a constant's, input's or parameter's array
    (the caller may write into its result), unless the tensor itself is returned."""
    return f"{name}.copy()" if name.startswith(("c", "a", "p")) and not fixed else name


def probe(module: Module, args: tuple, kwargs: dict, plan: Plan) -> str | None:
    """Check the plan against eager where its constants could go stale; the reason it
    cannot be used, or None. Constants computed outside the ops from the input's values
    (a second, different input), or from parameters (each shifted by one) make it unusable;
    from buffers (shifted likewise: batch norm's statistics) make the plan watch them
    (`Plan.watched`), and a run after they change captures again. A plan that follows the
    batch size is checked at another (one more row): where it differs, it serves only the
    captured shapes (`Plan.batch` becomes None)."""
    inputs: list = []
    spec = flatten((args, kwargs), inputs)
    rng = np.random.default_rng(0)
    others = [Tensor._make(_other(t._data, rng), False, None) for t in inputs]
    if not _agree(module, plan, rebuild(spec, others), others):
        return ("on a second input the plan differs from the forward: it uses a value "
                "computed outside the ops from the input's values")
    if plan.batch is not None:
        rows = plan.batch + 1
        others = [Tensor._make(_other(t._data, rng, rows), False, None) for t in inputs]
        try:
            same = _agree(module, plan, rebuild(spec, others), others)
        except Exception:  # noqa: BLE001 - a setting that is not the batch size: any error
            same = False
        if not same:
            plan.batch = None
    same = rebuild(spec, inputs)
    if not _agree_shifted(module, plan, same, inputs, list(module.parameters())):
        return "the forward computes from parameters outside the ops (the plan would not follow)"
    buffers = [t for t in module.buffers() if t._data.dtype.kind == "f"]
    if not _agree_shifted(module, plan, same, inputs, buffers):
        plan.watched = [(t, t._data, t._data.copy()) for t in buffers]
    return None


def _agree_shifted(module: Module, plan: Plan, call: tuple, inputs: list, state: list) -> bool:
    """Whether eager and the plan agree with each of `state`'s floating arrays shifted by
    2**-7 (rebound for the check, then restored: the caller's arrays are not written). A
    small shift: enough for an exact comparison, too small to overflow a deep network."""
    state = [t for t in state if t._data.dtype.kind == "f"]
    if not state:
        return True
    old = [t._data for t in state]
    try:
        for t in state:
            t._data = t._data + 0.0078125
        return _agree(module, plan, call, inputs)
    finally:
        for t, array in zip(state, old):
            t._data = array


def _agree(module: Module, plan: Plan, call: tuple, inputs: list) -> bool:
    """Whether eager on `call` (args, kwargs) and the plan on `inputs` give the same."""
    expected: list = []
    flatten(module(*call[0], **call[1]), expected)
    got: list = []
    flatten(plan.run(inputs), got)
    same = _equal if plan.exact else _close
    return len(expected) == len(got) and all(
        e.shape == g.shape and e.dtype == g.dtype and same(e._data, g._data)
        for e, g in zip(expected, got))


def _equal(a: Any, b: Any) -> bool:
    """Whether two arrays (on one device) hold the same values, NaN equal to NaN."""
    xp = array_module(a)
    return bool(xp.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))


def _close(a: Any, b: Any) -> bool:
    """Whether a lowered kernel's values `b` are eager's `a` up to float rounding (sums in
    another order); integer and bool results must be equal."""
    if a.dtype.kind not in "fc":
        return _equal(a, b)
    xp = array_module(a)
    scale = float(xp.abs(a[xp.isfinite(a)]).max()) if a.size and xp.isfinite(a).any() else 0.0
    eps = 1e-4 if a.dtype.itemsize <= 4 else 1e-10
    return bool(xp.allclose(a, b, rtol=eps, atol=eps * scale, equal_nan=True))


def _other(array: Any, rng: Any, rows: int | None = None) -> Any:
    """Another array of the same dtype and shape (with `rows` in dim 0 if given), valid
    where `array` is (indices stay in range): normal draws for floats, integers drawn from
    0 (or the least) to the largest, coin flips for bools."""
    xp = array_module(array)
    host = array if xp is np else xp.asnumpy(array)
    shape = host.shape if rows is None else (rows, *host.shape[1:])
    if host.dtype.kind == "b":
        new = rng.random(shape) < 0.5
    elif host.dtype.kind in "iu":
        top = int(host.max()) if host.size else 0
        new = rng.integers(min(0, int(host.min()) if host.size else 0), top + 1, shape)
    else:
        new = rng.standard_normal(shape)
    new = new.astype(host.dtype)
    return new if xp is np else xp.asarray(new)
