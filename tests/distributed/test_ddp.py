"""DistributedDataParallel over 2 processes == one process on the concatenated batch."""

from __future__ import annotations

import numpy as np
import pytest

import rosenblatt as torch
from rosenblatt import nn


def reference(kind: str) -> dict:
    """What tests/distributed/programs/ddp_train.py computes, in one process on whole batches."""
    torch.manual_seed(100)  # rank 0's initialisation, which DDP broadcasts
    layers = [nn.Linear(5, 6), nn.BatchNorm1d(6) if kind == "bn" else nn.Tanh(), nn.Linear(6, 3)]
    model = nn.Sequential(*layers).double()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    data = np.random.default_rng(7).standard_normal((6, 8, 5))
    targets = np.random.default_rng(8).standard_normal((6, 8, 3))

    def loss_of(step: int, rows: list) -> torch.Tensor:
        x, y = torch.tensor(data[step][rows]), torch.tensor(targets[step][rows])
        return ((model(x) - y) ** 2).mean()

    for step in range(3):
        optimizer.zero_grad()
        loss_of(step, list(range(8))).backward()
        optimizer.step()
    optimizer.zero_grad()  # no_sync micro-batch: each rank's first 2 rows, then the other 2
    loss_of(3, [0, 1, 4, 5]).backward()
    loss_of(3, [2, 3, 6, 7]).backward()
    optimizer.step()
    return {f"module.{k}": v.detach().numpy() for k, v in model.state_dict().items()}


@pytest.mark.parametrize("kind", ["mlp", "bn"])
def test_ddp_matches_one_process_on_the_whole_batch(launch, tmp_path, kind: str) -> None:
    result = launch("ddp_train.py", str(tmp_path), kind)
    assert result.returncode == 0, result.stderr
    expected = reference(kind)
    for rank in (0, 1):
        got = dict(np.load(tmp_path / f"rank{rank}.npz"))
        assert sorted(got) == sorted(expected)  # state-dict keys as PyTorch: 'module.' prefix
        for key, value in expected.items():
            np.testing.assert_allclose(got[key], value, rtol=0, atol=1e-6, err_msg=key)
