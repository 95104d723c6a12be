"""`torch.nn.parallel`: DataParallel on one device is the wrapped module; DDP over MPI.

Rosenblatt runs one process on one device, so `DataParallel(model)` keeps PyTorch's shape
(`.module`, state-dict keys prefixed `module.`) and calls the module directly.
DistributedDataParallel (distributed.py) averages gradients over the processes of a
`rosenblatt.distributed` process group.
"""

from __future__ import annotations

from typing import Any, Sequence

from ..modules.module import Module
from .distributed import DistributedDataParallel

__all__ = ["DataParallel", "DistributedDataParallel", "data_parallel"]


class DataParallel(Module):
    """Wraps a module as torch's DataParallel does; runs it once on the one device."""

    def __init__(self, module: Module, device_ids: Sequence[Any] | None = None,
                 output_device: Any = None, dim: int = 0) -> None:
        super().__init__()
        self.module = module
        self.device_ids = list(device_ids) if device_ids is not None else []
        self.output_device = output_device
        self.dim = dim

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        """module(*inputs, **kwargs): no scatter or gather with one device."""
        return self.module(*inputs, **kwargs)


def data_parallel(module: Module, inputs: Any, device_ids: Sequence[Any] | None = None,
                  output_device: Any = None, dim: int = 0,
                  module_kwargs: dict | None = None) -> Any:
    """module(*inputs, **module_kwargs) (torch's functional DataParallel, one device)."""
    inputs = inputs if isinstance(inputs, tuple) else (inputs,)
    return module(*inputs, **(module_kwargs or {}))
