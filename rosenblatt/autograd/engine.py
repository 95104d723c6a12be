"""The backward pass: walks the graph from the outputs in topological order, iteratively.

Nodes run newest first (by the sequence number each gets when recorded): every node that
feeds a node gradient was made after it, so each gradient is summed before it is used.
No recursion (a 100,000-op chain is fine), and each node's saved arrays are released as
soon as its backward has run (unless retain_graph). Gradients are summed in place into
buffers the engine allocated itself, and handed to leaves without copying unless the
same memory already went to another leaf (or is a read-only broadcast view).
"""

from __future__ import annotations

import weakref
from heapq import heappop, heappush
from typing import Any

from .._backend import as_array, ndarray, writable
from .function import Function, check_backward_finite
from .grad_mode import _State as _Switches
from .grad_mode import state
from .tensor import Tensor

_new = object.__new__

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
        current += grad
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
            below = any(reaches[p] if isinstance(p, Function) else id(p) in self.ids
                        for p in node.next_nodes if p is not None)
            reaches[node] = below or id(node) in self.nodes
            if below:
                runs.add(node)
        return {node for node, hit in reaches.items() if hit}, runs

    def leaf(self, tensor: Tensor, grad: Any) -> None:
        if id(tensor) in self.ids:
            previous = self.found.get(id(tensor))
            self.found[id(tensor)] = grad if previous is None else as_array(previous + grad)

    def node(self, node: Function, grad: Any) -> None:
        tensor = self.nodes.get(id(node))
        if tensor is not None:  # (a copy where retain_grad also keeps it: .grad may grow)
            self.found[id(tensor)] = grad if node.retained is None else grad.copy()

    def result(self) -> list[Any]:
        return [self.found.get(id(t)) for t in self.tensors]


def run_backward(
    roots: list[Tensor],
    root_grads: list[Any],
    retain_graph: bool,
    capture: list[Tensor] | None = None,
) -> list[Any] | None:
    """Backpropagate `root_grads` from `roots`.

    Without `capture`, gradients accumulate into leaves' `.grad`. With `capture` (for
    `autograd.grad`), the gradients of those tensors are returned instead and no `.grad`
    is touched.
    """
    storage: set[int] = set()
    borrowed: set[int] = set()
    catch = None if capture is None else _Capture(capture)
    hooked: dict[int, tuple[Tensor, Any]] = {}  # leaves with hooks: their summed gradient
    buffers: dict[Function, Any] = {}
    owned: set[Function] = set()  # buffers the engine allocated, safe to add into in place
    # Nodes waiting to run, newest first. A node is made after every node it feeds, so the
    # newest pending node has received all its gradient: that is a topological order
    # without counting dependencies first (PyTorch orders by sequence number too).
    heap: list[tuple[int, Function]] = []
    needed, runs = (None, None) if catch is None else catch.needed(roots)
    for tensor, grad in zip(roots, root_grads):
        node = tensor._node
        if needed is not None and node is not None and node not in needed:
            continue
        if node is None:
            if _LEAF_HOOKS and id(tensor) in _LEAF_HOOKS:
                _hold(hooked, tensor, grad)
            elif catch is None:
                _accumulate(tensor, grad, storage, borrowed)
            else:
                catch.leaf(tensor, grad)
        elif node in buffers:
            buffers[node] = as_array(buffers[node] + grad)
            owned.add(node)
        else:
            buffers[node] = grad
            heappush(heap, (-node.seq, node))
    anomaly = _Switches.anomaly
    previous_mode = state.enabled
    state.enabled = False  # backward rules run on arrays; nothing below may record a graph
    try:
        while heap:
            node = heappop(heap)[1]
            grad = buffers.pop(node)
            versions = node.versions  # flat (box, version, id) triples; None once freed
            if versions:
                for i in range(0, len(versions), 3):
                    if versions[i][0] != versions[i + 1]:
                        node.check_versions()  # raises if that array was saved
            elif versions is None:
                node.check_versions()  # raises the 'backward a second time' error
            keeper = None
            hooks = node.hooks
            if hooks is not None:  # rare: tensor hooks and retain_grad()
                for hook in hooks:
                    replaced = hook(Tensor._make(grad, False, None))
                    if replaced is not None:
                        grad = replaced._data
                keeper = node.retained
                if keeper is not None:  # autograd.grad fills retained grads too, as PyTorch
                    retained = keeper()
                    if retained is not None:
                        _accumulate(retained, grad, storage, borrowed)
            if catch is not None:
                catch.node(node, grad)
                if node not in runs:  # captured here, and nothing it feeds is wanted
                    continue
            grads = node.backward(node, grad)
            if grads.__class__ is not tuple:
                grads = (grads,)
            if anomaly:
                check_backward_finite(node, grads)
            del grad
            if not retain_graph:  # saved arrays: freed as soon as they are used
                node.release()
            for parent, g in zip(node.next_nodes, grads):
                if g is None or parent is None:
                    continue
                if g.__class__ is not ndarray:  # a rule's 0-d result may be a NumPy scalar
                    g = as_array(g)
                if not isinstance(parent, Function):
                    if _LEAF_HOOKS and id(parent) in _LEAF_HOOKS:
                        _hold(hooked, parent, g)
                    elif catch is None:
                        _accumulate(parent, g, storage, borrowed)
                    else:
                        catch.leaf(parent, g)
                    continue
                if needed is not None and parent not in needed:
                    continue
                pending = buffers.get(parent)
                if pending is None:
                    buffers[parent] = g
                    heappush(heap, (-parent.seq, parent))
                elif parent in owned:
                    pending += g
                else:
                    buffers[parent] = as_array(pending + g)
                    owned.add(parent)
        # a leaf's hooks see its whole gradient of this pass, before it reaches .grad
        for tensor, g in hooked.values():
            for hook in list(_LEAF_HOOKS.get(id(tensor), ())):
                replaced = hook(Tensor._make(g, False, None))
                if replaced is not None:
                    g = as_array(replaced._data)
            if catch is None:
                _accumulate(tensor, g, storage, borrowed)
            else:
                catch.leaf(tensor, g)
    finally:
        state.enabled = previous_mode
    return None if catch is None else catch.result()


def _hold(hooked: dict[int, tuple[Tensor, Any]], tensor: Tensor, grad: Any) -> None:
    """Sum a hooked leaf's gradient until the pass ends (its hooks run once, on the total)."""
    held = hooked.get(id(tensor))
    hooked[id(tensor)] = (tensor, grad if held is None else as_array(held[1] + grad))
