"""DistributedDataParallel: one model replica per process, gradients averaged over MPI.

At wrapping, every rank checks that its parameters (names, shapes, dtypes) are rank 0's and
takes rank 0's parameters and buffers. A tensor hook on each parameter sees the parameter's
whole gradient of a backward pass; it copies the gradient (plus what `.grad` already holds,
from `no_sync()` steps) into its bucket, and a full bucket starts a non-blocking all-reduce
at once, so buckets travel while the backward goes on (the engine runs a leaf's hooks as
soon as its last gradient of the pass arrives, so the last layers' buckets are sent while the
first layers' backward rules still run). The last hook waits for every bucket and writes the
averages into `.grad`.
Parameters reverse-ordered into buckets of `bucket_cap_mb`, as PyTorch.
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

from ..._backend import np
from ...autograd.grad_mode import is_grad_enabled
from ...autograd.tensor import Tensor
from ..modules.module import Module

__all__ = ["DistributedDataParallel"]


class _Bucket:
    """Parameters whose gradients travel in one all-reduce, and their flat buffer."""

    def __init__(self, params: list[Tensor]) -> None:
        self.params = params
        self.offsets = np.cumsum([0] + [p.numel() for p in params]).tolist()
        self.flat = np.zeros(self.offsets[-1], params[0]._data.dtype)
        self.ready = 0
        self.work: Any = None

    def view(self, i: int) -> Any:
        """The part of the flat buffer that holds parameter i's gradient."""
        return self.flat[self.offsets[i]:self.offsets[i + 1]]


