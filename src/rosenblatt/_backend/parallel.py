"""Chunked work on a thread pool: how the CPU kernels use every core.

NumPy releases the GIL inside its loops, so a kernel split into contiguous chunks along one
axis, each chunk run by one thread, scales with the cores. The partition is static (chunk i
of `threads` always covers the same range), so a result depends only on the thread count;
kernels that split only where no element's arithmetic changes (copies, elementwise updates,
per-channel sums in a fixed order) give the single-thread result bit for bit. Work below
`MIN_WORK` elements, a thread count of 1, CuPy arrays and calls from inside a worker (no
nested pools) run serially in the calling thread.

The general path: `elementwise(fn)` makes any elementwise array function (a ufunc, an
operator, a chain of them) split itself when its arrays are large, and `slabs(fn, ...)`
splits a kernel whose slabs along one axis are independent (rows of a softmax or layer norm,
images of a pooling); `reduced` puts a reduction's kept axis in that role. The op families
call their kernels through these (the UNARY table's value and gradient, the arithmetic
operators, relu, GELU, the norms, pooling, softmax, cross-entropy, masked_fill, dropout's
mask, sum/mean, the engine's gradient sums), so none of them chunks by hand.
"""

from __future__ import annotations

import operator
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

import numpy as np

__all__ = ["MIN_WORK", "default_threads", "get_threads", "set_threads", "partition",
           "run_chunks", "chunk_arrays", "map_tasks", "elementwise", "slabs", "reduced"]

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
# Elements per call of an elementwise chain that returns new arrays (elementwise, slabs):
# each block's result is copied into the output, so blocks are larger than BLOCK. Two
# threads, 1.6M float32 elements, CPU ms of both threads (loaded CI machine, noisy): the
# stable sigmoid 10.3 (2^14) 9.9 (2^16) 10.1 (2^17), one thread whole 18.0; GELU's tanh
# form 4.7, 4.4, 4.2, one thread 3.8; np.exp in a lambda 2.1 (2^14) 1.8 (2^16) 1.4 (2^18).
CHAIN_BLOCK = 1 << 16

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



