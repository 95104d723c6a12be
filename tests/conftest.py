"""Shared fixtures: the data folder, seeded RNGs, and the array-module (device) parameter."""

from __future__ import annotations

import os

# Two pytest workers share two cores: one BLAS/OpenMP thread each, or the thread pools
# oversubscribe the cores and every matrix product slows down many times over. Set before
# NumPy and PyTorch are imported (they read these once); threadpoolctl covers the rest.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

import rosenblatt as rb  # noqa: E402

threadpool_limits(1)

REPO = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("ROSENBLATT_DATA", REPO.parent / "shared" / "data"))
os.environ.setdefault("ROSENBLATT_DATA", str(DATA))


@pytest.fixture(autouse=True)
def _seed() -> None:
    """Every test starts from the same random state."""
    rb.manual_seed(0)
    np.random.seed(0)


@pytest.fixture
def data_dir() -> Path:
    """The real data sets (MNIST, Fashion-MNIST, tiny-shakespeare)."""
    if not DATA.is_dir():
        pytest.fail(f"data folder {DATA} is missing: set ROSENBLATT_DATA")
    return DATA


def _devices() -> list:
    devices = ["cpu"]
    if rb.cuda.is_available():
        devices.append("cuda")
    return devices


@pytest.fixture(params=["cpu", pytest.param("cuda", marks=pytest.mark.gpu)])
def device(request: pytest.FixtureRequest) -> str:
    """Run a test on each device; CUDA only where CuPy sees a GPU."""
    if request.param == "cuda" and not rb.cuda.is_available():
        pytest.skip("no CUDA device (CuPy not installed or no GPU)")
    return request.param
