"""`rosenblatt train` in several processes: `rosenblatt launch --nproc-per-node N -m
rosenblatt.cli train ...` (or `-m rosenblatt` where `rosenblatt` runs as a module).

Each process trains the same model on its DistributedSampler share of the training set
(`--batch-size` is per process, as in PyTorch); DistributedDataParallel averages the
gradients, so the replicas stay equal. The model itself is trained and saved (not the DDP
wrapper), so checkpoints have the one-process keys: `evaluate` and `--resume` read them as
usual. Only rank 0 writes checkpoints, history and curves and prints; every rank follows rank
0's decision to stop early.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from ..nn.parallel.distributed import DistributedDataParallel
from ..train.callbacks import Callback
from ..utils.data import DataLoader
from ..utils.data.distributed import DistributedSampler
from . import broadcast_object_list, get_rank, init_process_group, is_initialized

__all__ = ["launched", "ParallelRun"]


def launched() -> bool:
    """True in a process of a job with several processes (`rosenblatt launch`, mpiexec)."""
    return int(os.environ.get("WORLD_SIZE", os.environ.get("PMI_SIZE", "1"))) > 1


class _Epochs(Callback):
    """Reshuffles the shares each epoch; makes every rank stop when rank 0 stops."""

    def __init__(self, sampler: DistributedSampler) -> None:
        self.sampler = sampler

    def on_epoch_start(self, trainer: Any, epoch: int) -> None:
        self.sampler.set_epoch(epoch)

    def on_epoch_end(self, trainer: Any, record: dict) -> None:
        decision = [trainer.stop_reason]
        broadcast_object_list(decision, src=0)
        trainer.stop_reason = decision[0]


class ParallelRun:
    """The process group, the gradient averaging and the sharded training loader."""

    def __init__(self, model: Any, train_set: Any, batch_size: int, seed: int) -> None:
        if not is_initialized():
            init_process_group("gloo")
        self.rank = get_rank()
        if self.rank != 0:  # one copy of every line: rank 0's
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - for the life of the process
        self.ddp = DistributedDataParallel(model)
        # The trainer calls the model itself (its checkpoints keep one-process keys), so the
        # gradient bookkeeping DDP's forward does runs from a forward hook instead.
        model.register_forward_hook(lambda module, inputs, output: self._prepared(output))
        self.sampler = DistributedSampler(train_set, seed=seed)
        self.loader = DataLoader(train_set, batch_size=batch_size, sampler=self.sampler)
        self.callbacks = (_Epochs(self.sampler),)

    def _prepared(self, output: Any) -> None:
        from ..autograd.grad_mode import is_grad_enabled
        if self.ddp.module.training and is_grad_enabled():
            self.ddp._prepare(output)
