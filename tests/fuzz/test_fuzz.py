"""The differential fuzzer in CI: a bounded number of generated programs per seed, each run
with PyTorch and with Rosenblatt; a failure lists the distinct differences (up to MOST per
seed) as one-line repros. `scripts/fuzz.py` runs the same fuzzer as long as one likes with
any seed."""

from __future__ import annotations

import pytest

from tests.fuzz.compare import fuzz

# About 60-90 s of CPU in all, spread over parameters so pytest-xdist can share them out.
SEEDS = [101, 202, 303, 404, 505, 606]
CASES = 2500
MOST = 25  # distinct failures shrunk and listed per seed (shrinking costs; more is noise)


@pytest.mark.parametrize("seed", SEEDS)
def test_rosenblatt_matches_pytorch(seed: int) -> None:
    report = fuzz(seed, cases=CASES, most=MOST)
    assert not report.errors, report.errors[:5]  # the fuzzer itself broke
    if report.failures:
        lines = [f.repro() for f in report.failures.values()]
        pytest.fail(f"seed {seed}: {report.summary()}\n" + "\n".join(lines), pytrace=False)
