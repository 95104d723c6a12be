"""A rank that fails makes the whole job stop with a clear error, within seconds, never a hang."""

from __future__ import annotations

import time

import pytest


@pytest.mark.parametrize("mode,says", [
    ("raise", "RuntimeError: boom on rank 1"),
    ("early", "RuntimeError: rank 1 fails before joining"),
    ("kill", "a process failed"),
    ("stuck", "all_reduce on rank 0 did not complete within 2 s"),
    ("params", "rank 1's parameters differ from rank 0's"),
])
def test_a_failing_rank_stops_every_rank(launch, mode: str, says: str) -> None:
    start = time.monotonic()
    result = launch("faults.py", mode, timeout=40)
    assert result.returncode != 0
    assert says in result.stderr, result.stderr
    assert "finished" not in result.stdout
    assert time.monotonic() - start < 30
