"""Chunked work on a thread pool: how the CPU kernels use every core.

NumPy releases the GIL inside its loops, so a kernel split into contiguous chunks along one
axis, each chunk run by one thread, scales with the cores. The partition is static (chunk i
of `threads` always covers the same range), so a result depends only on the thread count;
kernels that split only where no element's arithmetic changes (copies, elementwise updates,
per-channel sums in a fixed order) give the single-thread result bit for bit. Work below
`MIN_WORK` elements, a thread count of 1, CuPy arrays and calls from inside a worker (no
nested pools) run serially in the calling thread.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

import numpy as np

__all__ = ["MIN_WORK", "default_threads", "get_threads", "set_threads", "partition",
           "run_chunks", "chunk_arrays", "map_tasks"]

# Measured on the 2-core CI machine: a float32 copy or elementwise pass runs ~3 elements/ns
# (131k elements, two passes: 42 us); handing chunks to the pool and waiting costs ~20 us on
# an idle machine (90 us under load 14). At 2^18 elements a pass takes ~80 us, so splitting
# it over two threads saves more than the hand-off costs; below that it is at best even.
MIN_WORK = 1 << 18
# Elements per call of an elementwise chain (map_tasks, chunk_arrays(blocked=True)): Adam's
# ~9 float32 arrays and temporaries of 2^14 elements (590 KB) fit in one core's 1 MB L2 cache.
# An AdamW step over 10M parameters, one thread, CPU time on the loaded CI machine (its
# shared L3 is contended): 63 ms whole, 33 ms in blocks of 2^14, 87-100 ms in blocks of
# 2^15-2^16 (on a quieter moment 2^15-2^17 gave 40 ms: L3 still held them).
BLOCK = 1 << 14

_threads: int | None = None
_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_pool_lock = threading.Lock()
_local = threading.local()


def default_threads() -> int:
    """The cores this process may use, capped by OMP_NUM_THREADS when it is set (as PyTorch)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        cores = os.cpu_count() or 1
    env = os.environ.get("OMP_NUM_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        cores = min(cores, int(env))
    return max(1, cores)


def get_threads() -> int:
    """The thread count the kernels split their work over."""
    if _threads is None:
        return default_threads()
    return _threads


def set_threads(threads: int) -> None:
    """Split kernels over `threads` threads from now on (1: everything serial)."""
    global _threads
    if not isinstance(threads, int) or threads <= 0:
        raise RuntimeError(f"set_threads expects a positive integer, got {threads!r}")
    _threads = threads


def _executor(workers: int) -> ThreadPoolExecutor:
    """The shared pool with `workers` threads, made on first use (remade when resized)."""
    global _pool, _pool_size
    with _pool_lock:
        if _pool is None or _pool_size != workers:
            if _pool is not None:
                _pool.shutdown(wait=True)
            _pool = ThreadPoolExecutor(workers, thread_name_prefix="rosenblatt-kernel",
                                       initializer=_mark_worker)
            _pool_size = workers
        return _pool


def _mark_worker() -> None:
    _local.worker = True


def _forget_pool() -> None:
    """In a forked child (a DataLoader worker): the parent's threads are not there."""
    global _pool, _pool_lock, _pool_size
    _pool, _pool_size, _pool_lock = None, 0, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def partition(length: int, parts: int) -> list[tuple[int, int]]:
    """`range(length)` cut into at most `parts` contiguous (start, stop) ranges of near-equal
    size, the first ones one longer; empty ranges are left out."""
    parts = max(1, min(parts, length))
    base, extra = divmod(length, parts)
    bounds, start = [], 0
    for i in range(parts):
        stop = start + base + (i < extra)
        bounds.append((start, stop))
        start = stop
    return bounds


def _serial(work: int, xp: Any) -> bool:
    return (work < MIN_WORK or (xp is not None and xp is not np)
            or getattr(_local, "worker", False))


def run_chunks(fn: Callable[[int, int], Any], length: int, work: int, xp: Any = None,
               min_chunk: int = 1) -> None:
    """Call fn(start, stop) over a static partition of range(length) across the threads.

    `work` is the number of elements the whole call touches (serial below MIN_WORK); `xp`
    the array module (CuPy runs serially); chunks are at least `min_chunk` long. The calling
    thread runs the first chunk; an exception in any chunk is raised here after all finish.
    """
    threads = get_threads()
    if threads == 1 or length <= 1 or _serial(work, xp):
        fn(0, length)
        return
    parts = partition(length, min(threads, max(1, length // max(1, min_chunk))))
    if len(parts) == 1:
        fn(0, length)
        return
    pool = _executor(threads - 1)
    errors = np.geterr()  # NumPy's error state is per thread: the workers take the caller's
    futures = [pool.submit(_in_errstate, errors, fn, start, stop) for start, stop in parts[1:]]
    error = None
    try:
        fn(*parts[0])
    except BaseException as exc:  # wait for the workers before raising
        error = exc
    for future in futures:
        try:
            future.result()
        except BaseException as exc:
            error = error or exc
    if error is not None:
        raise error


def _in_errstate(errors: dict, fn: Callable[[int, int], Any], start: int, stop: int) -> Any:
    with np.errstate(**errors):
        return fn(start, stop)


def chunk_arrays(fn: Callable[..., Any], *arrays: Any, axis: int = 0,
                 work: int | None = None, xp: Any = None, blocked: bool = False) -> None:
    """Call fn(*pieces) on matching contiguous slices of `arrays` along `axis`, in parallel.

    The arrays share their length along `axis`; fn writes its results into its pieces (views).
    `work` defaults to the first array's size. `blocked`: each thread's slice is handed to fn
    about BLOCK elements at a time (a chain of NumPy calls then works in cache).
    """
    length, size = arrays[0].shape[axis], arrays[0].size
    lead = (slice(None),) * (axis % arrays[0].ndim)
    blocked = blocked and (xp is None or xp is np)  # CuPy: one launch, not one per block
    step = max(1, BLOCK * length // max(1, size)) if blocked else max(1, length)

    def piece(start: int, stop: int) -> None:
        for begin in range(start, stop, step):
            end = min(begin + step, stop)
            fn(*(a[lead + (slice(begin, end),)] for a in arrays))

    run_chunks(piece, length, size if work is None else work, xp)


def _blocks(fn: Callable[..., Any], flat: list, start: int, stop: int) -> None:
    """fn on the [start, stop) range of the flat arrays in `flat`, BLOCK elements at a time."""
    for begin in range(start, stop, BLOCK):
        end = min(begin + BLOCK, stop)
        fn(*(a[begin:end] if isinstance(a, np.ndarray) else a for a in flat))


def map_tasks(fn: Callable[..., Any], tasks: list[tuple], xp: Any = None) -> None:
    """fn(*args) for every args tuple in `tasks` (independent updates, such as one per
    parameter), spread over the threads.

    A task whose arrays (its ndarray arguments, all of one shape) reach MIN_WORK elements is
    split into flat contiguous pieces, one range per thread, each run BLOCK elements at a time
    (an elementwise chain's temporaries then stay in cache: Adam's step over 10M parameters
    takes ~half the CPU time on one thread); the small tasks are split as a list, a
    contiguous run of tasks per thread. Other arguments (scalars, None) go to every call as
    they are.
    """
    small = []
    for args in tasks:
        arrays = [a for a in args if isinstance(a, np.ndarray)]
        size = arrays[0].size if arrays else 0
        if size < MIN_WORK or not all(a.flags.c_contiguous and a.size == size for a in arrays):
            small.append(args)
            continue
        flat = [a.reshape(-1) if isinstance(a, np.ndarray) else a for a in args]
        run_chunks(lambda start, stop, flat=flat: _blocks(fn, flat, start, stop), size, size,
                   xp)
    work = sum(next((a.size for a in args if isinstance(a, np.ndarray)), 0) for args in small)

    def run(start: int, stop: int) -> None:
        for args in small[start:stop]:
            fn(*args)

    run_chunks(run, len(small), work, xp)
