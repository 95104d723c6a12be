"""torch.utils.data's submodules (dataset, sampler, dataloader, distributed, _utils.collate),
lazy samplers, and DistributedSampler's shares against PyTorch's."""

from __future__ import annotations

import importlib
import itertools
import tracemalloc

import pytest
import torch

import rosenblatt as rb
from rosenblatt.utils import data


@pytest.mark.parametrize("path", [
    "dataloader.DataLoader", "dataloader.default_collate", "dataset.Dataset",
    "dataset.TensorDataset", "dataset.Subset", "dataset.random_split", "sampler.RandomSampler",
    "sampler.BatchSampler", "sampler.WeightedRandomSampler", "distributed.DistributedSampler",
    "_utils.collate.default_collate",
])
def test_names_sit_in_torchs_submodules(path: str) -> None:
    module, name = path.rsplit(".", 1)
    ours = getattr(importlib.import_module(f"rosenblatt.utils.data.{module}"), name)
    getattr(importlib.import_module(f"torch.utils.data.{module}"), name)  # torch has it there
    assert ours is getattr(data, name)


def test_random_sampler_with_a_huge_num_samples_draws_lazily() -> None:
    sampler = data.RandomSampler(range(10), replacement=True, num_samples=int(1e10))
    assert len(sampler) == int(1e10)
    tracemalloc.start()
    first = list(itertools.islice(iter(sampler), 10_000))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 10 * 2**20 and set(first) == set(range(10))
    loader = data.DataLoader(data.TensorDataset(rb.arange(10)), batch_size=4, sampler=sampler)
    assert len(loader) == 2_500_000_000
    assert next(iter(loader))[0].shape == (4,)


def test_weighted_sampler_with_replacement_draws_lazily_and_by_weight() -> None:
    sampler = data.WeightedRandomSampler([0.0, 1.0, 3.0], num_samples=int(1e12))
    drawn = list(itertools.islice(iter(sampler), 20_000))
    assert 0 not in drawn and 0.7 < drawn.count(2) / len(drawn) < 0.8


def test_random_sampler_without_replacement_repeats_whole_permutations() -> None:
    drawn = list(data.RandomSampler(range(5), num_samples=12))
    assert sorted(drawn[:5]) == sorted(drawn[5:10]) == list(range(5)) and len(drawn) == 12


@pytest.mark.parametrize("drop_last", [False, True])
def test_distributed_sampler_shares_match_pytorch_without_shuffle(drop_last: bool) -> None:
    for rank in range(3):
        ours = data.DistributedSampler(range(10), 3, rank, shuffle=False, drop_last=drop_last)
        theirs = torch.utils.data.DistributedSampler(range(10), 3, rank, shuffle=False,
                                                     drop_last=drop_last)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)


def test_distributed_sampler_shuffles_alike_on_every_replica_per_epoch() -> None:
    shares = [data.DistributedSampler(range(12), 3, r, seed=5) for r in range(3)]
    first = [list(s) for s in shares]
    assert sorted(sum(first, [])) == list(range(12))
    for s in shares:
        s.set_epoch(1)
    assert [list(s) for s in shares] != first
    assert list(data.DistributedSampler(range(4))) != [] and len(data.DistributedSampler(
        range(4))) == 4  # one process: replica 0 of 1 gets everything
    with pytest.raises(ValueError, match="Invalid rank"):
        data.DistributedSampler(range(4), num_replicas=2, rank=2)


class _Stream(data.IterableDataset):
    def __init__(self, values) -> None:
        self.values = values

    def __iter__(self):
        return iter(self.values)

    def __len__(self) -> int:
        return len(self.values)


def test_chain_and_stack_datasets_as_pytorch() -> None:
    chained = _Stream([1, 2]) + _Stream([3])
    assert isinstance(chained, data.ChainDataset) and list(chained) == [1, 2, 3]
    assert len(chained) == 3
    with pytest.raises(AssertionError, match="only supports IterableDataset"):
        list(data.ChainDataset([data.TensorDataset(rb.arange(2))]))
    images, labels = data.TensorDataset(rb.arange(3)), [10, 11, 12]
    assert data.StackDataset(images, labels)[1] == (images[1], 11)
    assert data.StackDataset(x=images, y=labels)[2]["y"] == 12
    with pytest.raises(ValueError, match="Size mismatch"):
        data.StackDataset(images, [1])
    theirs = torch.utils.data.StackDataset([1, 2], [3, 4])
    assert data.StackDataset([1, 2], [3, 4])[0] == theirs[0] and len(theirs) == 2
