"""Shared helpers for the nn tests: run a module or function in rosenblatt and in PyTorch."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np
import torch

import rosenblatt as rb

RTOL, ATOL = 1e-6, 1e-10


def assert_close(ours: Any, theirs: Any, rtol: float = RTOL, atol: float = ATOL) -> None:
    a = ours.detach().numpy() if isinstance(ours, rb.Tensor) else np.asarray(ours)
    b = theirs.detach().numpy() if isinstance(theirs, torch.Tensor) else np.asarray(theirs)
    assert a.shape == b.shape, f"shape {a.shape} != torch's {b.shape}"
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


def load_from_torch(ours: rb.nn.Module, theirs: torch.nn.Module) -> None:
    """Copy PyTorch's weights into our module through a dict of NumPy arrays."""
    state = {k: v.detach().numpy() for k, v in theirs.state_dict().items()}
    assert list(state) == list(ours.state_dict()), "state_dict keys differ from PyTorch's"
    ours.load_state_dict(state)


def compare_functions(ours_fn: Callable, torch_fn: Callable, arrays: Sequence[np.ndarray],
                      grad: Sequence[bool] | None = None, rtol: float = RTOL,
                      atol: float = ATOL, seed: int = 0) -> None:
    """Same inputs to both: compare the outputs, then the gradients of <out, v>."""
    grad = [a.dtype.kind == "f" for a in arrays] if grad is None else grad
    ours_in = [rb.tensor(a, requires_grad=g) for a, g in zip(arrays, grad)]
    theirs_in = [torch.tensor(a, requires_grad=g) for a, g in zip(arrays, grad)]
    out_r, out_t = ours_fn(*ours_in), torch_fn(*theirs_in)
    assert_close(out_r, out_t, rtol, atol)
    v = np.random.default_rng(seed).standard_normal(tuple(out_t.shape))
    (out_r * rb.tensor(v, dtype=out_r.dtype)).sum().backward()
    (out_t * torch.tensor(v, dtype=out_t.dtype)).sum().backward()
    for i, (a, b) in enumerate(zip(ours_in, theirs_in)):
        if grad[i]:
            assert a.grad is not None, f"no gradient for input {i}"
            assert_close(a.grad, b.grad, rtol, atol)


def compare_modules(ours: rb.nn.Module, theirs: torch.nn.Module, *arrays: np.ndarray,
                    input_grad: bool = True, rtol: float = RTOL, atol: float = ATOL) -> Any:
    """Forward both modules on the same inputs; compare outputs, input and parameter grads."""
    ours_in = [rb.tensor(a, requires_grad=input_grad and a.dtype.kind == "f") for a in arrays]
    theirs_in = [torch.tensor(a, requires_grad=input_grad and a.dtype.kind == "f")
                 for a in arrays]
    out_r, out_t = ours(*ours_in), theirs(*theirs_in)
    assert_close(out_r, out_t, rtol, atol)
    v = np.random.default_rng(0).standard_normal(tuple(out_t.shape))
    (out_r * rb.tensor(v, dtype=out_r.dtype)).sum().backward()
    (out_t * torch.tensor(v, dtype=out_t.dtype)).sum().backward()
    for a, b in zip(ours_in, theirs_in):
        if b.requires_grad:
            assert_close(a.grad, b.grad, rtol, atol)
    theirs_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        tp = theirs_params[name]
        if tp.grad is None:
            assert p.grad is None or not p.grad.numpy().any(), name
        else:
            assert p.grad is not None, f"no gradient for {name}"
            assert_close(p.grad, tp.grad, rtol, atol)
    return out_r, out_t
