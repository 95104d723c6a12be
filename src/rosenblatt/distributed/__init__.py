"""`torch.distributed` over MPI: process groups and collectives on tensors, through mpi4py.

MPI is the engine: `mpiexec` (or `rosenblatt launch`, which runs it) starts the processes and
MPI connects them, so the backends "mpi" and "gloo" (what CPU programs pass) are one backend
running over MPI; "nccl" needs CUDA and is refused. Rank and world size are MPI's; the env://
variables RANK and WORLD_SIZE, when set, must agree with them (a mismatch means the processes
were not started by MPI). MASTER_ADDR/MASTER_PORT are accepted and unused: MPI's launcher did
the rendezvous. Collectives work in place on the tensors' arrays; `async_op=True` returns a
`Work` over a non-blocking MPI request. A rank that raises aborts the whole MPI job (as
`python -m mpi4py` does), so the other ranks stop instead of waiting forever; a collective
that waits longer than the group's timeout raises. Needs the optional 'distributed' extra.
"""

from __future__ import annotations

import datetime
import importlib.util
import os
import sys
import time
from typing import Any, Callable, Sequence

from .._backend import np
from ..autograd.tensor import Tensor

__all__ = ["Backend", "ReduceOp", "ProcessGroup", "GroupMember", "Work", "is_available",
           "is_initialized", "is_mpi_available", "is_gloo_available", "is_nccl_available",
           "is_torchelastic_launched", "init_process_group", "destroy_process_group",
           "get_rank", "get_world_size", "get_backend", "new_group", "barrier", "broadcast",
           "all_reduce", "reduce", "all_gather", "all_gather_into_tensor", "reduce_scatter",
           "reduce_scatter_tensor", "gather", "scatter", "send", "recv", "isend", "irecv",
           "broadcast_object_list", "all_gather_object", "default_pg_timeout"]

default_pg_timeout = datetime.timedelta(minutes=30)  # PyTorch's default for CPU backends
_BACKENDS = ("mpi", "gloo")


class Backend:
    """Backend names; both run over MPI here."""

    MPI = "mpi"
    GLOO = "gloo"
    NCCL = "nccl"


class ReduceOp:
    """Reduction operations of all_reduce, reduce and reduce_scatter."""

    SUM = "sum"
    AVG = "avg"
    PRODUCT = "product"
    MIN = "min"
    MAX = "max"
    BAND = "band"
    BOR = "bor"
    BXOR = "bxor"


def _mpi() -> Any:
    """mpi4py's MPI module, or an error naming the extra that brings it."""
    try:
        from mpi4py import MPI
    except ModuleNotFoundError as e:
        raise ModuleNotFoundError(
            "rosenblatt.distributed needs the optional 'distributed' dependencies (mpi4py and "
            "an MPI such as the mpich wheel): pip install -e '.[distributed]' in the checkout, "
            "or pip install 'rosenblatt[distributed]'", name=e.name) from e
    return MPI


class ProcessGroup:
    """A set of ranks and the MPI communicator that connects them."""

    def __init__(self, comm: Any, ranks: Sequence[int], timeout: float) -> None:
        self.comm, self.ranks, self.timeout = comm, list(ranks), timeout

    def rank(self) -> int:
        """This process's rank within the group."""
        return int(self.comm.Get_rank())

    def size(self) -> int:
        """How many processes the group has."""
        return int(self.comm.Get_size())

    def local(self, global_rank: int) -> int:
        """The group rank of a global rank (PyTorch's src/dst arguments are global)."""
        if global_rank not in self.ranks:
            raise ValueError(f"rank {global_rank} is not part of the group {self.ranks}")
        return self.ranks.index(global_rank)


class GroupMember:
    """PyTorch's markers: WORLD is the default group; NON_GROUP_MEMBER what new_group returns
    to a process outside the group."""

    WORLD: ProcessGroup | None = None
    NON_GROUP_MEMBER = object()


