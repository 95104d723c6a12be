"""NAdam: Adam with Nesterov momentum and a warming-up momentum schedule."""

from __future__ import annotations

from typing import Any

from .._backend import array_module
from ..autograd.tensor import Tensor
from .adam import _update_moments, _weight_decay
from .optimizer import (
    Optimizer,
    ParamsT,
    _check_betas,
    _check_nonnegative,
    _next_step,
    _scalar_tensor,
    _state_tensor,
    _step_tensor,
)


class NAdam(Optimizer):
    """NAdam, PyTorch's update rule; `decoupled_weight_decay` makes it NAdamW."""

    def __init__(
        self,
        params: ParamsT,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum_decay: float = 4e-3,
        decoupled_weight_decay: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
    ) -> None:
        _check_nonnegative(lr=lr, eps=eps)
        _check_betas(betas)
        _check_nonnegative(weight_decay=weight_decay, momentum_decay=momentum_decay)
        # betas are kept as given (no float conversion), as PyTorch's NAdam does
        defaults = dict(
            lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
            momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
            maximize=maximize, foreach=foreach, capturable=capturable,
            differentiable=differentiable,
        )
        super().__init__(params, defaults)

    def _init_state(self, param: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        xp = array_module(param._data)
        state["step"] = _step_tensor()
        state["mu_product"] = _scalar_tensor(1.0)
        state["exp_avg"] = _state_tensor(xp.zeros_like(param._data))
        state["exp_avg_sq"] = _state_tensor(xp.zeros_like(param._data))

    def _update(self, param: Any, grad: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        """One NAdam step (Dozat, 2016; momentum schedule ψ: `momentum_decay`):

            g ← -g if maximize
            θ ← θ (1 − γλ)  (decoupled)      or      g ← g + λθ
            μ_t ← β1 (1 − ½ · 0.96^(t ψ)),   μ_{t+1} likewise;   Π ← Π μ_t
            m ← β1 m + (1 − β1) g
            v ← β2 v + (1 − β2) g²;          d ← √(v / (1 − β2^t)) + ε
            θ ← θ − γ (1 − μ_t) / (1 − Π) · g / d − γ μ_{t+1} / (1 − Π μ_{t+1}) · m / d
        """
        xp = array_module(param)
        lr, eps, momentum_decay = float(group["lr"]), group["eps"], group["momentum_decay"]
        beta1, beta2 = group["betas"]
        step = _next_step(state)
        if group["maximize"]:
            grad = -grad
        grad = _weight_decay(param, grad, lr, group)
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * momentum_decay))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * momentum_decay))
        # the product is a float32 scalar, as in PyTorch, so it rounds as theirs does
        mu_product = state["mu_product"]
        mu_product._data *= mu
        mu_product._version_box[0] += 1
        product = float(mu_product._data)
        exp_avg, exp_avg_sq = _update_moments(state, grad, beta1, beta2)
        denom = exp_avg_sq / (1 - beta2**step)
        xp.sqrt(denom, out=denom)
        denom += eps
        param += -lr * (1.0 - mu) / (1.0 - product) * grad / denom
        param += -lr * mu_next / (1.0 - product * mu_next) * exp_avg / denom
