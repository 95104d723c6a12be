"""SyncBatchNorm: batch norm whose batch statistics are taken over every process's batch.

In training with a process group of more than one rank, each channel's mean and variance are
sums over all ranks (a differentiable all-reduce: its backward all-reduces the gradient, so
each rank's input gradient is that of the whole batch). Otherwise it is BatchNorm.
"""

from __future__ import annotations

import math
from typing import Any

from ...autograd.function import Function
from ...autograd.tensor import Tensor
from .._functional.norm import _update_running
from .batchnorm import _BatchNorm
from .module import Module

__all__ = ["SyncBatchNorm"]


class _AllReduceSum(Function):
    """Sum over the ranks of the group; the gradient is summed over the ranks too."""

    @staticmethod
    def forward(ctx: Any, a: Any, group: Any = None) -> Any:
        ctx.group = group
        return _all_reduced(a, group)

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        return _all_reduced(grad, ctx.group)


def _all_reduced(array: Any, group: Any) -> Any:
    """A copy of the array, summed over the ranks."""
    from ... import distributed as dist
    out = Tensor._make(array.copy(), False, None)
    dist.all_reduce(out, group=group)
    return out._data


class SyncBatchNorm(_BatchNorm):
    """Batch norm of (N, C, *) input with statistics over the whole process group."""

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True,
                 process_group: Any = None, device: Any = None, dtype: Any = None) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)
        self.process_group = process_group

    def _check_input_dim(self, input: Tensor) -> None:  # noqa: A002
        if input.ndim < 2:
            raise ValueError(f"expected at least 2D input (got {input.ndim}D input)")

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """(N, C, *) -> (N, C, *)."""
        from ... import distributed as dist
        if not (self.training and dist.is_initialized()
                and dist.get_world_size(self.process_group) > 1):
            return super().forward(input)
        self._check_input_dim(input)
        axes = (0,) + tuple(range(2, input.ndim))
        shape = (1, -1) + (1,) * (input.ndim - 2)
        count = _AllReduceSum.apply(Tensor(float(input.numel() // input.shape[1])),
                                    group=self.process_group)
        total = float(count.item())
        mean = _AllReduceSum.apply(input.sum(axes), group=self.process_group) / total
        centred = input - mean.reshape(shape)
        var = _AllReduceSum.apply((centred * centred).sum(axes), group=self.process_group) / total
        out = centred * (var + self.eps).rsqrt().reshape(shape)
        if self.weight is not None:
            out = out * self.weight.reshape(shape)
        if self.bias is not None:
            out = out + self.bias.reshape(shape)
        self._track(mean, var, total)
        return out

    def _track(self, mean: Tensor, var: Tensor, count: float) -> None:
        """Blend the whole group's batch statistics into the running ones, as BatchNorm."""
        if not self.track_running_stats or self.running_mean is None:
            return
        factor = 0.0 if self.momentum is None else self.momentum
        if self.num_batches_tracked is not None:
            self.num_batches_tracked._data += 1
            self.num_batches_tracked._version_box[0] += 1
            if self.momentum is None:  # cumulative moving average
                factor = 1.0 / float(self.num_batches_tracked.item())
        _update_running(self.running_mean, self.running_var, mean._data, var._data,
                        math.floor(count), factor)

    @classmethod
    def convert_sync_batchnorm(cls, module: Module, process_group: Any = None) -> Module:
        """The module with every BatchNorm*d replaced by a SyncBatchNorm holding its state."""
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            sync = cls(module.num_features, module.eps, module.momentum, module.affine,
                       module.track_running_stats, process_group)
            sync.weight, sync.bias = module.weight, module.bias
            sync.running_mean, sync.running_var = module.running_mean, module.running_var
            sync.num_batches_tracked = module.num_batches_tracked
            sync.train(module.training)
            return sync
        for name, child in list(module.named_children()):
            module.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return module
