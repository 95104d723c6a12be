"""A seeded generator of short autograd programs, written as source over the library `T`.

`generate(seed, case)` always returns the same program. It builds the program statement by
statement and runs each one on PyTorch as it goes, so later statements see the real shapes,
dtypes and requires_grad of earlier results; a statement PyTorch rejects is dropped, or now
and then kept as the program's last statement (the libraries must then both raise).
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field

import numpy as np
import torch

from tests.fuzz.ops import COMBINE, HOOKS, INPLACE, OPS, VIEWS, Op, render
from tests.ops.op_specs import Const, sample

# Values that sit on a kink, a domain boundary or outside every domain.
EDGES = (0.0, 0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 0.7, 6.0, 3.0, -3.0, -2.0,
         float("nan"), float("inf"), -float("inf"))
PYTHON_NUMBERS = ("2.5", "-1.5", "3", "0", "True", "False", "0.5", "-2")
KEEP_ERROR = 0.15  # how often a statement PyTorch rejects ends the program instead
# Ops whose results (indices, and so gradients) with tied values PyTorch leaves unspecified:
# "the indices are not necessarily the first occurrence" (median, mode, kthvalue), sort and
# topk are not stable. They only get inputs without ties. (max/min/argmax with a dim do
# promise the first occurrence, so they get ties like every other op.)
TIE_SENSITIVE = re.compile(r"sort|topk|kthvalue|median|mode|quantile|cummax|cummin")
# Ops that jump (floor, remainder, sign, comparisons): on a computed value that sits on the jump
# up to rounding (a sum of 0.01-grid inputs is often an exact multiple), the two libraries'
# last bits decide. They only get the input literals, which are the same bits in both.
DISCONTINUOUS = re.compile(r"floor|round|remainder|fmod|frac|sign|div_|floordiv|rmod|^eq$|^ne$|"
                           r"^lt$|ge_scalar|isfinite|where_compare|isin|bincount|one_hot|^int_")


@dataclass(frozen=True)
class Stmt:
    """One statement of a program and the tokens (ops, features) it stands for."""

    code: str
    tokens: tuple[str, ...] = ()
    simpler: tuple[Stmt, ...] = ()  # the same input in simpler forms (for shrinking)


@dataclass
class Program:
    """A generated program: its statements, run in order in a namespace where `T` is the library."""

    seed: int
    case: int
    stmts: list[Stmt] = field(default_factory=list)

    def source(self) -> str:
        return "; ".join(s.code for s in self.stmts)


def number(v: float) -> str:
    """A float as source that evaluates to exactly that float (nan and inf included)."""
    if v != v:
        return "float('nan')"
    if v in (float("inf"), -float("inf")):
        return ("-" if v < 0 else "") + "float('inf')"
    return repr(float(v))


def literal(array: np.ndarray) -> str:
    """A non-empty array as a nested-list literal."""
    if array.ndim == 0:
        item = array.item()
        return repr(item) if isinstance(item, (bool, int)) else number(item)
    return "[" + ", ".join(literal(a) for a in array) + "]"


def _leaf_source(x: np.ndarray, kind: str, layout: str) -> str:
    """Source of a float leaf with values `x`: contiguous, or a transposed, strided or expanded
    layout (non-contiguous leaves)."""
    dtype = f"dtype=T.{kind}"
    if x.size == 0:
        return f"T.zeros({x.shape}, {dtype}, requires_grad=True)"
    if layout == "transposed":
        return f"T.tensor({literal(np.swapaxes(x, -1, -2))}, {dtype}).transpose(-1, -2)" \
               ".requires_grad_()"
    if layout == "strided":
        wide = np.repeat(x, 2, axis=-1)
        wide[..., 1::2] = 9.0
        return f"T.tensor({literal(wide)}, {dtype})[..., ::2].requires_grad_()"
    if layout == "expanded":
        dim = next(d for d in range(x.ndim) if x.strides[d] == 0)
        sizes = ", ".join(map(str, x.shape))
        base = literal(np.take(x, [0], axis=dim))
        return f"T.tensor({base}, {dtype}).expand({sizes}).requires_grad_()"
    return f"T.tensor({literal(x)}, {dtype}, requires_grad=True)"


def usable(t: torch.Tensor) -> bool:
    """False for a view PyTorch invalidated (an output of split whose base changed in place):
    even reading its is_leaf raises."""
    try:
        return t.is_leaf in (True, False)
    except RuntimeError:
        return False


def run(code: str, ns: dict, caught: list | None = None) -> None:
    """Execute one statement; its warnings are not compared, only kept in `caught` if given."""
    with warnings.catch_warnings(record=True) as seen, np.errstate(all="ignore"):
        warnings.simplefilter("always")
        try:
            exec(_compiled(code), ns)
        finally:
            if caught is not None:
                caught.extend(str(w.message) for w in seen)


_CODE: dict[str, object] = {}


def _compiled(code: str) -> object:
    if code not in _CODE:
        if len(_CODE) > 100_000:
            _CODE.clear()
        _CODE[code] = compile(code, "<fuzz>", "exec")
    return _CODE[code]


class _Builder:
    """Grows one program, keeping a PyTorch namespace in step with it."""

    def __init__(self, seed: int, case: int) -> None:
        self.rng = np.random.default_rng((seed, case))
        self.program = Program(seed, case)
        self.ns: dict = {"T": torch}
        self.count = 0
        self.ended = False
        self.losses: list[str] = []
        self.inputs: set[str] = set()  # names of the input literals (leaves and their views)
        # tensors with hooks are not asked for by autograd.grad: PyTorch 2.13 hands back y's
        # gradient after y's hook when grad(L, [y]) runs, before it when grad(L, [x, y]) must
        # also pass through y's node (an artefact of where it captures, not a semantic)
        self.hooked: set[str] = set()

    def name(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def add(self, code: str, tokens: tuple[str, ...], keep_error: float = KEEP_ERROR,
            simpler: tuple = ()) -> bool:
        """Append `code` if PyTorch runs it; keep it as the final, raising statement with
        probability `keep_error`; otherwise leave the program as it was."""
        if self.ended:
            return False
        try:
            run(code, self.ns)
        except Exception:
            if self.rng.random() < keep_error:
                self.program.stmts.append(Stmt(code, tokens + ("error",)))
                self.ended = True
                return True
            self.replay()  # a failed statement may have changed tensors before raising
            return False
        self.program.stmts.append(Stmt(code, tokens, simpler))
        return True

    def replay(self) -> None:
        self.ns = {"T": torch}
        for stmt in self.program.stmts:
            run(stmt.code, self.ns)

    # ------------------------------------------------------------------ what exists
    def tensors(self, floating: bool = True) -> list[tuple[str, torch.Tensor]]:
        """Tensor expressions of the namespace: names and elements of tuple results."""
        out = []
        for key, value in self.ns.items():
            if key == "T":
                continue
            items = [(key, value)] if isinstance(value, torch.Tensor) else (
                [(f"{key}[{i}]", v) for i, v in enumerate(value)][:4]
                if isinstance(value, (tuple, list)) else [])
            out += [(expr, t) for expr, t in items if isinstance(t, torch.Tensor)
                    and (t.dtype.is_floating_point or not floating) and usable(t)]
        return out

    def pick(self, candidates: list) -> tuple | None:
        return candidates[self.rng.integers(len(candidates))] if candidates else None

    # ------------------------------------------------------------------ inputs
    def values(self, shape: tuple, domain: str) -> np.ndarray:
        """Float64 values of `domain`, rounded (short repros) and distinct (no ties)."""
        x = np.round(sample(self.rng, shape, domain, np.float64), 2).reshape(-1)
        seen: set = set()
        for i, v in enumerate(x):
            while v in seen:
                v = round(v + 0.01, 2)
            seen.add(v)
            x[i] = v
        return x.reshape(shape)

    def leaf(self, shape: tuple, domain: str) -> str:
        """A new input tensor of `shape` (statement added); returns its name."""
        rng, name = self.rng, self.name("x")
        self.inputs |= {name, f"{name}_"}
        clean = self.values(shape, domain)
        x, edges = clean.copy(), ()
        if x.size and rng.random() < 0.3:
            x, edges = self.edges(x)
        tokens = ("0d",) if shape == () else ("empty",) if x.size == 0 else ()
        kind = str(rng.choice(["float64", "float32", "int64", "bool"], p=[0.86, 0.08, 0.03, 0.03]))
        if kind in ("int64", "bool"):
            array = np.round(clean * 2).astype(np.int64) if kind == "int64" else x > 0
            made = f"T.tensor({literal(array)})" if x.size else f"T.zeros({shape}, dtype=T.{kind})"
            self.add(f"{name} = {made}", tokens + (kind,), keep_error=0)
            return name
        tokens += ("float32",) if kind == "float32" else ()
        layouts = ["plain"] * 6 + ["view_of_leaf"] * 2
        if len(shape) >= 2:
            layouts += ["transposed"]
        if x.size:
            layouts += ["strided"]
        if any(n > 1 for n in shape):
            layouts += ["expanded", "expanded"]
        layout = layouts[rng.integers(len(layouts))] if x.size else "plain"
        if layout == "view_of_leaf":
            base = f"{name}_"
            self.add(f"{base} = {_leaf_source(x, kind, 'plain')}", tokens + edges)
            view = rng.choice(["unsqueeze(0).squeeze(0)", "view(-1)" if len(shape) == 1 else
                               "transpose(0, -1).transpose(0, -1)" if shape else "view(())"])
            self.add(f"{name} = {base}.{view}", ("view_of_leaf",), keep_error=0,
                     simpler=(Stmt(f"{name} = {base}"),))
            return name
        if layout == "expanded":
            dim = int(rng.choice([d for d, n in enumerate(shape) if n > 1]))
            x = np.broadcast_to(np.take(x, [0], axis=dim), shape)
            clean = np.broadcast_to(np.take(clean, [0], axis=dim), shape)
        # simpler forms of the same input, tried when a failing program is shrunk
        layout_token = (layout,) if layout != "plain" else ()
        options = [(clean, "plain", ())] if edges or layout_token else []
        if edges and layout_token:
            options += [(x, "plain", edges), (clean, layout, layout_token)]
        simpler = [Stmt(f"{name} = {_leaf_source(v, kind, how)}", tokens + more)
                   for v, how, more in options]
        code = f"{name} = {_leaf_source(x, kind, layout)}"
        self.add(code, tokens + edges + layout_token, keep_error=0, simpler=tuple(simpler))
        return name

    def edges(self, x: np.ndarray) -> tuple[np.ndarray, tuple[str, ...]]:
        """`x` with one or two values replaced by edge values (0, boundaries, nan, inf)."""
        x, tokens = x.copy(), ("edge",)
        for _ in range(self.rng.integers(1, 3)):
            edge = EDGES[self.rng.integers(len(EDGES))]
            x.reshape(-1)[self.rng.integers(x.size)] = edge
            tokens += ("nan",) if edge != edge else ("inf",) if abs(edge) == np.inf else ()
        return x, tuple(dict.fromkeys(tokens))

    def const(self, entry: Const) -> str:
        array = entry.make(self.rng)
        if array.size:
            return f"T.tensor({literal(np.asarray(array))})"
        dtype = "bool" if array.dtype == bool else "int64"
        return f"T.zeros({tuple(array.shape)}, dtype=T.{dtype})"

    def bind(self, entry: object, domain: str, reuse: float) -> tuple[str, tuple[str, ...]]:
        """Source for one input of an op: a Const, an existing tensor (shape permitting), a
        Python number for a 0-d input, or a new leaf."""
        if isinstance(entry, Const):
            return self.const(entry), ()
        same = [e for e, t in self.tensors() if tuple(t.shape) == tuple(entry)]
        if same and self.rng.random() < reuse:
            return self.pick(same), ("reuse",)
        if entry == () and self.rng.random() < 0.3:
            return self.python_number(), ("python_number",)
        return self.leaf(tuple(entry), domain), ()

    def python_number(self) -> str:
        return str(self.rng.choice(PYTHON_NUMBERS))

    # ------------------------------------------------------------------ steps
    def op_step(self, chain: bool) -> None:
        """Apply a table op: to fresh inputs, or (chain) with its first input an existing tensor."""
        op: Op = OPS[self.rng.integers(len(OPS))]
        inputs = op.inputs
        if op.variants and self.rng.random() < 0.4:
            inputs = op.variants[self.rng.integers(len(op.variants))]
        args, tokens = [], (op.name,)
        # indices (Const inputs) are drawn for the declared shapes: other shapes would put them
        # out of range, which PyTorch does not always check (take_along_dim reads past the end)
        fits = self.tensors()
        if any(isinstance(entry, Const) for entry in inputs):
            fits = [(e, t) for e, t in fits if not isinstance(inputs[0], Const)
                    and tuple(t.shape) == tuple(inputs[0])]
        existing = self.pick(fits) if chain else None
        for k, entry in enumerate(inputs):
            if k == 0 and existing is not None and not isinstance(entry, Const):
                args.append(existing[0])
                continue
            source, extra = self.bind(entry, op.domain, reuse=0.3)
            args.append(source)
            tokens += extra
        if TIE_SENSITIVE.search(op.name) and any(self.tied(a, "mode" in op.name) for a in args):
            return
        if DISCONTINUOUS.search(op.name) and not all(map(self.literal, args)):
            return
        self.add(f"{self.name('y')} = {render(op.template, args)}", tokens)

    def literal(self, source: str) -> bool:
        """Whether `source` is an input literal: a leaf (or its view), an index or mask tensor
        written out, a Python number; not a computed value (`y2`, `y2[0]`)."""
        return source in self.inputs or source.startswith("T.") or source in PYTHON_NUMBERS

    def tied(self, source: str, nan: bool = False) -> bool:
        """Whether the tensor `source` evaluates to (in PyTorch) has repeated values (or, with
        `nan`, a nan)."""
        try:
            value = eval(source, self.ns)
        except Exception:
            return False
        if not isinstance(value, torch.Tensor):
            return False
        flat = value.detach().reshape(-1).numpy()
        # mode's answer among values that all occur once is unspecified, nan or not
        return np.unique(flat).size < flat.size or (nan and bool(np.isnan(flat).any()))

    def inplace_step(self) -> None:
        name, template, arity = INPLACE[self.rng.integers(len(INPLACE))]
        targets = [(e, t) for e, t in self.tensors() if not t.is_leaf or self.rng.random() < 0.1]
        target = self.pick(targets)
        if target is None:
            return
        args = [target[0]]
        if arity == 2:
            other = self.pick(self.tensors())
            args.append(other[0] if other else "1.0")
        self.add(render(template, args), ("inplace:" + name,), keep_error=0.3)

    def view_step(self) -> None:
        name, template = VIEWS[self.rng.integers(len(VIEWS))]
        source = self.pick(self.tensors())
        if source is not None:
            self.add(f"{self.name('v')} = {render(template, [source[0]])}", ("view:" + name,))

    def combine_step(self) -> None:
        name, template = COMBINE[self.rng.integers(len(COMBINE))]
        first = self.pick(self.tensors())
        if first is None:
            return
        shaped = [e for e, t in self.tensors() if t.shape == first[1].shape]
        how, tokens = self.rng.random(), ("combine:" + name,)
        if how < 0.15:
            second, tokens = self.python_number(), tokens + ("python_number",)
        else:
            second = (self.pick(shaped) if how < 0.85 else self.pick(self.tensors()))[0]
        self.add(f"{self.name('y')} = {render(template, [first[0], second])}", tokens)

    def hook_step(self) -> None:
        """A tensor hook on a leaf or an intermediate that requires grad (not on a view:
        PyTorch 2.13 crashes registering one on a view whose base changed in place after
        retain_grad)."""
        name, template = HOOKS[self.rng.integers(len(HOOKS))]
        target = self.pick([(e, t) for e, t in self.tensors() if t.requires_grad
                            and t._base is None])
        if target is not None and self.add(render(template, [target[0]]), ("hook:" + name,),
                                           keep_error=0):
            self.hooked.add(target[0])

    def retain_grad_step(self) -> None:
        inner = [e for e, t in self.tensors() if t.requires_grad and not t.is_leaf]
        if inner:
            self.add(f"{self.pick(inner)}.retain_grad()", ("retain_grad",))

    def backward_step(self) -> None:
        """A backward pass or autograd.grad, from one or two tensors that require grad."""
        rng = self.rng
        live = [(e, t) for e, t in self.tensors() if t.requires_grad]
        if not live:
            return
        if self.losses and rng.random() < 0.25:  # backward again through a used graph
            loss = self.pick(self.losses)
            self.add(f"{loss}.backward()", ("backward_again",))
            return
        parts = [self.pick(live) for _ in range(1 + int(rng.random() < 0.3))]
        terms = [e if t.dim() == 0 and rng.random() < 0.5 else
                 f"({e} * {e}).sum()" if rng.random() < 0.3 else f"{e}.sum()" for e, t in parts]
        how = rng.random()
        if how < 0.1 and parts[0][1].dim() > 0:
            expr = parts[0][0]
            self.add(f"{expr}.backward(T.full_like({expr}, 0.5))", ("backward_gradient",))
            return
        loss = self.name("L")
        single = tuple(Stmt(f"{loss} = {term}") for term in terms) if len(terms) > 1 else ()
        if not self.add(f"{loss} = {' + '.join(terms)}", (), simpler=single):
            return
        self.losses.append(loss)
        if how < 0.55:
            self.add(f"{loss}.backward()", ("backward",))
        elif how < 0.75:
            self.add(f"{loss}.backward(retain_graph=True)", ("backward_retain",))
            self.add(f"{loss}.backward()", ("backward_twice",))
        else:
            unhooked = [(e, t) for e, t in live if e not in self.hooked]
            if not unhooked:
                return
            wrt = sorted({self.pick(unhooked)[0] for _ in range(1 + rng.integers(3))})
            unused = ", allow_unused=True" if rng.random() < 0.7 else ""
            retain = ", retain_graph=True" if rng.random() < 0.4 else ""
            grads = self.name("g")
            code = f"{grads} = T.autograd.grad({loss}, [{', '.join(wrt)}]{unused}{retain})"
            # shrinking tries one input at a time (and its op may then go)
            fewer = tuple(Stmt(f"{grads} = T.autograd.grad({loss}, [{w}], allow_unused=True"
                               f"{retain})", ("autograd.grad",)) for w in wrt)
            self.add(code, ("autograd.grad",), simpler=fewer if len(wrt) > 1 or not unused else ())


def generate(seed: int, case: int) -> Program:
    """The `case`-th program of `seed` (the same program every time)."""
    b = _Builder(seed, case)
    b.op_step(chain=False)
    steps = [b.op_step, b.inplace_step, b.view_step, b.combine_step, b.retain_grad_step,
             b.backward_step, b.hook_step]
    weights = np.array([0.32, 0.14, 0.12, 0.14, 0.08, 0.2, 0.04])
    for _ in range(b.rng.integers(0, 6)):
        if b.ended:
            break
        step = steps[b.rng.choice(len(steps), p=weights / weights.sum())]
        step(chain=True) if step == b.op_step else step()
    if not b.ended and not b.losses and b.rng.random() < 0.8:
        b.backward_step()
    return b.program
