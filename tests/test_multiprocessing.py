"""torch.multiprocessing: forked processes, and modules whose parameters share_memory() put
in shared memory, so a child's in-place updates reach the parent (Hogwild)."""

from __future__ import annotations

import numpy as np
import pytest

import rosenblatt as rb
from rosenblatt import multiprocessing as mp


def _step(rank: int, model) -> None:
    with rb.no_grad():
        model.weight.add_(rank + 1.0)


def test_a_childs_update_of_a_shared_model_reaches_the_parent() -> None:
    model = rb.nn.Linear(3, 2)
    before = model.weight.detach().numpy().copy()
    model.share_memory()
    np.testing.assert_array_equal(model.weight.detach().numpy(), before)
    processes = [mp.Process(target=_step, args=(rank, model)) for rank in range(2)]
    for p in processes:
        p.start()
    for p in processes:
        p.join()
    assert [p.exitcode for p in processes] == [0, 0]
    np.testing.assert_allclose(model.weight.detach().numpy(), before + 3.0)


def test_without_share_memory_a_child_changes_only_its_copy() -> None:
    model = rb.nn.Linear(3, 2)
    before = model.weight.detach().numpy().copy()
    mp.spawn(_step, args=(model,), nprocs=1)
    np.testing.assert_array_equal(model.weight.detach().numpy(), before)


def _fail(rank: int) -> None:
    raise SystemExit(3)


def test_spawn_reports_a_failed_process_and_start_method_is_fork() -> None:
    with pytest.raises(mp.ProcessRaisedException, match="exit code 3"):
        mp.spawn(_fail, nprocs=2)
    mp.set_start_method("spawn", force=True)
    assert mp.get_start_method() == "fork" and mp.get_context("spawn") is mp.get_context()
