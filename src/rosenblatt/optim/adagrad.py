"""Adagrad: per-coordinate learning rates from the sum of squared gradients."""

from __future__ import annotations

from typing import Any

from .._backend import array_module
from ..autograd.tensor import Tensor
from .optimizer import Optimizer, ParamsT, _updates


def adagrad(
    params: list[Tensor],
    grads: list[Tensor],
    state_sums: list[Tensor],
    state_steps: list[Tensor],
    *,
    lr: float,
    weight_decay: float,
    lr_decay: float,
    eps: float,
    maximize: bool,
) -> None:
    """Adagrad on each parameter in place, PyTorch's `torch.optim.adagrad.adagrad` (Duchi,
    Hazan & Singer, 2011):

        g ← -g if maximize;   g ← g + λθ
        γ_t ← γ / (1 + (t − 1) η)      (η: lr_decay)
        s ← s + g²
        θ ← θ − γ_t g / (√s + ε)
    """
    lr = float(lr)
    for i, array, grad, step in _updates(params, grads, state_steps, maximize, weight_decay):
        clr = lr / (1 + (step - 1) * lr_decay)
        state_sum = state_sums[i]._data
        state_sum += grad * grad
        std = array_module(array).sqrt(state_sum)
        std += eps
        array += -clr * grad / std


class Adagrad(Optimizer):
    """Adagrad, PyTorch's update rule (with learning-rate decay and weight decay)."""

    _checked = ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps")
    _functional = staticmethod(adagrad)
    _state_lists = ("sum", "step")

    def __init__(self, params: ParamsT, lr: float = 1e-2, lr_decay: float = 0,
                 weight_decay: float = 0, initial_accumulator_value: float = 0, eps: float = 1e-10,
                 foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        defaults = dict(
            lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value, foreach=foreach,
            maximize=maximize, differentiable=differentiable, fused=fused,
        )
        super().__init__(params, defaults)
        # PyTorch makes Adagrad's state up front, so it is in the state dict before any step
        for group in self.param_groups:
            for p in group["params"]:
                self._state_for(p, group)

    def _new_state(self, group: dict[str, Any]) -> dict[str, float]:
        return {"step": 0.0, "sum": group["initial_accumulator_value"]}
