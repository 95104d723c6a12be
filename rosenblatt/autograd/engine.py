"""The backward pass: walks the graph from the outputs in topological order, iteratively.

Kahn's algorithm over the nodes reachable from the roots: a node runs its backward once
every node that feeds it gradient has run, so each gradient is summed before it is used.
No recursion (a 100,000-op chain is fine), and each node's saved arrays are released as
soon as its backward has run (unless retain_graph).
"""

from __future__ import annotations

from typing import Any

from .._backend import as_array, ndarray
from .function import Function, check_backward_finite
from .grad_mode import no_grad, state
from .tensor import Tensor


def _count_dependencies(roots: list[Function]) -> dict[Function, int]:
    """How many edges point into each node reachable from the roots."""
    deps: dict[Function, int] = {}
    stack = list(roots)
    seen = set(roots)
    while stack:
        node = stack.pop()
        if node.freed:
            node.check_versions()  # raises the 'backward a second time' error
        for parent in node.next_nodes:
            if isinstance(parent, Function):
                deps[parent] = deps.get(parent, 0) + 1
                if parent not in seen:
                    seen.add(parent)
                    stack.append(parent)
    return deps


def _storage_key(array: Any) -> int:
    """Identity of the memory an array uses (a view and its base share it)."""
    base = array.base
    return id(array if base is None else base)


class _LeafAccumulator:
    """Adds gradients into leaves' `.grad`, copying only when the array is shared."""

    def __init__(self) -> None:
        self.handed_out: set[int] = set()

    def own(self, grad: Any) -> Any:
        """Return `grad`, or a copy if another tensor may already hold its memory."""
        key = _storage_key(grad)
        if key in self.handed_out:
            grad = grad.copy()
            key = id(grad)
        self.handed_out.add(key)
        return grad

    def add(self, tensor: Tensor, grad: Any) -> None:
        """Accumulate `grad` into `tensor.grad` (out of place: .grad may be aliased)."""
        if grad.__class__ is not ndarray:
            grad = as_array(grad)
        if grad.shape != tensor.shape:
            raise RuntimeError(
                f"internal error: gradient of shape {grad.shape} for a tensor of shape "
                f"{tensor.shape}"
            )
        if grad.dtype != tensor._data.dtype:
            grad = grad.astype(tensor._data.dtype)
        if tensor.grad is None:
            tensor.grad = Tensor._make(self.own(grad), False, None)
        else:
            tensor.grad._data = tensor.grad._data + grad
            tensor.grad._version_box[0] += 1


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
    leaves = _LeafAccumulator()
    captured: dict[int, Any] = {}
    capture_ids = {id(t) for t in capture} if capture is not None else None
    capture_nodes = {id(t._node): t for t in capture if t._node is not None} if capture else {}

    def deliver_to_leaf(tensor: Tensor, grad: Any) -> None:
        if capture_ids is None:
            leaves.add(tensor, grad)
        elif id(tensor) in capture_ids:
            previous = captured.get(id(tensor))
            captured[id(tensor)] = grad if previous is None else previous + grad

    buffers: dict[Function, Any] = {}
    owned: set[Function] = set()  # buffers the engine allocated, safe to add into in place
    root_nodes: list[Function] = []
    for tensor, grad in zip(roots, root_grads):
        node = tensor._node
        if node is None:
            deliver_to_leaf(tensor, grad)
            continue
        if node in buffers:
            buffers[node] = buffers[node] + grad
            owned.add(node)
        else:
            buffers[node] = grad
            root_nodes.append(node)

    deps = _count_dependencies(root_nodes)
    ready = [n for n in root_nodes if deps.get(n, 0) == 0]
    with no_grad():
        while ready:
            node = ready.pop()
            grad = buffers.pop(node)
            owned.discard(node)
            node.check_versions()
            if node.hooks:
                for hook in node.hooks:
                    replaced = hook(Tensor._make(grad, False, None))
                    if replaced is not None:
                        grad = replaced._data
            if node.retained is not None and capture_ids is None:
                retained = node.retained()
                if retained is not None:
                    leaves.add(retained, grad)
            if capture_nodes and id(node) in capture_nodes:
                captured[id(capture_nodes[id(node)])] = grad
            grads = type(node).backward(node, grad)
            if type(grads) is not tuple:
                grads = (grads,)
            if state.anomaly:
                check_backward_finite(node, grads)
            del grad
            parents = node.next_nodes
            if not retain_graph:
                node.release()
            for parent, g in zip(parents, grads):
                if parent is None or g is None:
                    continue
                if not isinstance(parent, Function):
                    deliver_to_leaf(parent, g)
                    continue
                if parent in buffers:
                    if parent in owned:
                        buffers[parent] += g
                    else:
                        buffers[parent] = buffers[parent] + g
                        owned.add(parent)
                else:
                    buffers[parent] = g
                deps[parent] -= 1
                if deps[parent] == 0:
                    ready.append(parent)
    if capture is None:
        return None
    return [captured.get(id(t)) for t in capture]
