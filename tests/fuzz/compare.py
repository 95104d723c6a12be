"""Run a program under PyTorch and under another library (Rosenblatt), compare everything a
user can observe, shrink each failure to a one-line repro and deduplicate by signature.

Compared: which statement raises (if any), and for every tensor the program names: repr
without error, shape, dtype, requires_grad, is_leaf, values (rtol 1e-6, atol 1e-9; rtol 1e-4,
atol 1e-5 where float32 took part; nan equal to nan) and the .grad of every leaf and retained
intermediate (None vs a tensor matters); tuples (autograd.grad results, split outputs) element
by element; Python values from item(), tolist(), format(), `in`.

Not compared, each for a reason given where it is done: exception messages and types (wording
differs), grads after a backward that raised in both, tensors PyTorch itself refuses to read,
programs where PyTorch returned uninitialized memory or hit its own bugs (internal asserts,
a kernel that views a non-contiguous input), the last digit of a formatted number, results
that depend on PyTorch's CPU loop (hardtanh/relu6 gradients at NaN, float32 gelu at inf).
"""

from __future__ import annotations

import re
import signal
import threading
import time
import types
import warnings
from dataclasses import dataclass, field

import numpy as np
import torch

import rosenblatt
from tests.fuzz.generate import Stmt, generate, literal, run, usable

TIMEOUT_S = 5  # a statement running longer than this counts as a hang


@dataclass(frozen=True)
class Mismatch:
    """One observed difference: what differs (`kind`), where (`expr`), both sides' values."""

    kind: str
    expr: str
    torch: str
    other: str
    at: int = -1  # the raising statement's index, for the kinds "raises" and "raises not"


@dataclass
class Failure:
    """A minimized failing program, its first mismatch and its signature."""

    stmts: list[Stmt]
    mismatch: Mismatch
    library: str
    seed: int
    case: int

    @property
    def signature(self) -> tuple:
        tokens = sorted({t for s in self.stmts for t in s.tokens})
        return (self.mismatch.kind, *tokens)

    def repro(self) -> str:
        """The program and the observation as one runnable line, then both results."""
        code = "; ".join(s.code for s in self.stmts)
        if not self.mismatch.kind.startswith("raises"):
            code += f"; {self.mismatch.expr}"
        return f"{code} :: torch {self.mismatch.torch} vs {self.library} {self.mismatch.other}"


@dataclass
class Report:
    """What a fuzzing run found: distinct failures in the order first seen."""

    cases: int = 0
    failing_cases: int = 0
    failures: dict = field(default_factory=dict)  # signature -> Failure
    seconds: float = 0.0
    errors: list = field(default_factory=list)  # (seed, case, error) where the fuzzer broke

    def summary(self) -> str:
        broken = f", {len(self.errors)} fuzzer errors" if self.errors else ""
        return (f"{self.cases} cases, {self.failing_cases} failing, "
                f"{len(self.failures)} distinct failures{broken}, {self.seconds:.0f} s")


@dataclass
class _Outcome:
    ns: dict
    failed_at: int | None = None
    error: str = ""
    warned: list = field(default_factory=list)  # the warnings' messages


def _alarm(signum: int, frame: object) -> None:
    raise TimeoutError(f"statement ran over {TIMEOUT_S} s")


def execute(stmts: list[Stmt], lib: types.ModuleType) -> _Outcome:
    """Run the statements in order in a fresh namespace with `T = lib`; stop at the first raise."""
    outcome = _Outcome({"T": lib})
    timed = threading.current_thread() is threading.main_thread()
    if timed:
        previous = signal.signal(signal.SIGALRM, _alarm)
    try:
        for i, stmt in enumerate(stmts):
            if timed:
                signal.alarm(TIMEOUT_S)
            try:
                run(stmt.code, outcome.ns, outcome.warned)
            except Exception as e:  # every exception is an outcome to compare
                outcome.failed_at = i
                outcome.error = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
                break
    finally:
        if timed:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, previous)
    return outcome


def _show(value: object) -> str:
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return repr(value.item())
        text = np.array2string(value, precision=4, separator=", ", threshold=24)
        return " ".join(text.split())
    return repr(value)


def _array(t: object) -> np.ndarray:
    return np.asarray(t.detach().numpy())


