"""`torch.multiprocessing`: Python's multiprocessing, with processes always forked, and
tensors shared between processes through `Module.share_memory()`.

Rosenblatt's tensors are NumPy arrays, which spawned processes could only receive as copies,
and a spawned child would not have `rosenblatt run`'s import hook. So every process here is
forked (the POSIX default; `set_start_method('spawn')` is accepted and recorded): a child
shares the parent's imports, and arrays that `share_memory()` moved into shared memory
(an anonymous shared mapping) are the same memory in parent and children, so Hogwild-style
training updates one model. Needs `fork` (Linux, macOS); CUDA arrays are not shared.
"""

from __future__ import annotations

import mmap
import multiprocessing as _mp
from multiprocessing import (  # noqa: F401 - the parts of multiprocessing programs use
    Array,
    Barrier,
    Condition,
    Event,
    Lock,
    Manager,
    RLock,
    Semaphore,
    Value,
    active_children,
    cpu_count,
    current_process,
    parent_process,
)
from typing import Any, Callable, Sequence

from .._backend import array_module, np

__all__ = ["Process", "Queue", "SimpleQueue", "Pool", "get_context", "set_start_method",
           "get_start_method", "get_all_start_methods", "spawn", "shared_array", "cpu_count",
           "current_process", "Lock", "Event", "Value", "Array", "Manager"]

_context = _mp.get_context("fork")
Process = _context.Process
Queue = _context.Queue
SimpleQueue = _context.SimpleQueue
Pool = _context.Pool
_requested = {"method": None}


def get_context(method: str | None = None) -> Any:
    """The fork context, whatever method is asked for (see the module docstring)."""
    return _context


def set_start_method(method: str, force: bool = False) -> None:
    """Record the method; processes are forked all the same (see the module docstring)."""
    if _requested["method"] is not None and not force:
        raise RuntimeError("context has already been set")
    _requested["method"] = method


def get_start_method(allow_none: bool = False) -> str:
    """'fork': how processes are started here."""
    return "fork"


def get_all_start_methods() -> list[str]:
    """['fork']."""
    return ["fork"]


def shared_array(array: Any) -> Any:
    """A copy of a CPU array in shared memory that forked processes see and write alike
    (a CUDA array is returned unchanged)."""
    if array_module(array) is not np:
        return array
    buffer = mmap.mmap(-1, max(array.nbytes, 1))  # anonymous and MAP_SHARED
    shared = np.frombuffer(buffer, dtype=array.dtype, count=array.size).reshape(array.shape)
    shared[...] = array
    return shared


class ProcessRaisedException(Exception):  # noqa: N818 - torch's name
    """A process started by spawn() exited with an error."""


def spawn(fn: Callable, args: Sequence[Any] = (), nprocs: int = 1, join: bool = True,
          daemon: bool = False, start_method: str = "spawn") -> Any:
    """Run fn(i, *args) for i in range(nprocs) in forked processes; join them and raise if
    one failed (join=False returns the processes)."""
    processes = [Process(target=fn, args=(i, *args), daemon=daemon) for i in range(nprocs)]
    for process in processes:
        process.start()
    if not join:
        return processes
    for process in processes:
        process.join()
    failed = [(i, p.exitcode) for i, p in enumerate(processes) if p.exitcode != 0]
    if failed:
        raise ProcessRaisedException(f"process {failed[0][0]} terminated with exit code "
                                     f"{failed[0][1]}")
    return None