# ------------------------------------------------------------ split kernels: the general path
def elementwise(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`fn` (an array function whose every output element depends only on the inputs'
    elements at the same place, after broadcasting: a ufunc, or a chain of them) as a
    function that splits large NumPy work across the threads, bit for bit as fn itself.

    The result is cut into contiguous pieces (flat ranges when every array is row-major and
    of one shape, else ranges of the first axis), each thread calling fn on its pieces about
    CHAIN_BLOCK elements at a time; arguments that are not arrays with dimensions (numbers, 0-d
    arrays, xp) go to every call as they are. Small work, one thread, other layouts, CuPy
    and calls inside a worker run fn(*args) directly. A ufunc, or an operator (which on
    NumPy arrays is one), writes straight into each thread's part of the result (no copy,
    no blocks); an in-place operator (operator.iadd: a += b) into its first operand.
    """
    ufunc = fn if isinstance(fn, np.ufunc) else _UFUNCS.get(fn)
    inplace = _INPLACE.get(fn)

    def split(*args: Any) -> Any:
        for a in args:  # the common small call costs only this loop
            if a.__class__ is _ndarray and a.size >= MIN_WORK:
                break
        else:
            return fn(*args)
        if inplace is not None:
            if _split(inplace, args, args[0], 0, flat=True, ufunc=True) is _SERIAL:
                return fn(*args)
            return args[0]
        result = _split(ufunc or fn, args, None, 0, flat=True, ufunc=ufunc is not None)
        return fn(*args) if result is _SERIAL else result

    split.__wrapped__ = fn  # type: ignore[attr-defined]
    split.__name__ = getattr(fn, "__name__", "elementwise")
    split.__doc__ = getattr(fn, "__doc__", None)
    return split


_UFUNCS = {operator.add: np.add, operator.sub: np.subtract, operator.mul: np.multiply,
           operator.truediv: np.true_divide, operator.neg: np.negative}
_INPLACE = {operator.iadd: np.add, operator.isub: np.subtract, operator.imul: np.multiply,
            operator.itruediv: np.true_divide}


def slabs(fn: Callable[..., Any], *args: Any, axis: int = 0, blocks: bool = True) -> Any:
    """fn(*args) split over the threads along `axis`, for an fn whose results' slabs along
    `axis` each depend only on the same slab of the arguments that are arrays of the
    largest one's rank and length there (rows of a softmax, images of a pooling, channels
    of a batch norm); other arguments go whole to every call. fn may return a tuple; each
    result keeps `axis` (sums with keepdims). The bits equal one call's where NumPy treats
    each slab alone (reductions along the other axes do). Serial as `elementwise` says.
    `blocks`: each thread calls fn on about CHAIN_BLOCK elements at a time (a chain over
    rows then works in cache); else once on its whole share (reductions, pooling: fewer
    NumPy calls).
    """
    arrays = [a for a in args if _sliceable(a)]
    if not arrays:
        return fn(*args)
    big = max(arrays, key=lambda a: a.size)
    if big.ndim <= axis:
        return fn(*args)
    cut = [_sliceable(a) and a.ndim == big.ndim and a.shape[axis] == big.shape[axis]
           for a in args]  # the arrays split into slabs; the others go whole
    moved = tuple(a.swapaxes(0, axis) if c and axis else a for a, c in zip(args, cut))
    result = _split(fn, moved, None, axis, flat=False, cut=cut, blocks=blocks)
    return fn(*args) if result is _SERIAL else result


def reduced(fn: Callable[..., Any], *args: Any, axes: tuple | None) -> Any:
    """fn(*args), a reduction over `axes` of its arrays whose results keep those axes
    (keepdims), split over the threads along the first axis it keeps (batch norm's channels:
    slabs); one call when it reduces every axis (None). Deterministic for a thread count."""
    if axes is None:
        return fn(*args)
    ndim = max((a.ndim for a in args if _sliceable(a)), default=0)
    kept = next((i for i in range(ndim) if i not in axes and i - ndim not in axes), None)
    return fn(*args) if kept is None else slabs(fn, *args, axis=kept, blocks=False)


_SERIAL = object()
_ndarray = np.ndarray


def _sliceable(a: Any) -> bool:
    return type(a) is np.ndarray and a.ndim > 0


def _foreign(a: Any) -> bool:
    """An array of another library (CuPy) or an ndarray subclass: left to fn, serially."""
    return hasattr(a, "__array__") and type(a) is not np.ndarray and not isinstance(
        a, np.generic)


def _split(fn: Callable[..., Any], args: tuple, out: Any, axis: int, flat: bool,
           ufunc: bool = False, cut: list | None = None, blocks: bool = True) -> Any:
    """The work of `elementwise` (flat ranges allowed) and `slabs` (the first axis of the
    `cut` arrays, where slabs swapped `axis`: fn sees it back in its place); _SERIAL for
    one plain call."""
    if get_threads() == 1 or getattr(_local, "worker", False):
        return _SERIAL
    arrays = [a for a in args if _sliceable(a)]
    if not arrays or any(_foreign(a) for a in args) or (out is not None and _foreign(out)):
        return _SERIAL
    big = max(arrays if cut is None else [a for a, c in zip(args, cut) if c],
              key=lambda a: a.size)
    if big.size < MIN_WORK:
        return _SERIAL
    if out is not None and (out.shape != big.shape or not out.flags.c_contiguous or any(
            a is not out and np.may_share_memory(a, out) for a in arrays)):
        return _SERIAL  # NumPy buffers overlapping operands; pieces could not
    if flat and big.flags.c_contiguous and all(
            a.shape == big.shape and a.flags.c_contiguous for a in arrays):
        flat_args = tuple(a.reshape(-1) if _sliceable(a) else a for a in args)
        flat_out = None if out is None else out.reshape(-1)
        result = _run_split(fn, flat_args, flat_out, 0, [_sliceable(a) for a in args], ufunc,
                            ufunc)
        if result is _SERIAL or out is not None:
            return result
        if isinstance(result, tuple):
            return tuple(r.reshape(big.shape) for r in result)
        return result.reshape(big.shape)
    if big.shape[0] < 2 * get_threads() or any(a.ndim > big.ndim for a in arrays):
        return _SERIAL
    if flat and not all(a.flags.c_contiguous for a in arrays if a.shape == big.shape):
        return _SERIAL  # NumPy would lay the result out as another layout has it
    if cut is None:
        cut = [_sliceable(a) and a.ndim == big.ndim and a.shape[0] == big.shape[0]
               for a in args]
    return _run_split(fn, args, out, axis, cut, ufunc, ufunc or not blocks)


def _run_split(fn: Callable[..., Any], args: tuple, out: Any, axis: int, cut: list,
               ufunc: bool, whole: bool) -> Any:
    """fn over rows of the `cut` arrays (the others whole), in blocks of about CHAIN_BLOCK
    elements per call; without `out`, the first row runs alone first (the results' dtypes
    and shapes), the rest over the threads; `whole`: one call per thread. A `ufunc` writes
    into `out` (or the result made from the first row) instead of returning new arrays."""
    big = max((a for a, c in zip(args, cut) if c), key=lambda a: a.size)
    length, row = big.shape[0], big.size // max(1, big.shape[0])

    def call(begin: int, end: int, out_piece: Any = None) -> Any:
        pieces = (a[begin:end] if c else a for a, c in zip(args, cut))
        if axis:  # fn sees each slab with `axis` back in its place
            pieces = (p.swapaxes(0, axis) if c else p for p, c in zip(pieces, cut))
        return fn(*pieces) if out_piece is None else fn(*pieces, out=out_piece)

    first = 0
    outs: tuple = (out,)
    if out is None:
        probe = call(0, 1)
        probes = probe if isinstance(probe, tuple) else (probe,)
        if not all(type(p) is np.ndarray and p.ndim > axis and p.shape[axis] == 1
                   for p in probes):
            return _SERIAL  # not slab-wise after all: one plain call
        probes = tuple(p.swapaxes(0, axis) for p in probes)
        outs = tuple(np.empty((length,) + p.shape[1:], dtype=p.dtype) for p in probes)
        for o, p in zip(outs, probes):
            o[:1] = p
        first = 1
        if ufunc:
            out = outs[0]
    step = length if whole else max(1, CHAIN_BLOCK // max(1, row))

    def piece(start: int, stop: int) -> None:
        for begin in range(first + start, first + stop, step):
            end = min(begin + step, first + stop)
            if out is not None:
                call(begin, end, out[begin:end])
                continue
            results = call(begin, end)
            for o, r in zip(outs, results if isinstance(results, tuple) else (results,)):
                o[begin:end] = r.swapaxes(0, axis)

    run_chunks(piece, length - first, big.size)
    if out is not None and first:
        return outs[0]
    outs = tuple(o.swapaxes(0, axis) for o in outs)
    return outs[0] if len(outs) == 1 else outs


add, iadd = elementwise(operator.add), elementwise(operator.iadd)  # a + b, and a += b (a)
where = elementwise(np.where)  # NumPy's where(condition, a, b), split when large
