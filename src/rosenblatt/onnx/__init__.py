"""`torch.onnx`: export a model to ONNX, with PyTorch's `export` signature.

Approach: op-level tracing, as onnx-chainer. The model runs once on the example inputs while
every op application (`Function.apply`) is recorded with its parameters (see `_graph`); each
recorded op is then converted by a converter keyed by its Function class (`converters`).
Op-level rather than per-layer converters because models mix layers with tensor code (a
ResNet's residual `out + identity`, `x.flatten(1)`, `F.relu`), which a per-layer exporter
cannot see; the layers themselves come out as their ONNX ops anyway (Linear -> Gemm,
Conv2d -> Conv, BatchNorm -> BatchNormalization, LSTM/GRU/RNN -> ONNX's recurrent ops...).
Ops that do not depend on the inputs are folded into constants. With dynamic axes, a second
trace with each dynamic axis grown by its own amount shows which sizes follow which axis
(reshape targets, indices from the end, position ranges, the causal mask), so a traced graph
also runs at other batch sizes and sequence lengths. Needs the `export` extra (onnx).
"""

from __future__ import annotations

from typing import Any

from ._graph import UnsupportedOperatorError

__all__ = ["export", "is_in_onnx_export", "UnsupportedOperatorError"]

_exporting = False


def _require_onnx() -> Any:
    try:
        import onnx
    except ImportError:
        raise ImportError("torch.onnx.export needs the onnx package: "
                          "pip install 'rosenblatt[export]'") from None
    return onnx


def _tensors(value: Any) -> list:
    """The tensors of an output: a tensor, or a (nested) tuple/list of them."""
    from ..autograd.tensor import Tensor

    if isinstance(value, Tensor):
        return [value]
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in _tensors(v)]
    raise TypeError(f"torch.onnx.export: model outputs must be tensors, got "
                    f"{type(value).__name__}")


def _names(given: Any, count: int, default: str) -> list[str]:
    given = list(given or [])
    return given[:count] + [f"{default}.{i}" if i else default for i in range(len(given), count)]


def _value_info(name: str, tensor: Any, axes: Any) -> Any:
    """A graph input/output declaration; `axes` ({axis: dim_param}) become dim_params."""
    from onnx import helper

    axes = {int(a) % max(tensor.ndim, 1): n for a, n in (axes or {}).items()}
    dims = [axes.get(i, int(s)) for i, s in enumerate(tensor.shape)]
    dtype = helper.np_dtype_to_tensor_dtype(tensor.detach().numpy().dtype)
    return helper.make_tensor_value_info(name, dtype, dims)


def export(model: Any, args: Any, f: Any = None, *, input_names: Any = None,
           output_names: Any = None, dynamic_axes: Any = None, opset_version: int | None = 17,
           export_params: bool = True, do_constant_folding: bool = True,
           verbose: bool = False, **kwargs: Any) -> Any:
    """Trace `model(*args)` into an ONNX graph saved to `f` (a path or binary file).

    `args`: a tensor or tuple of tensors (example inputs; a trailing dict is keyword
    arguments). Without `f`, returns the onnx ModelProto. The model is traced in eval mode.
    """
    onnx = _require_onnx()
    from onnx import helper

    from . import converters, quantized  # noqa: F401 - registers the converters
    from ._graph import Graph, needed

    opset = 17 if opset_version is None else int(opset_version)
    if opset < 17:
        raise ValueError(f"torch.onnx.export: opset_version must be 17 or newer, got {opset}")
    if not export_params:
        raise NotImplementedError("torch.onnx.export: export_params=False is not supported")
    call_args = args if isinstance(args, tuple) else (args,)
    call_kwargs: dict = {}
    if call_args and isinstance(call_args[-1], dict):
        call_args, call_kwargs = call_args[:-1], call_args[-1]
    inputs = _tensors(list(call_args) + list(call_kwargs.values()))
    known = {}
    for name, t in list(model.named_parameters()) + list(model.named_buffers()):
        known.setdefault(id(t), name)
    in_names = _names(input_names, len(inputs), "input")
    dynamic_axes = {name: _axes(name, axes) for name, axes in (dynamic_axes or {}).items()}
    # each dynamic axis of an input grows by its own amount in a second trace, so that every
    # size that follows it (a reshape target, an index from the end, a position range) is
    # told apart from the fixed ones and from the other axes'
    growth = [(name, axis, int(t.shape[axis]), k + 1) for k, (t, name, axis) in enumerate(
        (t, n, a) for t, n in zip(inputs, in_names) for a in dynamic_axes.get(n, {}))]
    tape, result = _trace(model, call_args, call_kwargs)
    outputs = _tensors(result)
    graph = Graph(known, opset)
    graph.dims = growth
    if growth:
        _pair(graph, tape, inputs, _trace(model, *_grown(call_args, call_kwargs, inputs,
                                                          in_names, growth))[0])
    out_names = _names(output_names, len(outputs), "output")
    for t, name in zip(inputs, in_names):
        graph.values[id(t)] = name
        graph.produced.add(id(t))
    for step in needed(tape, outputs, inputs):
        graph.emit(step)
    nodes = list(graph.nodes)
    for t, name in zip(outputs, out_names):  # name the outputs as asked
        nodes.append(helper.make_node("Identity", [graph.value(t)], [name]))
    used = {name for node in nodes for name in node.input}  # converters may skip an input
    for name in used & set(graph.poisoned):
        raise RuntimeError(graph.poisoned[name])
    proto = helper.make_model(
        helper.make_graph(
            nodes, type(model).__name__,
            [_value_info(n, t, dynamic_axes.get(n)) for t, n in zip(inputs, in_names)],
            [_value_info(n, t, dynamic_axes.get(n)) for t, n in zip(outputs, out_names)],
            initializer=[t for n, t in graph.initializers.items() if n in used]),
        opset_imports=[helper.make_opsetid("", opset)], producer_name="rosenblatt")
    onnx.checker.check_model(proto)
    if verbose:
        print(helper.printable_graph(proto.graph))
    if f is None:
        return proto
    onnx.save_model(proto, f)
    return None


