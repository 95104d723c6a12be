"""Adamax: Adam with the infinity norm of past gradients in place of their second moment."""

from __future__ import annotations

from typing import Any

from .._backend import array_module
from ..autograd.tensor import Tensor
from .optimizer import (
    Optimizer,
    ParamsT,
    _check_betas,
    _check_nonnegative,
    _next_step,
    _state_tensor,
    _step_tensor,
)


class Adamax(Optimizer):
    """Adamax, PyTorch's update rule (with weight decay)."""

    def __init__(
        self,
        params: ParamsT,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        capturable: bool = False,
    ) -> None:
        _check_nonnegative(lr=lr, eps=eps)
        _check_betas(betas)
        _check_nonnegative(weight_decay=weight_decay)
        # betas are kept as given (no float conversion), as PyTorch's Adamax does
        defaults = dict(
            lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach,
            maximize=maximize, differentiable=differentiable, capturable=capturable,
        )
        super().__init__(params, defaults)

    def _init_state(self, param: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        xp = array_module(param._data)
        state["step"] = _step_tensor()
        state["exp_avg"] = _state_tensor(xp.zeros_like(param._data))
        state["exp_inf"] = _state_tensor(xp.zeros_like(param._data))

    def _update(self, param: Any, grad: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        """One Adamax step (Kingma & Ba, 2015, Algorithm 2; ε inside the max, as PyTorch):

            g ← -g if maximize;   g ← g + λθ
            m ← β1 m + (1 − β1) g
            u ← max(β2 u, |g| + ε)
            θ ← θ − γ / (1 − β1^t) · m / u
        """
        xp = array_module(param)
        lr, eps, weight_decay = float(group["lr"]), group["eps"], group["weight_decay"]
        beta1, beta2 = group["betas"]
        step = _next_step(state)
        if group["maximize"]:
            grad = -grad
        if weight_decay != 0:
            grad = grad + weight_decay * param
        exp_avg, exp_inf = state["exp_avg"]._data, state["exp_inf"]._data
        exp_avg += (1 - beta1) * (grad - exp_avg)  # PyTorch's lerp, same rounding
        exp_inf *= beta2
        norm = xp.abs(grad)
        norm += eps
        xp.maximum(exp_inf, norm, out=exp_inf)
        param += -lr / (1 - beta1**step) * exp_avg / exp_inf
