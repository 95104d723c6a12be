"""Every op in the table (op_specs.SPECS) against PyTorch and finite differences.

For each spec: float64 gradcheck, forward and gradient parity with PyTorch (rtol 1e-6),
float32 gradients that stay float32, broadcasting / size-1 / empty variants, and
non-contiguous (transposed, strided) inputs.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import rosenblatt as rb
from tests.ops.op_specs import SPECS, Const, OpSpec, sample

GRAD_SPECS = [s for s in SPECS if s.grad]
VARIANTS = [pytest.param(s, i, id=f"{s.name}-{i}") for s in SPECS for i in range(len(s.variants))]


def _arrays(spec: OpSpec, inputs: tuple, dtype: type, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [e.make(rng) if isinstance(e, Const) else sample(rng, e, spec.domain, dtype)
            for e in inputs]


def _relayout(array: np.ndarray, how: str) -> np.ndarray:
    """The same values in a non-contiguous layout (a transposed or strided view)."""
    if how == "transposed" and array.ndim >= 2:
        return np.swapaxes(np.ascontiguousarray(np.swapaxes(array, -1, -2)), -1, -2)
    if how == "strided" and array.ndim >= 1:
        base = np.zeros(array.shape[:-1] + (2 * array.shape[-1],), array.dtype)
        base[..., ::2] = array
        return base[..., ::2]
    return array


def _leaves(m, spec: OpSpec, arrays: list, inputs: tuple) -> list:
    out = []
    for array, entry in zip(arrays, inputs):
        if m is rb:
            t = rb.from_numpy(array.copy() if isinstance(entry, Const) else array)
        else:
            t = torch.from_numpy(np.array(array, order="C", copy=True))
        if not isinstance(entry, Const) and spec.grad:
            t.requires_grad_(True)
        out.append(t)
    return out


def _outputs(result) -> list:
    return list(result) if isinstance(result, (tuple, list)) else [result]


def _run(m, spec: OpSpec, arrays: list, inputs: tuple) -> tuple[list, list]:
    """Forward, then backward of sum(out * v) for fixed random v; (outputs, leaf grads)."""
    leaves = _leaves(m, spec, arrays, inputs)
    outs = _outputs(spec.fn(m, *leaves))
    grads = [None] * len(leaves)
    if spec.grad:
        rng = np.random.default_rng(1)
        total = None
        for o in outs:
            if o.dtype.is_floating_point and o.requires_grad:
                v = rng.standard_normal(tuple(o.shape))
                term = (o * m.tensor(v, dtype=o.dtype)).sum()
                total = term if total is None else total + term
        if total is not None:
            total.backward()
        grads = [t.grad for t in leaves]
    return outs, grads


def _np(t) -> np.ndarray:
    return np.asarray(t.detach().numpy() if isinstance(t, torch.Tensor) else t.detach().numpy())


def _compare(spec: OpSpec, arrays: list, inputs: tuple, rtol: float = 1e-6) -> None:
    rb_outs, rb_grads = _run(rb, spec, arrays, inputs)
    th_outs, th_grads = _run(torch, spec, arrays, inputs)
    assert len(rb_outs) == len(th_outs), f"{spec.name}: number of outputs"
    for ours, theirs in zip(rb_outs, th_outs):
        assert isinstance(ours, rb.Tensor)
        assert ours.dtype.name == str(theirs.dtype).removeprefix("torch."), spec.name
        assert tuple(ours.shape) == tuple(theirs.shape), spec.name
        np.testing.assert_allclose(_np(ours), _np(theirs), rtol=rtol, atol=spec.atol,
                                   err_msg=f"{spec.name} forward")
    for i, (ours, theirs) in enumerate(zip(rb_grads, th_grads)):
        if theirs is None:
            assert ours is None or not _np(ours).any(), f"{spec.name}: grad of input {i}"
            continue
        assert ours is not None, f"{spec.name}: missing gradient for input {i}"
        assert ours.dtype.name == str(theirs.dtype).removeprefix("torch.")
        assert tuple(ours.shape) == tuple(theirs.shape)
        np.testing.assert_allclose(_np(ours), _np(theirs), rtol=rtol, atol=max(spec.atol, 1e-12),
                                   err_msg=f"{spec.name} gradient of input {i}")


@pytest.mark.parametrize("spec", SPECS, ids=repr)
def test_matches_pytorch_float64(spec: OpSpec) -> None:
    _compare(spec, _arrays(spec, spec.inputs, np.float64), spec.inputs)


@pytest.mark.parametrize("spec, i", VARIANTS)
def test_variant_matches_pytorch(spec: OpSpec, i: int) -> None:
    inputs = tuple(spec.variants[i])
    _compare(spec, _arrays(spec, inputs, np.float64), inputs)


@pytest.mark.parametrize("how", ["transposed", "strided"])
@pytest.mark.parametrize("spec", [s for s in SPECS if s.noncontiguous], ids=repr)
def test_noncontiguous_inputs(spec: OpSpec, how: str) -> None:
    arrays = [a if isinstance(e, Const) else _relayout(a, how)
              for a, e in zip(_arrays(spec, spec.inputs, np.float64), spec.inputs)]
    _compare(spec, arrays, spec.inputs)


@pytest.mark.parametrize("spec", GRAD_SPECS, ids=repr)
def test_gradcheck_float64(spec: OpSpec) -> None:
    leaves = _leaves(rb, spec, _arrays(spec, spec.inputs, np.float64), spec.inputs)
    size = sum(t.numel() for t in leaves if t.requires_grad)
    assert rb.autograd.gradcheck(lambda *ts: spec.fn(rb, *ts), leaves, eps=1e-6, atol=1e-6,
                                 rtol=1e-4, fast_mode=size > 40)


@pytest.mark.parametrize("spec", [s for s in GRAD_SPECS if s.float32_grad], ids=repr)
def test_float32_keeps_float32(spec: OpSpec) -> None:
    arrays = _arrays(spec, spec.inputs, np.float32)
    rb_outs, rb_grads = _run(rb, spec, arrays, spec.inputs)
    th_outs, _ = _run(torch, spec, arrays, spec.inputs)
    for ours, theirs in zip(rb_outs, th_outs):
        assert ours.dtype.name == str(theirs.dtype).removeprefix("torch."), spec.name
        assert ours._data.dtype == np.dtype(ours.dtype.name)
        np.testing.assert_allclose(_np(ours), _np(theirs), rtol=1e-4, atol=1e-5)
    for g, e in zip(rb_grads, spec.inputs):
        if not isinstance(e, Const):
            assert g is not None and g.dtype is rb.float32 and g._data.dtype == np.float32


@pytest.mark.parametrize("call, error, match", [
    (lambda m, a, b: m.einsum("ij,jk", a), RuntimeError, "fewer operands"),
    (lambda m, a, b: m.einsum("ij", a, b), RuntimeError, "more operands"),
    (lambda m, a, b: m.einsum("i1->i", a), RuntimeError, "invalid subscript"),
    (lambda m, a, b: m.einsum("ijk->i", a), RuntimeError, "number of subscripts"),
    (lambda m, a, b: m.einsum("ij->ik", a), RuntimeError, "output subscript k"),
    (lambda m, a, b: m.einsum("ij,ij->ij", a, b), RuntimeError, "broadcast"),
    (lambda m, a, b: m.tensordot(a, b, ([0], [0])), RuntimeError, "contracted dimensions"),
    (lambda m, a, b: m.addmm(a, a, b), RuntimeError, "multiply"),
    (lambda m, a, b: m.cross(a, a, dim=0), RuntimeError, "must have length 3"),
    (lambda m, a, b: m.narrow(a, 1, 3, 2), RuntimeError, "exceeds dimension size"),
    (lambda m, a, b: m.roll(a, (1, 2), 0), RuntimeError, "shifts and dimensions must align"),
    (lambda m, a, b: m.diag(a[None]), RuntimeError, "1D or 2D"),
    (lambda m, a, b: m.repeat_interleave(a, m.tensor([1, 2]), dim=1), RuntimeError,
     "repeats must have the same size"),
    (lambda m, a, b: m.cumprod(a, 2), IndexError, "Dimension out of range"),
])
def test_errors_match_pytorch(call, error, match) -> None:
    """Both libraries refuse the same calls with the same kind of error."""
    rng = np.random.default_rng(0)
    arrays = rng.standard_normal((2, 4)), rng.standard_normal((3, 5))
    for m in (rb, torch):
        with pytest.raises(error, match=match if m is rb else None):
            call(m, *(m.tensor(x) for x in arrays))


def test_cumprod_zero_gradient_is_exact() -> None:
    """A zero in the running product: x0 * x1 * x2 with x1 = 0 still has gradient x0 * x2."""
    x = rb.tensor([2.0, 0.0, 3.0], requires_grad=True)
    rb.cumprod(x, 0)[-1].backward()
    assert x.grad.tolist() == [0.0, 6.0, 0.0]


def test_addmm_beta_zero_ignores_nan() -> None:
    """beta=0 does not read input: nan and inf there do not reach the result."""
    c = rb.full((2, 2), float("nan"))
    out = rb.addmm(c, rb.ones(2, 3), rb.ones(3, 2), beta=0, alpha=0.5)
    assert out.tolist() == [[1.5, 1.5], [1.5, 1.5]]


def test_inplace_variants() -> None:
    """The in-place methods write into the tensor they are called on."""
    x = rb.tensor([1.0, float("nan"), 3.0])
    assert x.nan_to_num_(0.5) is x and x.tolist() == [1.0, 0.5, 3.0]
    x.lerp_(rb.zeros(3), 0.5).fmod_(1.0)
    assert x.tolist() == [0.5, 0.25, 0.5]
    y = rb.ones(2, 2)
    y.addmm_(rb.ones(2, 2), rb.ones(2, 2), beta=2)
    assert y.tolist() == [[4.0, 4.0], [4.0, 4.0]]
