"""nn.parallel on one device: DataParallel wraps and calls the module; DDP says it is missing."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import rosenblatt as rb
from rosenblatt import nn


def test_data_parallel_is_the_module_with_torchs_keys() -> None:
    inner = nn.Linear(3, 2)
    wrapped = nn.DataParallel(inner, device_ids=[0])
    x = rb.randn(4, 3)
    np.testing.assert_array_equal(wrapped(x).detach().numpy(), inner(x).detach().numpy())
    expected = list(torch.nn.DataParallel(torch.nn.Linear(3, 2)).state_dict())
    assert list(wrapped.state_dict()) == expected == ["module.weight", "module.bias"]
    out = nn.parallel.data_parallel(inner, x, range(2))
    np.testing.assert_array_equal(out.detach().numpy(), inner(x).detach().numpy())


def test_distributed_data_parallel_needs_a_process_group() -> None:
    from rosenblatt.nn.parallel import DistributedDataParallel

    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        DistributedDataParallel(nn.Linear(2, 2))
