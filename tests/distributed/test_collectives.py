"""Each collective of rosenblatt.distributed, in 2 processes, against its NumPy definition."""

from __future__ import annotations

import numpy as np
import torch


def mine(rank: int, salt: int) -> np.ndarray:
    """Rank `rank`'s input number `salt`, as tests/distributed/programs/collectives.py makes it."""
    return np.random.default_rng(10 * rank + salt).standard_normal((3, 4))


def expected(rank: int) -> dict:
    """What each collective must leave on this rank (world of 2)."""
    ranks = range(2)
    ones = np.stack([mine(r, 1) for r in ranks])
    out = {"broadcast": mine(1, 0),
           "all_reduce_SUM": ones.sum(0), "all_reduce_AVG": ones.mean(0),
           "all_reduce_MAX": ones.max(0), "all_reduce_MIN": ones.min(0),
           "all_reduce_PRODUCT": ones.prod(0), "all_reduce_async_transposed": ones.sum(0).T,
           "all_reduce_int_max": np.array([2, 10]),
           "all_gather": np.stack([mine(r, 2) for r in ranks]),
           "all_gather_into_tensor": np.concatenate([mine(r, 2) for r in ranks]),
           "reduce_scatter": sum(mine(r, 10 + rank) for r in ranks),
           "reduce_scatter_tensor": sum(mine(r, 10 + rank) for r in ranks),
           "reduce": sum(mine(r, 4) for r in ranks) if rank == 1 else mine(rank, 4),
           "scatter": mine(1, 20 + rank), "object_epoch": np.array(3),
           "sampler": np.array(list(torch.utils.data.DistributedSampler(range(11), 2, rank,
                                                                         seed=3)))}
    out["irecv"], out["group_all_reduce"] = mine(1 - rank, 5), mine(rank, 6)
    if rank == 1:
        out["group_size"] = np.array(1)
    if rank == 0:
        out["gather"] = np.stack([mine(r, 2) for r in ranks])
    else:
        out["recv"], out["recv_from"] = mine(0, 3), np.array(0)
    return out


def test_each_collective_matches_numpy(launch, tmp_path) -> None:
    result = launch("collectives.py", str(tmp_path))
    assert result.returncode == 0, result.stderr
    for rank in (0, 1):
        got, want = dict(np.load(tmp_path / f"rank{rank}.npz")), expected(rank)
        assert sorted(got) == sorted(want)
        for key, value in want.items():
            np.testing.assert_allclose(got[key], value, rtol=1e-12, atol=0, err_msg=key)