def _axes(name: str, axes: Any) -> dict:
    """dynamic_axes' value for one name ({axis: name} or [axis]) as {axis: dim_param}."""
    if isinstance(axes, dict):
        return {int(a): str(n) for a, n in axes.items()}
    return {int(a): f"{name}_dynamic_axes_{i + 1}" for i, a in enumerate(axes)}


def _trace(model: Any, args: tuple, kwargs: dict) -> tuple[list, Any]:
    """(tape, output) of one run of the model in eval mode, recording every op."""
    global _exporting
    import rosenblatt as rb

    from ._graph import CONVERTERS, Step, recording

    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    _exporting = True
    handles = []
    try:
        with rb.enable_grad(), recording() as tape:
            def record(module: Any, args: tuple, out: Any) -> None:
                # layers converted whole (int8 layers compute outside the ops)
                if all(out is not a for a in args):
                    tape.append(Step(type(module), tuple(args), {"module": module}, out))
            handles = [m.register_forward_hook(record) for m in model.modules()
                       if type(m) in CONVERTERS]
            result = model(*args, **kwargs)
    finally:
        _exporting = False
        for h in handles:
            h.remove()
        for m, mode in modes:
            m.training = mode
    return tape, result


def _grown(args: tuple, kwargs: dict, inputs: list, names: list, growth: list) -> tuple:
    """The example inputs with each dynamic axis longer by its growth (entries repeated)."""
    import rosenblatt as rb
    from rosenblatt._backend import np

    bigger = {}
    for t, name in zip(inputs, names):
        a = np.asarray(t.detach().numpy())
        for input_name, axis, size, more in growth:
            if input_name == name:
                a = np.take(a, np.arange(size + more) % max(size, 1), axis=axis)
        bigger[id(t)] = rb.as_tensor(np.ascontiguousarray(a)).to(t.device)

    def swap(v: Any) -> Any:
        if isinstance(v, (tuple, list)):
            return type(v)(swap(x) for x in v)
        return bigger.get(id(v), v)

    return swap(args), {k: swap(v) for k, v in kwargs.items()}


def _pair(graph: Any, tape: list, inputs: list, grown: list) -> None:
    """Link each traced step and tensor to its twin in the trace with grown axes."""
    if [s.op for s in tape] != [s.op for s in grown]:
        raise RuntimeError("torch.onnx.export: the model runs different ops when a dynamic "
                           "axis changes size (control flow on the input's shape); export with "
                           "static axes")
    for step, twin in zip(tape, grown):
        step.twin = twin
        graph.twins[id(step.output)] = twin.output
        for a, b in zip(step.inputs, twin.inputs):
            if a is not None and b is not None:
                graph.twins.setdefault(id(a), b)


def is_in_onnx_export() -> bool:
    """True while `export` is tracing a model."""
    return _exporting
