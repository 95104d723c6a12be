"""Adagrad: per-coordinate learning rates from the sum of squared gradients."""

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


class Adagrad(Optimizer):
    """Adagrad, PyTorch's update rule (with learning-rate decay and weight decay)."""

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        _check_nonnegative(
            lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value, eps=eps,
        )
        defaults = dict(
            lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value, foreach=foreach,
            maximize=maximize, differentiable=differentiable, fused=fused,
        )
        super().__init__(params, defaults)
        # PyTorch makes Adagrad's state up front, so it is in the state dict before any step
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, self.state[p], group)

    def _init_state(self, param: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        xp = array_module(param._data)
        state["step"] = _step_tensor()
        state["sum"] = _state_tensor(
            xp.full_like(param._data, group["initial_accumulator_value"])
        )

    def _update(self, param: Any, grad: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        """One Adagrad step (Duchi, Hazan & Singer, 2011):

            g ← -g if maximize;   g ← g + λθ
            γ_t ← γ / (1 + (t − 1) η)      (η: lr_decay)
            s ← s + g²
            θ ← θ − γ_t g / (√s + ε)
        """
        xp = array_module(param)
        lr, lr_decay, eps = float(group["lr"]), group["lr_decay"], group["eps"]
        weight_decay = group["weight_decay"]
        step = _next_step(state)
        if group["maximize"]:
            grad = -grad
        if weight_decay != 0:
            grad = grad + weight_decay * param
        clr = lr / (1 + (step - 1) * lr_decay)
        state_sum = state["sum"]._data
        state_sum += grad * grad
        std = xp.sqrt(state_sum)
        std += eps
        param += -clr * grad / std