class Work:
    """A pending collective (`async_op=True`): wait() completes it, then copies results out."""

    def __init__(self, requests: list, timeout: float, what: str,
                 finish: Callable[[], Any] | None = None, status: Any = None) -> None:
        self.requests, self.timeout, self.what, self.finish = requests, timeout, what, finish
        self.status, self.done = status, False

    def is_completed(self) -> bool:
        """True once every request has finished (finishing the work if so)."""
        if not self.done and all(r.Test() for r in self.requests):
            self._complete()
        return self.done

    def wait(self, timeout: datetime.timedelta | None = None) -> bool:
        """Block until done; raise if that takes longer than the group's timeout."""
        seconds = self.timeout if timeout is None else timeout.total_seconds()
        deadline, spins = time.monotonic() + seconds, 0
        for request in self.requests:
            # Test drives MPI's progress; sleeping between tests spares the shared cores
            while not request.Test(self.status):
                spins += 1
                if spins > 200:
                    time.sleep(0.0002)
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"rosenblatt.distributed: {self.what} on rank {get_rank()} did not "
                        f"complete within {seconds:g} s: another rank is stuck or gone")
        if not self.done:
            self._complete()
        return True

    def _complete(self) -> None:
        self.done = True
        if self.finish is not None:
            self.finish()

    def result(self) -> list:
        """PyTorch's Work.result(): the tensors (none are tracked here)."""
        return []


def is_available() -> bool:
    """True when mpi4py can be imported (the 'distributed' extra is installed)."""
    return importlib.util.find_spec("mpi4py") is not None


def is_mpi_available() -> bool:
    """The MPI backend: available with mpi4py."""
    return is_available()


def is_gloo_available() -> bool:
    """'gloo' runs over MPI here: available with mpi4py."""
    return is_available()


def is_nccl_available() -> bool:
    """False: no CUDA collectives."""
    return False


def is_initialized() -> bool:
    """True between init_process_group and destroy_process_group."""
    return GroupMember.WORLD is not None


def is_torchelastic_launched() -> bool:
    """True in processes started by `rosenblatt launch` (as torchrun's)."""
    return "TORCHELASTIC_RUN_ID" in os.environ


def _abort_on_error(comm: Any) -> None:
    """Make an uncaught exception abort the MPI job, so no other rank waits forever."""
    previous = sys.excepthook

    def hook(kind: type, error: BaseException, tb: Any) -> None:
        previous(kind, error, tb)
        print(f"rosenblatt.distributed: rank {comm.Get_rank()} raised {kind.__name__}: "
              "stopping all ranks", file=sys.stderr, flush=True)
        from .run import _let_output_reach_the_launcher

        _let_output_reach_the_launcher()
        comm.Abort(1)

    sys.excepthook = hook


def init_process_group(backend: str | None = None, init_method: str | None = None,
                       timeout: datetime.timedelta | None = None, world_size: int = -1,
                       rank: int = -1, store: Any = None, group_name: str = "",
                       pg_options: Any = None, device_id: Any = None) -> None:
    """Join the MPI job's world group (backend 'mpi' or 'gloo', both over MPI)."""
    if GroupMember.WORLD is not None:
        raise ValueError("trying to initialize the default process group twice!")
    name = (backend or "gloo").lower().split(",")[0].removeprefix("cpu:")
    if name not in _BACKENDS:
        raise ValueError(f"backend {backend!r} is not available in Rosenblatt: 'gloo' and 'mpi' "
                         "run over MPI on CPUs ('nccl' needs CUDA GPUs)")
    if init_method not in (None, "env://") and not str(init_method).startswith(("tcp://",
                                                                               "file://")):
        raise ValueError(f"init_method {init_method!r}: expected env://, tcp:// or file://")
    comm = _mpi().COMM_WORLD
    _check_agrees("world size", world_size if world_size != -1 else os.environ.get("WORLD_SIZE"),
                  comm.Get_size())
    _check_agrees("rank", rank if rank != -1 else os.environ.get("RANK"), comm.Get_rank())
    seconds = (timeout or default_pg_timeout).total_seconds()
    GroupMember.WORLD = ProcessGroup(comm, range(comm.Get_size()), seconds)
    GroupMember.WORLD.backend = name
    _abort_on_error(comm)


def _check_agrees(what: str, asked: Any, mpi_value: int) -> None:
    """A rank or world size from the arguments or environment must be MPI's own."""
    if asked is not None and int(asked) != mpi_value:
        raise RuntimeError(
            f"init_process_group: {what} {asked} was asked for, but MPI started this process "
            f"with {what} {mpi_value}: start the processes with `rosenblatt launch "
            f"--nproc-per-node N script.py` or `mpiexec -n N python script.py`")


