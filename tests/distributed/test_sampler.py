"""DistributedSampler's shares are PyTorch's, index for index, for the same seed and epoch."""

from __future__ import annotations

import pytest
import torch

from rosenblatt.utils import data


@pytest.mark.parametrize("size,replicas", [(10, 2), (11, 3), (7, 4), (1000, 3), (2, 3)])
@pytest.mark.parametrize("drop_last", [False, True])
def test_shuffled_shares_match_pytorch(size: int, replicas: int, drop_last: bool) -> None:
    for rank in range(replicas):
        ours = data.DistributedSampler(range(size), replicas, rank, seed=17, drop_last=drop_last)
        theirs = torch.utils.data.DistributedSampler(range(size), replicas, rank, seed=17,
                                                     drop_last=drop_last)
        for epoch in (0, 1, 5):
            ours.set_epoch(epoch)
            theirs.set_epoch(epoch)
            assert list(ours) == list(theirs) and len(ours) == len(theirs), (rank, epoch)
