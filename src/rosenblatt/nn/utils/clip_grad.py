"""Gradient clipping, in place on the parameters' .grad."""

from __future__ import annotations

import math
from typing import Iterable

from ..._backend import array_module
from ...autograd.tensor import Tensor
from ...ops.creation import tensor


def _with_grads(parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p for p in parameters if p.grad is not None]


def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float,
                    norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach: bool | None = None) -> Tensor:
    """Scale all gradients so their joint norm is at most max_norm; returns the norm (0-d)."""
    params = _with_grads(parameters)
    norm_type = float(norm_type)
    if not params:
        return tensor(0.0)
    grads = [p.grad._data for p in params]
    xp = array_module(grads[0])
    if norm_type == math.inf:
        norms = [xp.abs(g).max() if g.size else xp.asarray(0.0) for g in grads]
        total = max(float(n) for n in norms)
    else:
        total = sum(float((xp.abs(g.astype(xp.float64)) ** norm_type).sum()) for g in grads)
        total = total ** (1.0 / norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"The total norm of order {norm_type} for gradients from `parameters` is "
            "non-finite, so it cannot be clipped. To disable this error and scale the gradients "
            "by the non-finite norm anyway, set `error_if_nonfinite=False`"
        )
    coef = max_norm / (total + 1e-6)
    if coef < 1:
        for p in params:
            p.grad._data = p.grad._data * p.grad._data.dtype.type(coef)
            p.grad._version_box[0] += 1
    return tensor(total, dtype=params[0].grad.dtype)


def clip_grad_norm(*args: object, **kwargs: object) -> Tensor:
    """Deprecated alias of clip_grad_norm_."""
    return clip_grad_norm_(*args, **kwargs)  # type: ignore[arg-type]


def clip_grad_value_(parameters: Tensor | Iterable[Tensor], clip_value: float,
                     foreach: bool | None = None) -> None:
    """Clamp every gradient element into [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    for p in _with_grads(parameters):
        xp = array_module(p.grad._data)
        xp.clip(p.grad._data, -clip_value, clip_value, out=p.grad._data)
        p.grad._version_box[0] += 1