def _close(a: np.ndarray, b: np.ndarray, loose: bool = False) -> bool:
    if a.shape != b.shape or a.dtype.kind != b.dtype.kind:
        return False
    if a.dtype.kind not in "fc":
        return bool(np.array_equal(a, b))
    # float32 tolerances wherever float32 took part: a float64 result of float32 sums differs
    # by float32 rounding between summation orders
    rtol, atol = (1e-6, 1e-9) if a.dtype == np.float64 and not loose else (1e-4, 1e-5)
    with np.errstate(all="ignore"):
        return bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True))


def _dtype(t: object) -> str:
    return str(t.dtype).rsplit(".", 1)[-1]


def _tensor(expr: str, t: torch.Tensor, r: object, prefix: str = "",
            loose: bool = False) -> Mismatch | None:
    """The first difference between a PyTorch tensor and the other library's value."""
    try:
        props = (tuple(t.shape), _dtype(t), t.requires_grad, t.is_leaf)
        tv = _array(t)
    except RuntimeError:  # PyTorch will not show a view invalidated by an in-place op
        return None
    if not isinstance(r, rosenblatt.Tensor):
        return Mismatch(prefix + "type", expr, "Tensor", type(r).__name__)
    try:
        repr(r)
        rv = _array(r)
        other = (tuple(r.shape), _dtype(r), r.requires_grad, r.is_leaf)
    except Exception as e:
        return Mismatch(prefix + "repr raises", f"print({expr})", "prints",
                        f"raises {type(e).__name__}: {e}")
    for kind, a, b in zip(("shape", "dtype", "requires_grad", "is_leaf"), props, other):
        if a != b:
            return Mismatch(prefix + kind, f"{expr}.{kind}", repr(a), repr(b))
    if not _close(tv, rv, loose):
        return Mismatch(prefix + "value", expr, _show(tv), _show(rv))
    return None


def _grad(expr: str, t: torch.Tensor, r: object, loose: bool) -> Mismatch | None:
    try:
        if not (t.is_leaf or t.retains_grad):
            return None
        tg = t.grad
    except RuntimeError:  # an invalidated view, as above
        return None
    rg = getattr(r, "grad", None)
    if tg is None or rg is None:
        if (tg is None) != (rg is None):
            return Mismatch("grad None", f"{expr}.grad", _show(tg if tg is None else _array(tg)),
                            "None" if rg is None else "a tensor")
        return None
    return _tensor(f"{expr}.grad", tg, rg, "grad ", loose)


def observe(expr: str, t: object, r: object, grads: bool = True,
            loose: bool = False) -> list[Mismatch]:
    """Every difference between the value PyTorch gave `expr` and the other library's."""
    if isinstance(t, torch.Tensor):
        found = _tensor(expr, t, r, loose=loose)
        if found is None and grads and isinstance(r, rosenblatt.Tensor):
            found = _grad(expr, t, r, loose)
        return [found] if found else []
    if isinstance(t, (tuple, list)):
        if not isinstance(r, (tuple, list)) or len(t) != len(r):
            size = len(r) if isinstance(r, (tuple, list)) else type(r).__name__
            return [Mismatch("length", f"len({expr})", repr(len(t)), repr(size))]
        return [m for i, (a, b) in enumerate(zip(t, r))
                for m in observe(f"{expr}[{i}]", a, b, grads, loose)]
    if isinstance(t, (bool, int, float, str)) or t is None:
        same = type(t) is type(r) and (
            t == r or (isinstance(t, float) and _close(np.asarray(t), np.asarray(r), loose))
            or (isinstance(t, str) and _same_number(t, r)))
        return [] if same else [Mismatch("python value", expr, repr(t), repr(r))]
    return []


