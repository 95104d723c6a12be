"""Training tests run small networks: one BLAS thread each (with `pytest -n 2`, more threads
only spin against each other and make every step many times slower)."""

import pytest


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(1):
        yield
