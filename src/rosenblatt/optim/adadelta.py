"""Adadelta: per-coordinate steps from running averages of squared gradients and updates."""

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


class Adadelta(Optimizer):
    """Adadelta, PyTorch's update rule (with a learning rate and weight decay)."""

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        capturable: bool = False,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        _check_nonnegative(lr=lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        _check_nonnegative(eps=eps, weight_decay=weight_decay)
        defaults = dict(
            lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
            capturable=capturable, foreach=foreach, differentiable=differentiable,
        )
        super().__init__(params, defaults)

    def _init_state(self, param: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        xp = array_module(param._data)
        state["step"] = _step_tensor()
        state["square_avg"] = _state_tensor(xp.zeros_like(param._data))
        state["acc_delta"] = _state_tensor(xp.zeros_like(param._data))

    def _update(self, param: Any, grad: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        """One Adadelta step (Zeiler, 2012, Algorithm 1, scaled by γ):

            g ← -g if maximize;   g ← g + λθ
            v ← ρ v + (1 − ρ) g²
            Δ ← √(u + ε) / √(v + ε) · g
            u ← ρ u + (1 − ρ) Δ²
            θ ← θ − γ Δ
        """
        xp = array_module(param)
        lr, rho, eps = float(group["lr"]), group["rho"], group["eps"]
        weight_decay = group["weight_decay"]
        _next_step(state)
        if group["maximize"]:
            grad = -grad
        if weight_decay != 0:
            grad = grad + weight_decay * param
        square_avg, acc_delta = state["square_avg"]._data, state["acc_delta"]._data
        square_avg *= rho
        square_avg += (1 - rho) * grad * grad
        delta = xp.sqrt(acc_delta + eps)
        delta /= xp.sqrt(square_avg + eps)
        delta *= grad
        acc_delta *= rho
        acc_delta += (1 - rho) * delta * delta
        param += -lr * delta
