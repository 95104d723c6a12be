"""Tests of the fuzzer itself: it is deterministic per seed, and it catches a library that
gets a gradient wrong or raises where PyTorch does not, with a repro that re-executes."""

from __future__ import annotations

import ast
import types
import warnings

import numpy as np
import torch

import rosenblatt
from tests.fuzz.compare import Failure, fuzz
from tests.fuzz.generate import generate


def _library(name: str, **overrides: object) -> types.ModuleType:
    """Rosenblatt with some of its functions replaced: a deliberately wrong 'library'."""
    lib = types.ModuleType(name)
    lib.__dict__.update(vars(rosenblatt))
    lib.__dict__.update(overrides, __name__=name)
    return lib


def _tensor_with_wrong_grad(*args: object, **kwargs: object) -> rosenblatt.Tensor:
    t = rosenblatt.tensor(*args, **kwargs)
    if t.requires_grad:
        t.register_hook(lambda g: g * 1.5)
    return t


def _cat_that_raises(*args: object, **kwargs: object) -> rosenblatt.Tensor:
    raise RuntimeError("cat is broken in this library")


def _replay(repro: str, lib: types.ModuleType) -> object:
    """Run a one-line repro's code with `T = lib`: the last expression's value, or the
    exception raised."""
    code = repro.split(" :: ")[0]
    body = ast.parse(code).body
    ns = {"T": lib}
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        try:
            exec(compile(ast.Module(body[:-1], []), "<repro>", "exec"), ns)
            last = body[-1]
            if isinstance(last, ast.Expr):
                return eval(compile(ast.Expression(last.value), "<repro>", "eval"), ns)
            exec(compile(ast.Module([last], []), "<repro>", "exec"), ns)
        except Exception as e:
            return e
    return None


def _numbers(value: object) -> np.ndarray:
    return np.asarray(value.detach().numpy(), dtype=np.float64)


def test_generator_is_deterministic_per_seed() -> None:
    first = [generate(7, case).source() for case in range(40)]
    assert first == [generate(7, case).source() for case in range(40)]
    assert first != [generate(8, case).source() for case in range(40)]
    assert len(set(first)) == len(first)


def test_programs_cover_the_autograd_features() -> None:
    tokens = {t for case in range(400) for s in generate(3, case).stmts for t in s.tokens}
    for feature in ("0d", "empty", "transposed", "strided", "expanded", "nan", "inf",
                    "float32", "int64", "bool", "python_number", "retain_grad", "backward",
                    "backward_twice", "autograd.grad", "inplace:relu_", "error", "reuse"):
        assert feature in tokens, feature


def test_a_wrong_gradient_is_caught_with_a_repro_that_reruns() -> None:
    wrong = _library("wrong_grad", tensor=_tensor_with_wrong_grad)
    report = fuzz(11, cases=60, lib=wrong)
    grads: list[Failure] = [f for f in report.failures.values()
                            if f.mismatch.kind == "grad value"]
    assert grads, report.summary()
    # shrinking: the planted error needs only a leaf, a loss and a backward
    assert min(len(f.stmts) for f in grads) <= 3, [f.repro() for f in grads]
    checked = 0
    for failure in grads:
        line = failure.repro()
        assert "\n" not in line and " :: torch " in line and " vs wrong_grad " in line
        expected = _replay(line, torch)
        if not isinstance(expected, torch.Tensor):
            continue
        got_wrong, got_right = _replay(line, wrong), _replay(line, rosenblatt)
        if not np.allclose(_numbers(got_right), _numbers(expected), equal_nan=True):
            continue  # Rosenblatt's own difference, not the one planted here
        assert not np.allclose(_numbers(got_wrong), _numbers(expected), equal_nan=True), line
        checked += 1
    assert checked, [f.repro() for f in grads]


def test_a_library_that_raises_is_caught() -> None:
    broken = _library("broken_cat", cat=_cat_that_raises)
    report = fuzz(12, cases=300, lib=broken)
    raising = [f for f in report.failures.values() if f.mismatch.kind == "raises"
               and "cat is broken" in f.mismatch.other]
    assert raising, report.summary()
    line = raising[0].repro()
    assert "T.cat(" in line.split(" :: ")[0]
    assert isinstance(_replay(line, broken), RuntimeError)
    assert not isinstance(_replay(line, torch), Exception)


def test_hardtanh_gradient_at_nan_is_not_compared() -> None:
    """PyTorch's hardtanh passes a NaN's gradient only in its CPU loop's scalar tail: a
    kernel quirk, so such programs' gradients are not compared; their values still are."""
    from tests.fuzz.compare import compare
    from tests.fuzz.generate import Stmt

    code = ["x = T.tensor([float('nan')] * 11 + [0.3], dtype=T.float64, requires_grad=True)",
            "y = T.nn.functional.hardtanh(x, -0.5, 0.7)", "y.sum().backward()"]
    assert compare([Stmt(c) for c in code]) == []
    tail = torch.tensor([float("nan")] * 12, dtype=torch.float64, requires_grad=True)
    torch.nn.functional.hardtanh(tail).sum().backward()
    assert tail.grad[-1] == 1 and tail.grad[0] == 0  # the quirk is still there to skip
    wrong = _library("wrong_hardtanh", nn=types.SimpleNamespace(functional=types.SimpleNamespace(
        hardtanh=lambda x, lo, hi: x.clamp(lo, hi) * 2)))
    assert compare([Stmt(c) for c in code[:2]], wrong)  # values are compared


def test_float32_gelu_at_inf_is_not_compared() -> None:
    """PyTorch's float32 gelu gives nan at inf in its vectorized loop, inf in its scalar
    tail: programs where it meets an infinity are not compared; float64 ones are."""
    from tests.fuzz.compare import compare
    from tests.fuzz.generate import Stmt

    wrong = _library("wrong_gelu", nn=types.SimpleNamespace(functional=types.SimpleNamespace(
        gelu=lambda x: x * 0)))
    for dtype, compared in (("float32", False), ("float64", True)):
        code = [f"x = T.tensor([float('inf'), 0.5, 1.0], dtype=T.{dtype})",
                "y = T.nn.functional.gelu(x)"]
        assert bool(compare([Stmt(c) for c in code], wrong)) == compared, dtype
    assert torch.isnan(torch.nn.functional.gelu(torch.full((16,), float("inf")))).all()