def destroy_process_group(group: ProcessGroup | None = None) -> None:
    """Leave the default group (MPI itself stays up until the process exits)."""
    if group is None or group is GroupMember.WORLD:
        _world()
        GroupMember.WORLD = None


def _world() -> ProcessGroup:
    if GroupMember.WORLD is None:
        raise ValueError("Default process group has not been initialized, please make sure to "
                         "call init_process_group.")
    return GroupMember.WORLD


def _group(group: Any) -> ProcessGroup:
    """The group a collective runs on (the default one for None)."""
    if group is None or group is GroupMember.WORLD:
        return _world()
    if group is GroupMember.NON_GROUP_MEMBER:
        raise RuntimeError("this process is not a member of the group")
    return group


def get_rank(group: ProcessGroup | None = None) -> int:
    """This process's rank (in the group, else in the world)."""
    return _group(group).rank()


def get_world_size(group: ProcessGroup | None = None) -> int:
    """The number of processes in the group (the world by default)."""
    return _group(group).size()


def get_backend(group: ProcessGroup | None = None) -> str:
    """The backend name init_process_group was given ('gloo' or 'mpi')."""
    return _world().backend


def new_group(ranks: Sequence[int] | None = None, timeout: datetime.timedelta | None = None,
              backend: str | None = None, pg_options: Any = None, **kwargs: Any) -> Any:
    """A group of some ranks; every process must call it (as in PyTorch)."""
    world = _world()
    members = sorted(range(world.size()) if ranks is None else ranks)
    me = world.rank()
    color = 0 if me in members else _mpi().UNDEFINED
    comm = world.comm.Split(color, members.index(me) if me in members else 0)
    if me not in members:
        return GroupMember.NON_GROUP_MEMBER
    seconds = world.timeout if timeout is None else timeout.total_seconds()
    return ProcessGroup(comm, members, seconds)


def _buffer(tensor: Tensor) -> tuple[Any, Callable[[], None]]:
    """A flat contiguous array for MPI, and how to write it back into the tensor."""
    data = tensor._data
    if data.__class__ is not np.ndarray:
        raise TypeError(f"rosenblatt.distributed works on CPU tensors, got {tensor.device}")
    if data.flags.c_contiguous and data.flags.writeable:
        flat = data.reshape(-1)

        def bump() -> None:
            tensor._version_box[0] += 1
    else:
        flat = np.ascontiguousarray(data).reshape(-1)

        def bump() -> None:
            tensor._data[...] = flat.reshape(data.shape)
            tensor._version_box[0] += 1
    return flat, bump


def _run(group: ProcessGroup, requests: list, what: str, finish: Callable[[], Any] | None,
         async_op: bool) -> Work | None:
    """Wait for the requests now, or hand back a Work."""
    work = Work(requests, group.timeout, what, finish)
    if async_op:
        return work
    work.wait()
    return None


def _op(op: Any) -> Any:
    mpi = _mpi()
    table = {ReduceOp.SUM: mpi.SUM, ReduceOp.AVG: mpi.SUM, ReduceOp.PRODUCT: mpi.PROD,
             ReduceOp.MIN: mpi.MIN, ReduceOp.MAX: mpi.MAX, ReduceOp.BAND: mpi.BAND,
             ReduceOp.BOR: mpi.BOR, ReduceOp.BXOR: mpi.BXOR}
    if op not in table:
        raise ValueError(f"unknown reduce op {op!r}: use dist.ReduceOp.SUM, AVG, PRODUCT, MIN, "
                         "MAX, BAND, BOR or BXOR")
    return table[op]


def _average(flat: Any, op: Any, size: int) -> None:
    """AVG is a sum divided by the group size (integers as PyTorch refuses: floats only)."""
    if op == ReduceOp.AVG:
        if flat.dtype.kind not in "fc":
            raise TypeError(f"ReduceOp.AVG needs a floating tensor, got {flat.dtype}")
        flat /= size


def barrier(group: ProcessGroup | None = None, async_op: bool = False,
            device_ids: Any = None) -> Work | None:
    """Wait until every rank of the group gets here."""
    g = _group(group)
    return _run(g, [g.comm.Ibarrier()], "barrier", None, async_op)


def broadcast(tensor: Tensor, src: int = 0, group: ProcessGroup | None = None,
              async_op: bool = False, group_src: int | None = None) -> Work | None:
    """Every rank's tensor becomes rank src's (in place)."""
    g = _group(group)
    flat, done = _buffer(tensor)
    root = g.local(src) if group_src is None else group_src
    return _run(g, [g.comm.Ibcast(flat, root=root)], "broadcast", done, async_op)


