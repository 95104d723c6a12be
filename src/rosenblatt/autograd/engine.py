"""The backward pass: walks the graph from the outputs in topological order, iteratively.

Nodes run newest first (by the sequence number each gets when recorded): every node that
feeds a node gradient was made after it, so each gradient is summed before it is used.
No recursion (a 100,000-op chain is fine), and each node's saved arrays are released as
soon as its backward has run (unless retain_graph). Gradients are summed in place into
buffers the engine allocated itself, and handed to leaves without copying unless the
same memory already went to another leaf (or is a read-only broadcast view).
"""

from __future__ import annotations

import itertools
import weakref
from heapq import heappop, heappush
from operator import itemgetter
from typing import Any

from .._backend import as_array, ndarray, parallel, writable
from .function import Function, check_backward_finite
from .grad_mode import _State as _Switches
from .grad_mode import state
from .tensor import Tensor

_new = object.__new__
_first = itemgetter(0)

# Hooks on leaf tensors, by id(tensor): tensors compare elementwise, so they cannot be dict
# keys. An entry goes when its tensor does.
_LEAF_HOOKS: dict[int, list] = {}


def leaf_hooks(tensor: Tensor, create: bool = False) -> list | None:
    """The hooks registered on a leaf tensor (with `create`, a new empty list if none)."""
    hooks = _LEAF_HOOKS.get(id(tensor))
    if hooks is None and create:
        hooks = _LEAF_HOOKS[id(tensor)] = []
        weakref.finalize(tensor, _LEAF_HOOKS.pop, id(tensor), None)
    return hooks


def _accumulate(tensor: Tensor, grad: Any, storage: set[int], borrowed: set[int]) -> None:
    """Add `grad` into `tensor.grad`: in place when it owns its array, else by taking `grad`.

    `storage` holds the ids of the memory this backward pass handed out, so two tensors
    never share a gradient array. `borrowed` holds the ids of `.grad` tensors whose array
    may still be a pending gradient of some node: adding into those in place would corrupt
    that node's input, so the first addition makes a new array (which the tensor then owns).
    """
    if grad.__class__ is not ndarray:
        grad = as_array(grad)
    data = tensor._data
    if grad.shape != data.shape:
        raise RuntimeError(
            f"internal error: gradient of shape {list(grad.shape)} for a tensor of shape "
            f"{list(data.shape)}"
        )
    if grad.dtype is not data.dtype and grad.dtype != data.dtype:
        grad = grad.astype(data.dtype)
    old = tensor.grad
    if old is None:
        base = grad.base
        if base is None:  # arrays that own their memory are writable
            key = id(grad)
            if key in storage:
                grad = grad.copy()
                key = id(grad)
        else:
            key = id(base)
            if key in storage or not writable(grad):  # shared, or a broadcast view
                grad = grad.copy()
                key = id(grad)
        storage.add(key)
        g = _new(Tensor)
        g._data = grad
        g.requires_grad = False
        g.grad = None
        g._node = None
        g._version_box = [0]
        tensor.grad = g
        borrowed.add(id(g))
        return
    current = old._data
    if id(old) in borrowed or not writable(current) or current.shape != grad.shape:
        old._data = as_array(current + grad)
        borrowed.discard(id(old))
    else:
        parallel.iadd(current, grad)  # current += grad, over the kernel threads when large
    old._version_box[0] += 1