def compare(stmts: list[Stmt], lib: types.ModuleType = rosenblatt) -> list[Mismatch]:
    """All differences between running `stmts` with PyTorch and with `lib`."""
    ref, out = execute(stmts, torch), execute(stmts, lib)
    if "INTERNAL ASSERT FAILED" in ref.error:  # a PyTorch bug is no reference
        return []
    if any("deprecated" in message for message in ref.warned):
        # PyTorch warns that what the program does is deprecated (masked_fill_ or index_put_
        # on an expanded tensor): its behaviour is no contract to match (README lists these)
        return []
    if ref.failed_at != out.failed_at:
        if ref.failed_at is None or (out.failed_at is not None and out.failed_at < ref.failed_at):
            return [Mismatch("raises", stmts[out.failed_at].code, "no error",
                             f"raises {out.error}", out.failed_at)]
        code = stmts[ref.failed_at].code
        if "view size is not compatible" in ref.error and ".view(" not in code:
            return []  # PyTorch's own kernel views a non-contiguous input (kron does): its bug
        return [Mismatch("raises not", code, f"raises {ref.error}", "no error", ref.failed_at)]
    names = [name for name in ref.ns if name != "T" and not name.startswith("__")]
    if any(_unreliable(ref.ns[name]) for name in names):
        return []
    quirk = _kernel_quirk(stmts, ref.ns)
    if quirk == "all":
        return []
    if quirk:  # the gradients autograd.grad returned are no reference either
        names = [n for n in names if not any(s.code.startswith(f"{n} = T.autograd.grad(")
                                             for s in stmts)]
    loose = any("float32" in s.code for s in stmts) or _has_float32(ref.ns)
    grads = ref.failed_at is None and not quirk
    found = []
    # printing and reading values may warn (nan, inf); pytest would make that an error
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        for name in names:
            # after a backward that raised, how much gradient was accumulated is unspecified
            # (PyTorch accumulates a leaf's gradient once all its branches ran; others as
            # they arrive): compare values, not grads
            found += observe(name, ref.ns[name], out.ns.get(name), grads, loose)
    return found


# Results that depend on where an element sits in PyTorch's CPU loop (vectorized part or
# scalar tail), quirks of one kernel on one CPU, not semantics: hardtanh's (and relu6's)
# gradient at a NaN (the vector path blocks it, the tail passes it), float32 gelu at +-inf
# (nan from the vectorized erf, +-inf from the scalar one). Not compared.
_NAN_GRAD_QUIRK = re.compile(r"\b(hardtanh|relu6)\(")
_FLOAT32_INF_QUIRK = re.compile(r"\bgelu\(")


def _kernel_quirk(stmts: list[Stmt], ns: dict) -> str:
    """'grads' where a NaN reached hardtanh/relu6 (the gradients are no reference), 'all'
    where float32 gelu met an infinity (nothing is), else ''."""
    nan_grads = any(_NAN_GRAD_QUIRK.search(s.code) for s in stmts)
    gelu_inf = any(_FLOAT32_INF_QUIRK.search(s.code) for s in stmts) and any(
        "float32" in s.code for s in stmts)
    if not (nan_grads or gelu_inf):
        return ""
    found = ""
    for value in ns.values():
        for t in value if isinstance(value, (tuple, list)) else (value,):
            if not (isinstance(t, torch.Tensor) and usable(t) and t.dtype.is_floating_point):
                continue
            t = t.detach()
            if gelu_inf and t.dtype == torch.float32 and bool(torch.isinf(t).any()):
                return "all"
            if nan_grads and bool(torch.isnan(t).any()):
                found = "grads"
    return found


def _has_float32(ns: dict) -> bool:
    """Whether float32 took part (x.float() names no dtype): then float32 tolerances."""
    for value in ns.values():
        for t in value if isinstance(value, (tuple, list)) else (value,):
            if isinstance(t, torch.Tensor) and t.dtype == torch.float32:
                return True
    return False


def _same_number(a: str, b: str) -> bool:
    """Whether two formatted numbers ('110.080', '110.079') differ by at most one unit in the
    last place: format() rounds a float whose last bits depend on the summation order."""
    try:
        x, y = float(a), float(b)
    except ValueError:
        return False
    digits = len(a.split(".")[1]) if "." in a else 0
    return abs(x - y) <= 1.01 * 10.0**-digits


def _unreliable(value: object) -> bool:
    """Whether a PyTorch result makes the program no reference: uninitialized memory
    (subnormal garbage: nanmedian of an expanded tensor returns it in 2.13), or rounding noise
    (0 < |x| < 1e-12 from inputs of size ~1: x - mean, cross(x, x)), which a later `> 0`,
    relu or sign turns into a difference of 1 between two correct libraries."""
    if isinstance(value, (tuple, list)):
        return any(_unreliable(v) for v in value)
    if not isinstance(value, torch.Tensor) or not usable(value):
        return False
    if not value.dtype.is_floating_point:
        return False
    a = np.abs(value.detach().numpy())
    return bool(np.any((a > 0) & (a < 1e-12)))


_ASSIGN = re.compile(r"([yvLg]\d+) = ")


