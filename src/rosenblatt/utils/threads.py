"""Capping the BLAS/OpenMP thread pools of NumPy (and SciPy) from inside a running program."""

from __future__ import annotations

import contextlib
from typing import Any


def limit_blas_threads(threads: int) -> Any:
    """Cap the BLAS thread pools at `threads` from now on (<= 0: keep the default); returns a
    context manager that restores them on exit.

    NumPy is loaded already, so environment variables are too late. Small matrices gain
    nothing from more threads, and on a busy machine their spinning makes each call many
    times slower. Uses threadpoolctl when installed; without it nothing changes.
    """
    if threads > 0:
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:
            pass
        else:
            return threadpool_limits(threads)
    return contextlib.nullcontext()