def all_reduce(tensor: Tensor, op: Any = ReduceOp.SUM, group: ProcessGroup | None = None,
               async_op: bool = False) -> Work | None:
    """tensor = op over all ranks' tensors, elementwise, on every rank (in place)."""
    g = _group(group)
    flat, done = _buffer(tensor)
    request = g.comm.Iallreduce(_mpi().IN_PLACE, flat, op=_op(op))

    def finish() -> None:
        _average(flat, op, g.size())
        done()
    return _run(g, [request], "all_reduce", finish, async_op)


def reduce(tensor: Tensor, dst: int = 0, op: Any = ReduceOp.SUM,
           group: ProcessGroup | None = None, async_op: bool = False) -> Work | None:
    """Rank dst's tensor = op over all ranks' tensors (the others' are left as they are)."""
    g = _group(group)
    flat, done = _buffer(tensor)
    root = g.local(dst)
    mine = g.rank() == root
    send = _mpi().IN_PLACE if mine else flat
    request = g.comm.Ireduce(send, flat if mine else None, op=_op(op), root=root)

    def finish() -> None:
        if mine:
            _average(flat, op, g.size())
            done()
    return _run(g, [request], "reduce", finish, async_op)


def _stack(tensors: Sequence[Tensor], like: Tensor, size: int, what: str) -> Any:
    """(size, *like.shape) contiguous array of the tensors, checked against `like`."""
    if len(tensors) != size:
        raise ValueError(f"{what}: expected a list of {size} tensors (one per rank), "
                         f"got {len(tensors)}")
    for t in tensors:
        if tuple(t.shape) != tuple(like.shape):
            raise ValueError(f"{what}: every tensor must have shape {tuple(like.shape)}, "
                             f"got {tuple(t.shape)}")
    return np.ascontiguousarray(np.stack([t._data for t in tensors]).astype(like._data.dtype))


def _unstack(rows: Any, tensors: Sequence[Tensor]) -> None:
    """Copy each row into one tensor of the list (in place)."""
    for row, t in zip(rows, tensors):
        t._data[...] = row.reshape(t._data.shape)
        t._version_box[0] += 1


def all_gather(tensor_list: list[Tensor], tensor: Tensor, group: ProcessGroup | None = None,
               async_op: bool = False) -> Work | None:
    """tensor_list[r] = rank r's tensor, on every rank."""
    g = _group(group)
    _stack(tensor_list, tensor, g.size(), "all_gather")
    rows = np.empty((g.size(),) + tuple(tensor.shape), tensor._data.dtype)
    send = np.ascontiguousarray(tensor._data)
    request = g.comm.Iallgather(send, rows)
    return _run(g, [request], "all_gather", lambda: _unstack(rows, tensor_list), async_op)


def all_gather_into_tensor(output_tensor: Tensor, input_tensor: Tensor,
                           group: ProcessGroup | None = None,
                           async_op: bool = False) -> Work | None:
    """output (size * n, ...) = every rank's input (n, ...) concatenated in rank order."""
    g = _group(group)
    flat, done = _buffer(output_tensor)
    if flat.size != input_tensor.numel() * g.size():
        raise ValueError(f"all_gather_into_tensor: output has {flat.size} elements, expected "
                         f"{g.size()} x {input_tensor.numel()}")
    send = np.ascontiguousarray(input_tensor._data, dtype=flat.dtype)
    return _run(g, [g.comm.Iallgather(send, flat)], "all_gather_into_tensor", done, async_op)


def reduce_scatter(output: Tensor, input_list: list[Tensor], op: Any = ReduceOp.SUM,
                   group: ProcessGroup | None = None, async_op: bool = False) -> Work | None:
    """output on rank r = op over all ranks of their input_list[r]."""
    g = _group(group)
    rows = _stack(input_list, output, g.size(), "reduce_scatter")
    flat, done = _buffer(output)
    request = g.comm.Ireduce_scatter_block(rows, flat, op=_op(op))

    def finish() -> None:
        _average(flat, op, g.size())
        done()
    return _run(g, [request], "reduce_scatter", finish, async_op)