def _as_inputs(stmts: list[Stmt], i: int) -> list[Stmt]:
    """Statement i, `name = <op>`, as `name = <its PyTorch value>`: an input tensor with the
    op's (rounded) values, then the same times 1 (an intermediate), so a repro keeps only the
    ops the failure needs."""
    match = _ASSIGN.match(stmts[i].code)
    if match is None:
        return []
    t = execute(stmts[: i + 1], torch).ns.get(match.group(1))
    if not isinstance(t, torch.Tensor):
        return []
    dtype = f"dtype=T.{_dtype(t)}"
    values = t.detach().numpy()
    values = np.round(values.astype(np.float64), 4) if t.dtype.is_floating_point else values
    grad = ", requires_grad=True" if t.requires_grad else ""
    made = (f"T.tensor({literal(values)}, {dtype}{grad})" if values.size
            else f"T.zeros({tuple(values.shape)}, {dtype}{grad})")
    tokens = ("0d",) if t.dim() == 0 else ("empty",) if values.size == 0 else ()
    found = [Stmt(f"{match.group(1)} = {made}", tokens)]
    if t.requires_grad:
        found.append(Stmt(f"{match.group(1)} = {made} * 1", tokens))
    return [s for s in found if s.code != stmts[i].code]


def minimize(stmts: list[Stmt], target: Mismatch, lib: types.ModuleType,
             seconds: float = 20.0) -> tuple:
    """Drop statements, and put inputs in simpler forms, while the same kind of difference at
    the same place remains (for at most `seconds`: a statement that hangs costs TIMEOUT_S)."""
    deadline = time.monotonic() + seconds
    if target.kind.startswith("raises"):
        stmts = stmts[: target.at + 1]

    def same(trial: list[Stmt]) -> Mismatch | None:
        found = [m for m in compare(trial, lib) if (m.kind, m.expr) == (target.kind, target.expr)]
        return found[0] if found else None

    tried = {tuple(s.code for s in stmts)}
    changed = True
    while changed:
        changed = False
        for i in reversed(range(len(stmts))):
            simpler = list(stmts[i].simpler)
            if not changed:  # costs a PyTorch run: only once the cheap steps are done
                simpler += _as_inputs(stmts, i)
            for trial in [stmts[:i] + stmts[i + 1:]] + [
                    stmts[:i] + [simple] + stmts[i + 1:] for simple in simpler]:
                key = tuple(s.code for s in trial)
                if key in tried or time.monotonic() > deadline:
                    continue
                tried.add(key)
                again = same(trial)
                if again:
                    stmts, target, changed = trial, again, True
                    break
    return stmts, target


def fuzz(seed: int, cases: int | None = None, seconds: float | None = None,
         lib: types.ModuleType = rosenblatt, report: Report | None = None,
         on_new: object = None, most: int | None = None) -> Report:
    """Generate and compare programs of `seed` until `cases` ran or `seconds` passed; shrink
    and keep at most `most` distinct failures (the rest are only counted)."""
    report = report or Report()
    start = time.monotonic()
    seen_raw: dict[tuple, int] = {}
    case = 0
    while (cases is None or case < cases) and (
            seconds is None or time.monotonic() - start < seconds):
        try:
            full = most is not None and len(report.failures) >= most
            _one(seed, case, lib, report, seen_raw, on_new, shrink=not full)
        except Exception as e:  # a bug of the fuzzer: keep going, but report it
            report.errors.append((seed, case, f"{type(e).__name__}: {e}"))
        case += 1
    report.seconds += time.monotonic() - start
    return report


def _one(seed: int, case: int, lib: types.ModuleType, report: Report, seen_raw: dict,
         on_new: object, shrink: bool = True) -> None:
    """Generate, run and compare one program; shrink and record a new kind of failure."""
    program = generate(seed, case)
    found = compare(program.stmts, lib)
    report.cases += 1
    if not found:
        return
    report.failing_cases += 1
    first = found[0]
    # shrinking costs a few dozen runs: do it for the first few of each raw kind only
    raw = (first.kind, tuple(sorted({t for s in program.stmts for t in s.tokens})))
    seen_raw[raw] = seen_raw.get(raw, 0) + 1
    if seen_raw[raw] > 2 or not shrink:
        return
    stmts, first = minimize(program.stmts, first, lib)
    failure = Failure(stmts, first, lib.__name__, seed, case)
    if failure.signature not in report.failures:
        report.failures[failure.signature] = failure
        if on_new is not None:
            on_new(failure)