class DistributedDataParallel(Module):
    """Wraps a module: forward runs it; backward averages its gradients over the ranks."""

    def __init__(self, module: Module, device_ids: Any = None, output_device: Any = None,
                 dim: int = 0, broadcast_buffers: bool = True, process_group: Any = None,
                 bucket_cap_mb: float | None = None, find_unused_parameters: bool = False,
                 check_reduction: bool = False, gradient_as_bucket_view: bool = False,
                 static_graph: bool = False, **kwargs: Any) -> None:
        from ... import distributed as dist
        super().__init__()
        self.module = module
        self.process_group = process_group
        self._dist = dist
        self._size = dist.get_world_size(process_group)  # raises without a process group
        self.broadcast_buffers = broadcast_buffers
        self.find_unused_parameters = find_unused_parameters
        self.require_backward_grad_sync = True
        self.device_ids, self.output_device, self.dim = device_ids, output_device, dim
        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        self._check_same_parameters(named)
        self._broadcast_state()
        cap = int((25 if bucket_cap_mb is None else bucket_cap_mb) * 1024 * 1024)
        self._buckets = _make_buckets([p for _, p in reversed(named)], cap)
        self._slot = {id(p): (b, i) for b in self._buckets for i, p in enumerate(b.params)}
        self._pending = 0  # hooks still to come in this backward pass (0: nothing to reduce)
        self._started = False  # some hook of this pass has run
        self._handles = [p.register_hook(self._hook(p)) for _, p in named]

    def _check_same_parameters(self, named: list[tuple[str, Tensor]]) -> None:
        """Every rank must hold rank 0's parameter set: the same names, shapes and dtypes."""
        mine = {n: (tuple(p.shape), str(p.dtype).removeprefix("rosenblatt.")) for n, p in named}
        everyone: list = []
        self._dist.all_gather_object(everyone, mine, group=self.process_group)
        for rank, theirs in enumerate(everyone):
            first = everyone[0]
            differ = [f"{n}: {first.get(n, 'missing')} on rank 0, {theirs.get(n, 'missing')} "
                      f"on rank {rank}" for n in sorted(set(first) | set(theirs))
                      if first.get(n) != theirs.get(n)]
            if differ:
                raise RuntimeError(
                    f"DistributedDataParallel: rank {rank}'s parameters differ from rank 0's "
                    f"({'; '.join(differ[:4])}): every rank must build the same model")

    def _broadcast_state(self) -> None:
        """Rank 0's parameters and buffers, on every rank."""
        for t in list(self.module.parameters()) + list(self.module.buffers()):
            if t is not None:
                self._dist.broadcast(t, 0, group=self.process_group)

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        """module(*inputs, **kwargs); prepares the gradient reduction of the next backward."""
        if self._pending and self.require_backward_grad_sync and self._started:
            raise RuntimeError(
                "DistributedDataParallel: the previous backward pass did not produce a gradient "
                "for every parameter, so its reduction never finished; pass "
                "find_unused_parameters=True when forward leaves some parameters unused")
        if self.broadcast_buffers and self.module.training:
            for b in self.module.buffers():
                if b is not None:
                    self._dist.broadcast(b, 0, group=self.process_group)
        output = self.module(*inputs, **kwargs)
        if self.require_backward_grad_sync and is_grad_enabled():
            self._prepare(output)
        return output

    def _prepare(self, output: Any) -> None:
        """Expect one hook per parameter (with find_unused_parameters, per reached one)."""
        self._started = False
        for b in self._buckets:
            b.ready, b.work = 0, None
        self._pending = len(self._slot)
        if self.find_unused_parameters:
            reached = _leaves(output)
            for p in [p for b in self._buckets for p in b.params if id(p) not in reached]:
                self._store(p, None)  # its hook will not run: ready now, with .grad as it is

    def _hook(self, param: Tensor) -> Any:
        def hook(grad: Tensor) -> Tensor | None:
            if not self.require_backward_grad_sync or not self._pending:
                return None  # no_sync(), or a backward outside forward's bookkeeping
            self._started = True
            self._store(param, grad)
            param.grad = None  # (.grad becomes this pass's total; the average replaces it)
            if self._pending == 0:
                self._finish()
                average, param.grad = param.grad, None  # the engine adds what we return
                return average
            return Tensor(self._view(param).reshape(param._data.shape).copy())
        return hook

    def _view(self, param: Tensor) -> Any:
        bucket, i = self._slot[id(param)]
        return bucket.view(i)

    def _store(self, param: Tensor, grad: Tensor | None) -> None:
        """Parameter's gradient so far into its bucket; a full bucket starts its all-reduce."""
        bucket, i = self._slot[id(param)]
        part = bucket.view(i)
        held = param.grad
        part[...] = 0 if held is None else held._data.reshape(-1)
        if grad is not None:
            part += grad._data.reshape(-1)
        bucket.ready += 1
        self._pending -= 1
        if bucket.ready == len(bucket.params):
            bucket.work = self._dist.all_reduce(_wrap(bucket.flat), group=self.process_group,
                                                async_op=True)

    def _finish(self) -> None:
        """Wait for every bucket; each parameter's .grad becomes the average over ranks."""
        for b in self._buckets:
            b.work.wait()
            b.flat /= self._size
            for i, p in enumerate(b.params):
                p.grad = Tensor(b.view(i).reshape(p._data.shape).copy())

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Backward passes inside accumulate gradients locally; the next one outside syncs."""
        previous = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = previous


def _wrap(array: Any) -> Tensor:
    """A tensor over the array itself (collectives write into it)."""
    return Tensor._make(array, False, None)


def _make_buckets(params: list[Tensor], cap: int) -> list[_Bucket]:
    """Consecutive parameters of one dtype, up to `cap` bytes a bucket (at least one each)."""
    buckets, current, size = [], [], 0
    for p in params:
        if current and (size + p._data.nbytes > cap or p.dtype != current[0].dtype):
            buckets.append(_Bucket(current))
            current, size = [], 0
        current.append(p)
        size += p._data.nbytes
    if current:
        buckets.append(_Bucket(current))
    return buckets


def _leaves(output: Any) -> set[int]:
    """ids of the leaf tensors the output's graph reaches (the parameters forward used)."""
    stack, seen, leaves = _tensors(output), set(), set()
    nodes = []
    for t in stack:
        if t._node is None:
            leaves.add(id(t))
        else:
            nodes.append(t._node)
    while nodes:
        node = nodes.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for nxt in getattr(node, "next_nodes", ()) or ():
            if isinstance(nxt, Tensor):
                leaves.add(id(nxt))
            elif nxt is not None:
                nodes.append(nxt)
    return leaves


def _tensors(value: Any) -> list[Tensor]:
    """The tensors in a (nested) output: tensor, tuple, list or dict."""
    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _tensors(v)]
    return []
