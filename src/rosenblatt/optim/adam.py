"""Adam: adaptive moment estimation, with L2 or decoupled weight decay (AdamW)."""

from __future__ import annotations

from typing import Any

from .._backend import array_module
from .._backend.parallel import map_tasks
from ..autograd.tensor import Tensor
from .optimizer import Optimizer, ParamsT, _decay, _updates


def adam(
    params: list[Tensor],
    grads: list[Tensor],
    exp_avgs: list[Tensor],
    exp_avg_sqs: list[Tensor],
    max_exp_avg_sqs: list[Tensor],
    state_steps: list[Tensor],
    *,
    decoupled_weight_decay: bool = False,
    amsgrad: bool,
    beta1: float,
    beta2: float,
    lr: float,
    weight_decay: float,
    eps: float,
    maximize: bool,
) -> None:
    """Adam on each parameter in place, PyTorch's `torch.optim.adam.adam` (Kingma & Ba, 2015,
    Algorithm 1; AMSGrad: Reddi et al., 2018; decoupled decay: Loshchilov & Hutter, 2019):

        g ← -g if maximize
        θ ← θ (1 − γλ)  (AdamW)      or      g ← g + λθ  (Adam)
        m ← β1 m + (1 − β1) g
        v ← β2 v + (1 − β2) g²;      AMSGrad: v ← v_max ← max(v_max, v)
        θ ← θ − γ / (1 − β1^t) · m / (√v / √(1 − β2^t) + ε)

    The moments and the steps advance in place; `max_exp_avg_sqs` is read only with amsgrad.
    """
    lr = float(lr)

    def update(array: Any, grad: Any, exp_avg: Any, exp_avg_sq: Any, max_exp_avg_sq: Any,
               step: float) -> None:
        xp = array_module(array)
        grad = -grad if maximize else grad  # here, not in _updates: within the block
        grad = _decay(array, grad, weight_decay, lr, decoupled_weight_decay)
        _update_moments(exp_avg, exp_avg_sq, grad, beta1, beta2)
        if amsgrad:
            xp.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
            exp_avg_sq = max_exp_avg_sq
        step_size = lr / (1 - beta1**step)
        denom = xp.sqrt(exp_avg_sq)
        denom /= (1 - beta2**step) ** 0.5
        denom += eps
        array += -step_size * exp_avg / denom

    tasks = [(array, grad, exp_avgs[i]._data, exp_avg_sqs[i]._data,
              max_exp_avg_sqs[i]._data if amsgrad else None, step)
             for i, array, grad, step in _updates(params, grads, state_steps, False, 0)]
    map_tasks(update, tasks, array_module(params[0]._data) if params else None)


class Adam(Optimizer):
    """Adam (optionally AMSGrad), PyTorch's update rule; `decoupled_weight_decay` makes AdamW."""

    _checked = ("lr", "eps", "betas", "weight_decay")
    _functional = staticmethod(adam)
    _state_lists = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq", "step")

    def __init__(self, params: ParamsT, lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0, amsgrad: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False, differentiable: bool = False,
                 fused: bool | None = None, decoupled_weight_decay: bool = False) -> None:
        defaults = dict(
            lr=lr, betas=tuple(float(b) for b in betas), eps=eps, weight_decay=weight_decay,
            amsgrad=amsgrad, maximize=maximize, foreach=foreach, capturable=capturable,
            differentiable=differentiable, fused=fused,
            decoupled_weight_decay=decoupled_weight_decay,
        )
        super().__init__(params, defaults)

    def _new_state(self, group: dict[str, Any]) -> dict[str, float]:
        names = ["step", "exp_avg", "exp_avg_sq"] + ["max_exp_avg_sq"] * group["amsgrad"]
        return dict.fromkeys(names, 0.0)



def _update_moments(exp_avg: Any, exp_avg_sq: Any, grad: Any, beta1: float, beta2: float) -> None:
    """Adam's running moments in place, m ← β1 m + (1 − β1) g, v ← β2 v + (1 − β2) g²."""
    exp_avg += (1 - beta1) * (grad - exp_avg)  # PyTorch's lerp, same rounding
    exp_avg_sq *= beta2
    exp_avg_sq += (1 - beta2) * grad * grad
