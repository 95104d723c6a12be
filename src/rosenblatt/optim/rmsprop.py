"""RMSprop: divide the gradient by a running average of its recent magnitude."""

from __future__ import annotations

from typing import Any

from .._backend import array_module
from .._backend.parallel import map_tasks
from ..autograd.tensor import Tensor
from .optimizer import Optimizer, ParamsT, _decay, _updates


def rmsprop(
    params: list[Tensor],
    grads: list[Tensor],
    square_avgs: list[Tensor],
    grad_avgs: list[Tensor],
    momentum_buffer_list: list[Tensor],
    state_steps: list[Tensor],
    *,
    maximize: bool = False,
    lr: float,
    alpha: float,
    eps: float,
    weight_decay: float,
    momentum: float,
    centered: bool,
) -> None:
    """RMSprop on each parameter in place, PyTorch's `torch.optim.rmsprop.rmsprop` (Hinton,
    Lecture 6e, 2012; centered: Graves, 2013, eq. 38-45):

        g ← -g if maximize;   g ← g + λθ
        v ← α v + (1 − α) g²
        centered: ḡ ← α ḡ + (1 − α) g,   d ← √(v − ḡ²) + ε;   else d ← √v + ε
        momentum: b ← μ b + g / d,   θ ← θ − γ b;   else θ ← θ − γ g / d

    `grad_avgs` is read only when centered, `momentum_buffer_list` only with momentum.
    """
    lr = float(lr)

    def update(array: Any, grad: Any, square_avg: Any, grad_avg: Any, buf: Any) -> None:
        xp = array_module(array)
        grad = -grad if maximize else grad  # here, not in _updates: within the block
        grad = _decay(array, grad, weight_decay)
        square_avg *= alpha
        square_avg += (1 - alpha) * grad * grad
        if centered:
            grad_avg += (1 - alpha) * (grad - grad_avg)  # PyTorch's lerp, same rounding
            avg = xp.sqrt(square_avg - grad_avg * grad_avg)  # (a 0-d difference is a scalar)
        else:
            avg = xp.sqrt(square_avg)
        avg += eps
        if momentum > 0:
            buf *= momentum
            buf += grad / avg
            array -= lr * buf
        else:
            array += -lr * grad / avg

    tasks = [(array, grad, square_avgs[i]._data, grad_avgs[i]._data if centered else None,
              momentum_buffer_list[i]._data if momentum > 0 else None)
             for i, array, grad, _ in _updates(params, grads, state_steps, False, 0)]
    map_tasks(update, tasks, array_module(params[0]._data) if params else None)


class RMSprop(Optimizer):
    """RMSprop (optionally centered, with momentum), PyTorch's update rule."""

    _checked = ("lr", "eps", "momentum", "weight_decay", "alpha")
    _functional = staticmethod(rmsprop)
    _state_lists = ("square_avg", "grad_avg", "momentum_buffer", "step")

    def __init__(self, params: ParamsT, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False,
                 capturable: bool = False, foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        defaults = dict(
            lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
            weight_decay=weight_decay, capturable=capturable, foreach=foreach,
            maximize=maximize, differentiable=differentiable,
        )
        super().__init__(params, defaults)

    def _new_state(self, group: dict[str, Any]) -> dict[str, float]:
        names = ["step", "square_avg"] + ["momentum_buffer"] * (group["momentum"] > 0)
        return dict.fromkeys(names + ["grad_avg"] * group["centered"], 0.0)
