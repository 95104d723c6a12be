"""NAdam: Adam with Nesterov momentum and a warming-up momentum schedule."""

from __future__ import annotations

from typing import Any

from .._backend import array_module
from .._backend.parallel import map_tasks
from ..autograd.tensor import Tensor
from .adam import _update_moments
from .optimizer import Optimizer, ParamsT, _decay, _updates


def nadam(
    params: list[Tensor],
    grads: list[Tensor],
    exp_avgs: list[Tensor],
    exp_avg_sqs: list[Tensor],
    mu_products: list[Tensor],
    state_steps: list[Tensor],
    *,
    decoupled_weight_decay: bool = False,
    maximize: bool = False,
    beta1: float,
    beta2: float,
    lr: float,
    weight_decay: float,
    momentum_decay: float,
    eps: float,
) -> None:
    """NAdam on each parameter in place, PyTorch's `torch.optim.nadam.nadam` (Dozat, 2016;
    momentum schedule ψ: `momentum_decay`):

        g ← -g if maximize
        θ ← θ (1 − γλ)  (decoupled)      or      g ← g + λθ
        μ_t ← β1 (1 − ½ · 0.96^(t ψ)),   μ_{t+1} likewise;   Π ← Π μ_t
        m ← β1 m + (1 − β1) g
        v ← β2 v + (1 − β2) g²;          d ← √(v / (1 − β2^t)) + ε
        θ ← θ − γ (1 − μ_t) / (1 − Π) · g / d − γ μ_{t+1} / (1 − Π μ_{t+1}) · m / d
    """
    lr = float(lr)

    def update(array: Any, grad: Any, exp_avg: Any, exp_avg_sq: Any, step: float, mu: float,
               mu_next: float, product: float) -> None:
        grad = -grad if maximize else grad  # here, not in _updates: within the block
        grad = _decay(array, grad, weight_decay, lr, decoupled_weight_decay)
        _update_moments(exp_avg, exp_avg_sq, grad, beta1, beta2)
        denom = array_module(array).sqrt(exp_avg_sq / (1 - beta2**step))  # (0-d: a scalar)
        denom += eps
        array += -lr * (1.0 - mu) / (1.0 - product) * grad / denom
        array += -lr * mu_next / (1.0 - product * mu_next) * exp_avg / denom

    tasks = []
    for i, array, grad, step in _updates(params, grads, state_steps, False, 0):
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * momentum_decay))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * momentum_decay))
        # the product is a float32 scalar, as in PyTorch, so it rounds as theirs does
        mu_product = mu_products[i]
        mu_product._data *= mu
        mu_product._version_box[0] += 1
        tasks.append((array, grad, exp_avgs[i]._data, exp_avg_sqs[i]._data, step, mu, mu_next,
                      float(mu_product._data)))
    map_tasks(update, tasks, array_module(params[0]._data) if params else None)


class NAdam(Optimizer):
    """NAdam, PyTorch's update rule; `decoupled_weight_decay` makes it NAdamW."""

    _checked = ("lr", "eps", "betas", "weight_decay", "momentum_decay")
    _functional = staticmethod(nadam)
    _state_lists = ("exp_avg", "exp_avg_sq", "mu_product", "step")

    def __init__(self, params: ParamsT, lr: float = 2e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        # betas are kept as given (no float conversion), as PyTorch's NAdam does
        defaults = dict(
            lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
            momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
            maximize=maximize, foreach=foreach, capturable=capturable,
            differentiable=differentiable,
        )
        super().__init__(params, defaults)

    def _new_state(self, group: dict[str, Any]) -> dict[str, float]:
        return {"step": 0.0, "mu_product": 1.0, "exp_avg": 0.0, "exp_avg_sq": 0.0}
