"""Stochastic gradient descent, with momentum, Nesterov momentum and weight decay."""

from __future__ import annotations

from typing import Any

from .optimizer import Optimizer, ParamsT, _state_tensor


class SGD(Optimizer):
    """Stochastic gradient descent (optionally with momentum), PyTorch's update rule."""

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(
            lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
            nesterov=nesterov, maximize=maximize, foreach=foreach,
            differentiable=differentiable, fused=fused,
        )
        super().__init__(params, defaults)

    def _update(self, param: Any, grad: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        """One SGD step (Sutskever et al., 2013, as PyTorch writes it):

            g ← -g if maximize;   g ← g + λθ
            b ← g (first step),   else b ← μ b + (1 − τ) g
            g ← g + μ b (Nesterov),  else g ← b
            θ ← θ − γ g
        """
        lr, momentum = float(group["lr"]), group["momentum"]
        weight_decay, dampening = group["weight_decay"], group["dampening"]
        if group["maximize"]:
            grad = -grad
        if weight_decay != 0:
            grad = grad + weight_decay * param
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = _state_tensor(grad.copy())
                state["momentum_buffer"] = buf
            else:
                buf._data *= momentum
                buf._data += grad if dampening == 0 else (1 - dampening) * grad
            grad = grad + momentum * buf._data if group["nesterov"] else buf._data
        param -= lr * grad
