"""Adadelta: per-coordinate steps from running averages of squared gradients and updates."""

from __future__ import annotations

from .._backend import array_module
from ..autograd.tensor import Tensor
from .optimizer import Optimizer, ParamsT, _updates


def adadelta(
    params: list[Tensor],
    grads: list[Tensor],
    square_avgs: list[Tensor],
    acc_deltas: list[Tensor],
    state_steps: list[Tensor],
    *,
    lr: float,
    rho: float,
    eps: float,
    weight_decay: float,
    maximize: bool,
) -> None:
    """Adadelta on each parameter in place, PyTorch's `torch.optim.adadelta.adadelta` (Zeiler,
    2012, Algorithm 1, scaled by γ):

        g ← -g if maximize;   g ← g + λθ
        v ← ρ v + (1 − ρ) g²
        Δ ← √(u + ε) / √(v + ε) · g
        u ← ρ u + (1 − ρ) Δ²
        θ ← θ − γ Δ
    """
    lr = float(lr)
    for i, array, grad, _ in _updates(params, grads, state_steps, maximize, weight_decay):
        xp = array_module(array)
        square_avg, acc_delta = square_avgs[i]._data, acc_deltas[i]._data
        square_avg *= rho
        square_avg += (1 - rho) * grad * grad
        delta = xp.sqrt(acc_delta + eps)
        delta /= xp.sqrt(square_avg + eps)
        delta *= grad
        acc_delta *= rho
        acc_delta += (1 - rho) * delta * delta
        array += -lr * delta


class Adadelta(Optimizer):
    """Adadelta, PyTorch's update rule (with a learning rate and weight decay)."""

    _checked = ("lr", "rho", "eps", "weight_decay")
    _functional = staticmethod(adadelta)
    _state_lists = ("square_avg", "acc_delta", "step")

    def __init__(self, params: ParamsT, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, foreach: bool | None = None, *, capturable: bool = False,
                 maximize: bool = False, differentiable: bool = False) -> None:
        defaults = dict(
            lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
            capturable=capturable, foreach=foreach, differentiable=differentiable,
        )
        super().__init__(params, defaults)