class _Capture:
    """For autograd.grad: collects the gradients of chosen tensors instead of filling .grad."""

    def __init__(self, tensors: list[Tensor]) -> None:
        self.tensors = tensors
        self.ids = {id(t) for t in tensors}
        self.nodes = {id(t._node): t for t in tensors if t._node is not None}
        self.found: dict[int, Any] = {}

    def needed(self, roots: list[Tensor]) -> tuple[set[Function], set[Function]]:
        """The nodes on some path from the roots to a captured tensor, and of those the ones
        whose backward runs (a captured node's only if a captured tensor lies below it): as
        in PyTorch, nothing else runs, so hooks and retained grads elsewhere are untouched."""
        reaches: dict[Function, bool] = {}
        runs: set[Function] = set()
        stack = [t._node for t in roots if t._node is not None]
        while stack:
            node = stack[-1]
            if node in reaches:
                stack.pop()
                continue
            parents = [p for p in node.next_nodes if isinstance(p, Function)]
            waiting = [p for p in parents if p not in reaches]
            if waiting:
                stack.extend(waiting)
                continue
            stack.pop()
            # (a tied node's edge to a sibling's output carries no gradient: PyTorch's one
            # node has no such edge, so a captured sibling is not below it)
            siblings = node.siblings or ()
            tied = {id(sibling) for sibling in siblings}
            below = any(reaches[p] if isinstance(p, Function) else id(p) in self.ids
                        for p in node.next_nodes if p is not None and id(p) not in tied)
            reaches[node] = below or id(node) in self.nodes or any(
                id(sibling) in self.nodes for sibling in siblings)
            if below:
                runs.add(node)
        needed = {node for node, hit in reaches.items() if hit}
        if len(roots) == 1 and roots[0]._node is not None:  # as PyTorch's engine, whose one
            needed.add(roots[0]._node)  # root node always gets its gradient: its hooks and
        return needed, runs  # retain_grad see it, though it runs only if needed

    def leaf(self, tensor: Tensor, grad: Any) -> None:
        if id(tensor) in self.ids:
            grad = _returnable(grad)
            previous = self.found.get(id(tensor))
            self.found[id(tensor)] = grad if previous is None else as_array(previous + grad)

    def node(self, node: Function, grad: Any) -> None:
        tensor = self.nodes.get(id(node))
        if tensor is not None:  # (a copy where retain_grad also keeps it: .grad may grow;
            # otherwise results share memory exactly where PyTorch's do: a view op's backward
            # hands a view of this array on)
            self.found[id(tensor)] = _returnable(grad) if node.retained is None else grad.copy()

    def result(self) -> list[Any]:
        return [self.found.get(id(t)) for t in self.tensors]


_PASSES = itertools.count()


