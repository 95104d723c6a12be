"""RMSprop: divide the gradient by a running average of its recent magnitude."""

from __future__ import annotations

from typing import Any

from .._backend import array_module
from ..autograd.tensor import Tensor
from .optimizer import (
    Optimizer,
    ParamsT,
    _check_nonnegative,
    _next_step,
    _state_tensor,
    _step_tensor,
)


class RMSprop(Optimizer):
    """RMSprop (optionally centered, with momentum), PyTorch's update rule."""

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        _check_nonnegative(
            lr=lr, eps=eps, momentum=momentum, weight_decay=weight_decay, alpha=alpha
        )
        defaults = dict(
            lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
            weight_decay=weight_decay, capturable=capturable, foreach=foreach,
            maximize=maximize, differentiable=differentiable,
        )
        super().__init__(params, defaults)

    def _init_state(self, param: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        xp = array_module(param._data)
        state["step"] = _step_tensor()
        state["square_avg"] = _state_tensor(xp.zeros_like(param._data))
        if group["momentum"] > 0:
            state["momentum_buffer"] = _state_tensor(xp.zeros_like(param._data))
        if group["centered"]:
            state["grad_avg"] = _state_tensor(xp.zeros_like(param._data))

    def _update(self, param: Any, grad: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        """One RMSprop step (Hinton, Lecture 6e, 2012; centered: Graves, 2013, eq. 38-45):

            g ← -g if maximize;   g ← g + λθ
            v ← α v + (1 − α) g²
            centered: ḡ ← α ḡ + (1 − α) g,   d ← √(v − ḡ²) + ε;   else d ← √v + ε
            momentum: b ← μ b + g / d,   θ ← θ − γ b;   else θ ← θ − γ g / d
        """
        xp = array_module(param)
        lr, alpha, eps = float(group["lr"]), group["alpha"], group["eps"]
        weight_decay, momentum = group["weight_decay"], group["momentum"]
        _next_step(state)
        if group["maximize"]:
            grad = -grad
        if weight_decay != 0:
            grad = grad + weight_decay * param
        square_avg = state["square_avg"]._data
        square_avg *= alpha
        square_avg += (1 - alpha) * grad * grad
        if group["centered"]:
            grad_avg = state["grad_avg"]._data
            grad_avg += (1 - alpha) * (grad - grad_avg)  # PyTorch's lerp, same rounding
            avg = square_avg - grad_avg * grad_avg
            xp.sqrt(avg, out=avg)
        else:
            avg = xp.sqrt(square_avg)
        avg += eps
        if momentum > 0:
            buf = state["momentum_buffer"]._data
            buf *= momentum
            buf += grad / avg
            param -= lr * buf
        else:
            param += -lr * grad / avg