def reduce_scatter_tensor(output: Tensor, input: Tensor, op: Any = ReduceOp.SUM,  # noqa: A002
                          group: ProcessGroup | None = None,
                          async_op: bool = False) -> Work | None:
    """output (n, ...) on rank r = op over all ranks of their input[r * n:(r + 1) * n]."""
    g = _group(group)
    flat, done = _buffer(output)
    if input.numel() != flat.size * g.size():
        raise ValueError(f"reduce_scatter_tensor: input has {input.numel()} elements, expected "
                         f"{g.size()} x {flat.size}")
    send = np.ascontiguousarray(input._data, dtype=flat.dtype)
    request = g.comm.Ireduce_scatter_block(send, flat, op=_op(op))

    def finish() -> None:
        _average(flat, op, g.size())
        done()
    return _run(g, [request], "reduce_scatter_tensor", finish, async_op)


def gather(tensor: Tensor, gather_list: list[Tensor] | None = None, dst: int = 0,
           group: ProcessGroup | None = None, async_op: bool = False) -> Work | None:
    """gather_list[r] on rank dst = rank r's tensor."""
    g = _group(group)
    root = g.local(dst)
    mine = g.rank() == root
    if mine and gather_list is None:
        raise ValueError("gather: the destination rank needs a gather_list")
    if mine:
        _stack(gather_list, tensor, g.size(), "gather")
    rows = np.empty((g.size(),) + tuple(tensor.shape), tensor._data.dtype) if mine else None
    request = g.comm.Igather(np.ascontiguousarray(tensor._data), rows, root=root)
    finish = (lambda: _unstack(rows, gather_list)) if mine else None
    return _run(g, [request], "gather", finish, async_op)


def scatter(tensor: Tensor, scatter_list: list[Tensor] | None = None, src: int = 0,
            group: ProcessGroup | None = None, async_op: bool = False) -> Work | None:
    """tensor on rank r = scatter_list[r] of rank src."""
    g = _group(group)
    root = g.local(src)
    if g.rank() == root and scatter_list is None:
        raise ValueError("scatter: the source rank needs a scatter_list")
    rows = _stack(scatter_list, tensor, g.size(), "scatter") if g.rank() == root else None
    flat, done = _buffer(tensor)
    return _run(g, [g.comm.Iscatter(rows, flat, root=root)], "scatter", done, async_op)


def isend(tensor: Tensor, dst: int, group: ProcessGroup | None = None, tag: int = 0) -> Work:
    """Start sending the tensor to rank dst; returns the Work to wait on."""
    g = _group(group)
    data = np.ascontiguousarray(tensor._data)
    return Work([g.comm.Isend(data, dest=g.local(dst), tag=tag)], g.timeout, "send")


def irecv(tensor: Tensor, src: int | None = None, group: ProcessGroup | None = None,
          tag: int = 0) -> Work:
    """Start receiving into the tensor from rank src (any rank for None)."""
    g = _group(group)
    flat, done = _buffer(tensor)
    source = _mpi().ANY_SOURCE if src is None else g.local(src)
    return Work([g.comm.Irecv(flat, source=source, tag=tag)], g.timeout, "recv", done)


def send(tensor: Tensor, dst: int, group: ProcessGroup | None = None, tag: int = 0) -> None:
    """Send the tensor to rank dst (returns once the data is on its way)."""
    isend(tensor, dst, group, tag).wait()


def recv(tensor: Tensor, src: int | None = None, group: ProcessGroup | None = None,
         tag: int = 0) -> int:
    """Receive into the tensor from rank src (any for None); returns the sender's rank."""
    g = _group(group)
    flat, done = _buffer(tensor)
    status = _mpi().Status()
    source = _mpi().ANY_SOURCE if src is None else g.local(src)
    Work([g.comm.Irecv(flat, source=source, tag=tag)], g.timeout, "recv", done, status).wait()
    return g.ranks[status.Get_source()]


def broadcast_object_list(object_list: list, src: int = 0,
                          group: ProcessGroup | None = None, device: Any = None) -> None:
    """object_list becomes rank src's (pickled, as PyTorch does)."""
    g = _group(group)
    object_list[:] = g.comm.bcast(list(object_list), root=g.local(src))


def all_gather_object(object_list: list, obj: Any, group: ProcessGroup | None = None) -> None:
    """object_list[r] = rank r's obj (pickled, as PyTorch does)."""
    g = _group(group)
    object_list[:] = g.comm.allgather(obj)
