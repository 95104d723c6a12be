"""Run one function in Rosenblatt and in PyTorch on the same arrays; compare values and grads."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np
import torch

import rosenblatt as rb


def relayout(array: np.ndarray, how: str) -> np.ndarray:
    """The same values as a non-contiguous view (channels-last copy or every other column)."""
    if how == "channels_last" and array.ndim == 4:
        return np.ascontiguousarray(array.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)
    if how == "strided":
        base = np.zeros(array.shape[:-1] + (2 * array.shape[-1],), array.dtype)
        base[..., ::2] = array
        return base[..., ::2]
    return array


def _run(m: Any, fn: Callable, arrays: list, seed: int) -> tuple[list, list]:
    leaves = []
    for a in arrays:
        if a is None:
            leaves.append(None)
            continue
        t = rb.from_numpy(a) if m is rb else torch.from_numpy(np.array(a, copy=True))
        leaves.append(t.requires_grad_(True))
    out = fn(m, *leaves)
    outs = list(out) if isinstance(out, tuple) else [out]
    rng = np.random.default_rng(seed)
    v = rng.standard_normal(tuple(outs[0].shape))
    (outs[0] * m.tensor(v, dtype=outs[0].dtype)).sum().backward()
    return outs, [None if t is None else t.grad for t in leaves]


def _np(t: Any) -> np.ndarray:
    return t.detach().numpy() if t is not None else None


def assert_matches_torch(fn: Callable, arrays: list, rtol: float = 1e-6,
                         atol: float = 1e-9) -> None:
    """fn(module, *tensors) (module = rb or torch) agrees in outputs and input gradients."""
    rb_outs, rb_grads = _run(rb, fn, arrays, 1)
    th_outs, th_grads = _run(torch, fn, arrays, 1)
    for r, t in zip(rb_outs, th_outs):
        assert tuple(r.shape) == tuple(t.shape), f"shape {tuple(r.shape)} vs {tuple(t.shape)}"
        assert r.dtype.name == str(t.dtype).replace("torch.", ""), (r.dtype, t.dtype)
        np.testing.assert_allclose(_np(r), _np(t), rtol=rtol, atol=atol)
    for i, (r, t) in enumerate(zip(rb_grads, th_grads)):
        if t is None:
            assert r is None, f"input {i}: PyTorch has no gradient, we do"
            continue
        assert r is not None, f"input {i}: no gradient"
        assert r.dtype.name == str(t.dtype).replace("torch.", "")
        np.testing.assert_allclose(_np(r), _np(t), rtol=rtol, atol=atol,
                                   err_msg=f"gradient of input {i}")


def gradcheck(fn: Callable, arrays: list, fast: bool = False) -> None:
    """Finite-difference check of fn(rb, *tensors) in float64."""
    leaves = [None if a is None else rb.tensor(a, dtype=rb.float64, requires_grad=True)
              for a in arrays]
    assert rb.autograd.gradcheck(lambda *ts: fn(rb, *ts), leaves, fast_mode=fast)
