"""DistributedSampler (`torch.utils.data.distributed`): each replica's share of a data set.

With num_replicas and rank not given they come from the process group (rosenblatt.distributed);
without one, the sampler is the whole data set for replica 0 of 1. The shuffled order is
torch.randperm's for generator seed `seed + epoch` (its Mersenne Twister, drawn through NumPy's),
so every replica's share is PyTorch's, index for index.
"""

from __future__ import annotations

import math
from typing import Any, Iterator

from ..._backend import np
from .sampler import Sampler

__all__ = ["DistributedSampler"]


class DistributedSampler(Sampler[int]):
    """Indices rank, rank + num_replicas, ... of an (optionally shuffled, padded) order."""

    def __init__(self, dataset: Any, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False) -> None:
        from ... import distributed as dist
        grouped = dist.is_initialized()
        if num_replicas is None:
            num_replicas = dist.get_world_size() if grouped else 1
        if rank is None:
            rank = dist.get_rank() if grouped else 0
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        self.dataset, self.num_replicas, self.rank = dataset, num_replicas, rank
        self.epoch, self.shuffle, self.seed, self.drop_last = 0, shuffle, seed, drop_last
        n = len(dataset)
        if drop_last and n % num_replicas:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def __iter__(self) -> Iterator[int]:
        n = len(self.dataset)
        if self.shuffle:  # the same order on every replica: seeded by seed + epoch
            indices = torch_randperm(n, self.seed + self.epoch)
        else:
            indices = list(range(n))
        if self.drop_last:
            indices = indices[:self.total_size]
        else:
            padding = self.total_size - len(indices)
            indices += (indices * math.ceil(padding / max(len(indices), 1)))[:padding]
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Reshuffle differently next epoch (all replicas alike)."""
        self.epoch = epoch


def torch_randperm(n: int, seed: int) -> list[int]:
    """torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist() on the CPU."""
    # PyTorch's CPU randperm: swap i with i + (32-bit MT19937 draw % (n - i)); NumPy's legacy
    # MT19937 seeded with the same integer makes the same draws.
    draws = np.random.RandomState(seed % 2**32)._bit_generator.random_raw(max(n - 1, 0))
    picks = (draws % np.arange(n, 1, -1, dtype=np.uint64)).tolist()
    order = list(range(n))
    for i, z in enumerate(picks):
        order[i], order[i + z] = order[i + z], order[i]
    return order
