"""Adamax: Adam with the infinity norm of past gradients in place of their second moment."""

from __future__ import annotations

from .._backend import array_module
from ..autograd.tensor import Tensor
from .optimizer import Optimizer, ParamsT, _updates


def adamax(
    params: list[Tensor],
    grads: list[Tensor],
    exp_avgs: list[Tensor],
    exp_infs: list[Tensor],
    state_steps: list[Tensor],
    *,
    maximize: bool = False,
    eps: float,
    beta1: float,
    beta2: float,
    lr: float,
    weight_decay: float,
) -> None:
    """Adamax on each parameter in place, PyTorch's `torch.optim.adamax.adamax` (Kingma & Ba,
    2015, Algorithm 2; ε inside the max, as PyTorch):

        g ← -g if maximize;   g ← g + λθ
        m ← β1 m + (1 − β1) g
        u ← max(β2 u, |g| + ε)
        θ ← θ − γ / (1 − β1^t) · m / u
    """
    lr = float(lr)
    for i, array, grad, step in _updates(params, grads, state_steps, maximize, weight_decay):
        xp = array_module(array)
        exp_avg, exp_inf = exp_avgs[i]._data, exp_infs[i]._data
        exp_avg += (1 - beta1) * (grad - exp_avg)  # PyTorch's lerp, same rounding
        exp_inf *= beta2
        norm = xp.abs(grad)
        norm += eps
        xp.maximum(exp_inf, norm, out=exp_inf)
        array += -lr / (1 - beta1**step) * exp_avg / exp_inf


class Adamax(Optimizer):
    """Adamax, PyTorch's update rule (with weight decay)."""

    _checked = ("lr", "eps", "betas", "weight_decay")
    _functional = staticmethod(adamax)
    _state_lists = ("exp_avg", "exp_inf", "step")

    def __init__(self, params: ParamsT, lr: float = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False) -> None:
        # betas are kept as given (no float conversion), as PyTorch's Adamax does
        defaults = dict(
            lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach,
            maximize=maximize, differentiable=differentiable, capturable=capturable,
        )
        super().__init__(params, defaults)