class _Pass:
    """One backward pass: the gradients waiting for each node, in a heap newest first, and
    where a leaf's gradient goes (its .grad, the running sum of a leaf with hooks, or
    autograd.grad's capture).

    A node is made after every node it feeds, so the newest pending node has received all
    its gradient: that is a topological order without counting dependencies first
    (PyTorch orders by sequence number too)."""

    def __init__(self, roots: list[Tensor], capture: list[Tensor] | None) -> None:
        self.number = next(_PASSES)
        self.storage: set[int] = set()  # ids of memory handed to some .grad this pass
        self.borrowed: set[int] = set()  # .grad tensors whose array a node may still use
        self.catch = None if capture is None else _Capture(capture)
        self.needed, self.runs = (None, None) if self.catch is None else \
            self.catch.needed(roots)
        self.hooked: dict[int, tuple[Tensor, Any]] = {}  # hooked leaves: gradient so far
        # hooked leaves: how many gradients each has still to receive in this pass
        self.waiting = _leaf_inflow(roots) if _LEAF_HOOKS else {}
        self.buffers: dict[Function, Any] = {}
        self.owned: set[Function] = set()  # buffers the engine allocated: add in place
        self.heap: list[tuple[int, Function]] = []
        self.tied_seen: set[Function] = set()  # tied nodes whose hooks ran this pass

    def leaf(self, tensor: Tensor, grad: Any) -> None:
        """A gradient for a leaf tensor: held for its hooks, or delivered."""
        if _LEAF_HOOKS and id(tensor) in _LEAF_HOOKS:
            _hold(self.hooked, tensor, grad)
            left = self.waiting.get(id(tensor), 0) - 1
            self.waiting[id(tensor)] = left
            if left == 0:  # its whole gradient is in: its hooks run now, while the rest of
                self.complete(tensor)  # the backward goes on (DDP starts its all-reduce)
        elif self.catch is None:  # (deliver, inline: this is hot)
            _accumulate(tensor, grad, self.storage, self.borrowed)
        else:
            self.catch.leaf(tensor, grad)

    def deliver(self, leaf: Tensor, grad: Any) -> None:
        """A leaf's gradient: into its .grad, or to autograd.grad's result."""
        if self.catch is None:
            _accumulate(leaf, grad, self.storage, self.borrowed)
        else:
            self.catch.leaf(leaf, grad)

    def arrive(self, node: Function, grad: Any) -> Any:
        """A node's whole gradient, before its backward: the node's tensor hooks may replace
        it, retain_grad() keeps it, autograd.grad captures it (as PyTorch: before the hooks
        where the node runs on, after them where it does not)."""
        runs = self.runs is None or node in self.runs
        if self.catch is not None and runs:
            self.catch.node(node, grad)
        if node.siblings:
            self.tied_without_gradient(node)
        grad = _through_hooks(node.hooks or (), grad)
        keeper = node.retained
        retained = None if keeper is None else keeper()
        if retained is not None:  # (autograd.grad fills retained grads too, as PyTorch:
            # from a copy, since what autograd.grad returns must not grow with this .grad)
            _accumulate(retained, grad if self.catch is None else grad.copy(), self.storage,
                        self.borrowed)
        if self.catch is not None and not runs:
            self.catch.node(node, grad)
        return grad

    def tied_without_gradient(self, node: Function) -> None:
        """PyTorch's one node of a multi-output op calls the hooks of every output when it
        runs, with None for an output that got no gradient: so do the tied nodes, once per
        pass (a node's gradient is complete when the newest of its tied nodes pops)."""
        self.tied_seen.add(node)
        for sibling in node.siblings:
            if sibling in self.buffers or sibling in self.tied_seen:
                continue  # (it gets its gradient, or has had its hooks called)
            self.tied_seen.add(sibling)
            for hook in sibling.hooks or ():
                if hook(None) is not None:
                    raise RuntimeError("can't replace a None gradient with a non-None value")

    def complete(self, leaf: Tensor) -> None:
        """A leaf with hooks has its whole gradient of the pass: the hooks see it (and may
        replace it), then it goes to .grad."""
        _, grad = self.hooked.pop(id(leaf))
        self.deliver(leaf, _through_hooks(list(_LEAF_HOOKS.get(id(leaf), ())), grad))

    def finish(self) -> None:
        """Hooked leaves not completed on the way (a rule sent one of them no gradient, or
        autograd.grad pruned a branch): their hooks run at the end of the pass."""
        for tensor, _ in list(self.hooked.values()):
            self.complete(tensor)


