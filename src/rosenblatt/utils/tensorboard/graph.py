"""`add_graph`: the autograd graph of one forward pass as a TensorBoard `GraphDef`.

Forward runs in eval mode (as PyTorch traces it: BatchNorm's running statistics are left
alone) with the input requiring grad, so every op leaves a node; the graph is walked back
from the outputs. Each op node is named inside the innermost module whose forward made it
(`Net/fc1/Linear_3`), so TensorBoard folds the graph by module; parameters appear as inputs
named after their state-dict key.
"""

from __future__ import annotations

from typing import Any

import rosenblatt as rb
from rosenblatt.inspect.summary import _tensors


def _walk(start: list[Any], stop: set[int]) -> list[Any]:
    """The op nodes reachable from `start` without passing the nodes in `stop` (leaf
    tensors, which end each path, are left out)."""
    seen: set[int] = set()
    order, stack = [], [n for n in start if n is not None]
    while stack:
        node = stack.pop()
        if id(node) in seen or id(node) in stop or isinstance(node, rb.Tensor):
            continue
        seen.add(id(node))
        order.append(node)
        stack += [n for n in getattr(node, "next_nodes", ()) if n is not None]
    return order


def graph_def(model: Any, inputs: Any) -> Any:
    """Run `model(*inputs)` once and return its graph (a GraphDef protobuf)."""
    from tensorboard.compat.proto.graph_pb2 import GraphDef
    from tensorboard.compat.proto.node_def_pb2 import NodeDef
    from tensorboard.compat.proto.versions_pb2 import VersionDef

    inputs = list(inputs) if isinstance(inputs, (tuple, list)) else [inputs]
    inputs = [x.detach().requires_grad_() if isinstance(x, rb.Tensor) and x.is_floating_point()
              else x for x in inputs]
    root = type(model).__name__
    scope: dict[int, str] = {}  # node id -> module path
    handles = []

    def hook(module: Any, args: Any, output: Any, path: str) -> None:
        stop = {id(t.grad_fn) for t in _tensors(args) if t.grad_fn is not None}
        for node in _walk([t.grad_fn for t in _tensors(output)], stop):
            scope.setdefault(id(node), path)  # inner modules finish first: innermost wins

    for name, module in model.named_modules():
        if name:
            path = f"{root}/{name.replace('.', '/')}"
            handles.append(module.register_forward_hook(
                lambda m, a, o, path=path: hook(m, a, o, path)))
    was_training = model.training
    model.eval()
    try:
        with rb.enable_grad():
            outputs = model(*inputs)
    finally:
        model.train(was_training)
        for handle in handles:
            handle.remove()

    names: dict[int, str] = {}
    params = {id(p): f"{root}/{n.replace('.', '/')}" for n, p in model.named_parameters()}
    for i, x in enumerate(inputs):
        if isinstance(x, rb.Tensor):
            names[id(x)] = f"input/input.{i}"
    nodes = []
    graph_nodes = _walk([t.grad_fn for t in _tensors(outputs)], set())
    for i, node in enumerate(reversed(graph_nodes)):
        op = node.name.removesuffix("Backward")
        names[id(node)] = f"{scope.get(id(node), root)}/{op}_{i}"
    for node in reversed(graph_nodes):
        ins = []
        for j, n in enumerate(getattr(node, "next_nodes", ())):
            if n is None:
                continue
            if id(n) not in names:  # a leaf tensor: a parameter or a captured constant
                names[id(n)] = params.get(id(n), f"{names[id(node)]}/input.{j}")
                nodes.append(NodeDef(name=names[id(n)], op="Parameter"
                                     if id(n) in params else "Constant"))
            ins.append(names[id(n)])
        nodes.append(NodeDef(name=names[id(node)], op=node.name.removesuffix("Backward"),
                             input=ins))
    nodes += [NodeDef(name=names[id(x)], op="Input") for x in inputs
              if isinstance(x, rb.Tensor) and id(x) in names]
    for k, t in enumerate(_tensors(outputs)):
        if t.grad_fn is not None:
            nodes.append(NodeDef(name=f"output/output.{k}", op="Output",
                                 input=[names[id(t.grad_fn)]]))
    return GraphDef(node=nodes, versions=VersionDef(producer=22))
