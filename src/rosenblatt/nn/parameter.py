"""`Parameter`: a tensor that a Module registers as one of its learnable weights."""

from __future__ import annotations

import copy

from ..autograd.tensor import Tensor
from ..ops.creation import empty


class Parameter(Tensor):
    """A Tensor that is a module parameter: assigning it to a Module attribute registers it.

    It shares memory with the tensor it wraps and requires grad unless told otherwise.
    """

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True) -> None:
        if data is None:
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter expects a Tensor, got {type(data).__name__}")
        self._init(data._data, False, None)
        self._version_box = data._version_box
        if requires_grad:
            self.requires_grad_(True)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo: dict) -> Parameter:
        if id(self) in memo:
            return memo[id(self)]
        result = Parameter(Tensor._make(self._data.copy(), False, None), self.requires_grad)
        if self.grad is not None:
            result.grad = Tensor._make(self.grad._data.copy(), False, None)
        memo[id(self)] = result
        return result


def _copy_tensor(t: Tensor, memo: dict) -> Tensor:
    """Deep copy of a plain tensor (buffers), used by Module.__deepcopy__."""
    if id(t) in memo:
        return memo[id(t)]
    if isinstance(t, Parameter):
        return copy.deepcopy(t, memo)
    out = Tensor._make(t._data.copy(), t.requires_grad and t.is_leaf, None)
    memo[id(t)] = out
    return out