def run_backward(
    roots: list[Tensor],
    root_grads: list[Any],
    retain_graph: bool,
    capture: list[Tensor] | None = None,
) -> list[Any] | None:
    """Backpropagate `root_grads` from `roots`.

    Without `capture`, gradients accumulate into leaves' `.grad`. With `capture` (for
    `autograd.grad`), the gradients of those tensors are returned instead, no leaf's
    `.grad` is touched, and only the nodes on a path to them run.
    """
    run = _Pass(roots, capture)
    heap, buffers, owned, needed = run.heap, run.buffers, run.owned, run.needed  # (locals:
    anomaly = _Switches.anomaly  # the loop below is the hot path of every backward)
    previous_mode = state.enabled
    state.enabled = False  # backward rules run on arrays; nothing below may record a graph
    edges = zip([t._node or t for t in roots], root_grads)
    try:
        while True:
            for parent, g in edges:  # send each gradient on: sum it into a node's buffer
                if g is None or parent is None:
                    continue
                if g.__class__ is not ndarray:  # (a rule's 0-d result may be a scalar)
                    g = as_array(g)
                if not isinstance(parent, Function):
                    run.leaf(parent, g)
                elif needed is None or parent in needed:
                    pending = buffers.get(parent)
                    if pending is None:
                        buffers[parent] = g
                        heappush(heap, (-parent.seq, parent))
                    elif parent in owned:  # (over the kernel threads when large)
                        parallel.iadd(pending, g)
                    else:
                        buffers[parent] = as_array(parallel.add(pending, g))
                        owned.add(parent)
            if not heap:
                break
            node = heappop(heap)[1]
            grad = buffers.pop(node)
            siblings = node.siblings
            if node.hooks is not None or run.catch is not None or siblings:  # (rare)
                grad = run.arrive(node, grad)
                if run.runs is not None and node not in run.runs:
                    edges = ()
                    continue  # captured here, and nothing it feeds is wanted: not run
            versions = node.versions  # flat (box, version, id) triples; None once freed
            if versions is None or siblings or versions and _stale(versions):
                _check_saved(node, run)
            grads = node.backward(node, grad)
            if grads.__class__ is not tuple:
                grads = (grads,)
            if anomaly:
                check_backward_finite(node, grads)
            del grad
            if not retain_graph:  # saved arrays: freed as soon as they are used
                if versions:  # (release() has nothing to do for a node that kept nothing)
                    node.release()
                if siblings:
                    node.freed_in = run.number  # (a sibling may still run in this pass)
            edges = zip(node.next_nodes, grads)
        run.finish()
    finally:
        state.enabled = previous_mode
    return None if run.catch is None else run.catch.result()


def _returnable(grad: Any) -> Any:
    """A gradient autograd.grad may return: a read-only array (a rule's broadcast view) is
    copied, since PyTorch's results can be written in place (its expanded views stay views,
    and writing into those raises PyTorch's overlap error)."""
    if grad.__class__ is ndarray and not grad.flags.writeable:
        return grad.copy()
    return grad


def _through_hooks(hooks: Any, grad: Any) -> Any:
    """Pass a gradient through tensor hooks in turn; each may return a replacement."""
    for hook in hooks:
        replaced = hook(Tensor._make(grad, False, None))
        if replaced is not None:
            grad = as_array(replaced._data)
    return grad


def _leaf_inflow(roots: list[Tensor]) -> dict[int, int]:
    """For each leaf with hooks: how many gradients reach it in a pass from `roots` (one per
    edge from a node the pass reaches, one per root that is the leaf itself)."""
    counts: dict[int, int] = {}
    seen: set[int] = set()
    stack = []
    for tensor in roots:
        if tensor._node is not None:
            stack.append(tensor._node)
        elif id(tensor) in _LEAF_HOOKS:
            counts[id(tensor)] = counts.get(id(tensor), 0) + 1
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        for parent in node.next_nodes:
            if isinstance(parent, Function):
                stack.append(parent)
            elif parent is not None and id(parent) in _LEAF_HOOKS:
                counts[id(parent)] = counts.get(id(parent), 0) + 1
    return counts


def _check_saved(node: Function, run: _Pass) -> None:
    """Raise if the node (or a node tied to it, freed by an earlier pass) was freed, or if
    an array it saved changed in place since."""
    for sibling in node.siblings or ():
        if sibling.versions is None and sibling.__dict__.get("freed_in") != run.number:
            sibling.check_versions()  # raises the 'backward a second time' error
    versions = node.versions  # flat (box, version, id) triples; None once freed
    if versions is None or _stale(versions):
        node.check_versions()  # raises if freed, or if a changed array was one it saved


def _stale(versions: tuple) -> bool:
    """Whether any tensor of a node's version snapshot changed in place since."""
    return [*map(_first, versions[::3])] != [*versions[1::3]]


def _hold(hooked: dict[int, tuple[Tensor, Any]], tensor: Tensor, grad: Any) -> None:
    """Sum a hooked leaf's gradient until the pass ends (its hooks run once, on the total)."""
    held = hooked.get(id(tensor))
    hooked[id(tensor)] = (tensor, grad if held is None else as_array(held[1] + grad))
