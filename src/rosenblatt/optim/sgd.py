"""Stochastic gradient descent, with momentum, Nesterov momentum and weight decay."""

from __future__ import annotations

from typing import Any

from .._backend import array_module
from .._backend.parallel import map_tasks
from ..autograd.tensor import Tensor
from .optimizer import Optimizer, ParamsT, _decay, _state_tensor, _updates


def sgd(
    params: list[Tensor],
    d_p_list: list[Tensor],
    momentum_buffer_list: list[Tensor | None],
    *,
    weight_decay: float,
    momentum: float,
    lr: float,
    dampening: float,
    nesterov: bool,
    maximize: bool,
) -> None:
    """SGD on each parameter in place, PyTorch's `torch.optim.sgd.sgd` (Sutskever et al., 2013):

        g ← -g if maximize;   g ← g + λθ
        b ← g (first step),   else b ← μ b + (1 − τ) g
        g ← g + μ b (Nesterov),  else g ← b
        θ ← θ − γ g

    A None in `momentum_buffer_list` is replaced by the new buffer, as PyTorch does.
    """
    lr = float(lr)

    def update(array: Any, grad: Any, buf: Any, first: bool) -> None:
        grad = -grad if maximize else grad  # here, not in _updates: within the block
        grad = _decay(array, grad, weight_decay)
        if buf is not None:
            if first:
                buf[...] = grad
            else:
                buf *= momentum
                buf += grad if dampening == 0 else (1 - dampening) * grad
            grad = grad + momentum * buf if nesterov else buf
        array -= lr * grad

    tasks = []
    for i, array, grad, _ in _updates(params, d_p_list, None, False, 0):
        buf, first = None, False
        if momentum != 0:
            if momentum_buffer_list[i] is None:
                new = array_module(grad).empty(grad.shape, dtype=grad.dtype)
                momentum_buffer_list[i], first = _state_tensor(new), True
            buf = momentum_buffer_list[i]._data
        tasks.append((array, grad, buf, first))
    map_tasks(update, tasks, array_module(params[0]._data) if params else None)


class SGD(Optimizer):
    """Stochastic gradient descent (optionally with momentum), PyTorch's update rule."""

    _checked = ("lr", "momentum", "weight_decay", "nesterov")
    _functional = staticmethod(sgd)
    _state_lists = ("momentum_buffer",)

    def __init__(self, params: ParamsT, lr: float = 1e-3, momentum: float = 0,
                 dampening: float = 0, weight_decay: float = 0, nesterov: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None, differentiable: bool = False,
                 fused: bool | None = None) -> None:
        defaults = dict(
            lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
            nesterov=nesterov, maximize=maximize, foreach=foreach,
            differentiable=differentiable, fused=fused,
        )
        super().__init__(params, defaults)

    def _new_state(self, group: dict[str, Any]) -> dict[str, float]:
        return {}  # no state before the first step: it makes the momentum buffers (PyTorch's)

    def _step_group(
        self, group: dict[str, Any], params: list[Tensor], states: list[dict[str, Any]]
    ) -> list[list[Any]]:
        """The functional's step; the momentum buffers it made on a first step are kept."""
        columns = super()._step_group(group, params, states)
        if group["momentum"] != 0:
            for state, buf in zip(states, columns[0]):
                state["momentum_buffer"] = buf
        return columns
