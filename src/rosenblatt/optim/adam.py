"""Adam and AdamW: adaptive moment estimation, with L2 or decoupled weight decay."""

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


class Adam(Optimizer):
    """Adam (optionally AMSGrad), PyTorch's update rule; `decoupled_weight_decay` makes AdamW."""

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        decoupled_weight_decay: bool = False,
    ) -> None:
        _check_nonnegative(lr=lr, eps=eps)
        _check_betas(betas)
        _check_nonnegative(weight_decay=weight_decay)
        defaults = dict(
            lr=lr, betas=tuple(float(b) for b in betas), eps=eps, weight_decay=weight_decay,
            amsgrad=amsgrad, maximize=maximize, foreach=foreach, capturable=capturable,
            differentiable=differentiable, fused=fused,
            decoupled_weight_decay=decoupled_weight_decay,
        )
        super().__init__(params, defaults)

    def _init_state(self, param: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        xp = array_module(param._data)
        state["step"] = _step_tensor()
        state["exp_avg"] = _state_tensor(xp.zeros_like(param._data))
        state["exp_avg_sq"] = _state_tensor(xp.zeros_like(param._data))
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = _state_tensor(xp.zeros_like(param._data))

    def _update(self, param: Any, grad: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        """One Adam step (Kingma & Ba, 2015, Algorithm 1; AMSGrad: Reddi et al., 2018;
        decoupled weight decay: Loshchilov & Hutter, 2019):

            g ← -g if maximize
            θ ← θ (1 − γλ)  (AdamW)      or      g ← g + λθ  (Adam)
            m ← β1 m + (1 − β1) g
            v ← β2 v + (1 − β2) g²;      AMSGrad: v ← v_max ← max(v_max, v)
            θ ← θ − γ / (1 − β1^t) · m / (√v / √(1 − β2^t) + ε)
        """
        xp = array_module(param)
        lr, eps = float(group["lr"]), group["eps"]
        beta1, beta2 = group["betas"]
        step = _next_step(state)
        if group["maximize"]:
            grad = -grad
        grad = _weight_decay(param, grad, lr, group)
        exp_avg, exp_avg_sq = _update_moments(state, grad, beta1, beta2)
        if group["amsgrad"]:
            max_exp_avg_sq = state["max_exp_avg_sq"]._data
            xp.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
            exp_avg_sq = max_exp_avg_sq
        step_size = lr / (1 - beta1**step)
        denom = xp.sqrt(exp_avg_sq)
        denom /= (1 - beta2**step) ** 0.5
        denom += eps
        param += -step_size * exp_avg / denom


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter, 2019)."""

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        super().__init__(
            params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
            capturable=capturable, differentiable=differentiable, fused=fused,
            decoupled_weight_decay=True,
        )

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a state dict; the weight decay stays decoupled, as in PyTorch."""
        super().load_state_dict(state_dict)
        for group in self.param_groups:
            group["decoupled_weight_decay"] = True


def _weight_decay(param: Any, grad: Any, lr: float, group: dict[str, Any]) -> Any:
    """Apply the group's weight decay and return the gradient to use.

    Decoupled (AdamW, NAdamW): θ ← θ (1 − γλ) in place; else L2: g ← g + λθ (a new array,
    since the gradient is read-only).
    """
    weight_decay = group["weight_decay"]
    if weight_decay == 0:
        return grad
    if group["decoupled_weight_decay"]:
        param *= 1 - lr * weight_decay
        return grad
    return grad + weight_decay * param


def _update_moments(state: dict[str, Any], grad: Any, beta1: float, beta2: float) -> tuple:
    """Adam's running moments in place, m ← β1 m + (1 − β1) g, v ← β2 v + (1 − β2) g²."""
    exp_avg, exp_avg_sq = state["exp_avg"]._data, state["exp_avg_sq"]._data
    exp_avg += (1 - beta1) * (grad - exp_avg)  # PyTorch's lerp, same rounding
    exp_avg_sq *= beta2
    exp_avg_sq += (1 - beta2) * grad * grad
    return exp_avg, exp_avg_sq
