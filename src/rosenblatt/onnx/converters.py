"""ONNX converters, one per Rosenblatt op (Function class), as onnx-chainer keys them.

Each converter gets the graph, the traced step (op, input tensors, parameters, output) and
the value names of the inputs (None for an absent optional input), emits ONNX nodes and
returns the name of the op's output.
"""

from __future__ import annotations

from typing import Any

from .._backend import np
from ..ops import (
    activation,
    attention,
    conv,
    elementwise,
    fused,
    index,
    linalg,
    norm,
    pool,
    reduce,
    rnn,
    shape,
)
from ..ops.embedding import Embedding
from ._graph import Comparison, Graph, Logical, Step, UnsupportedOperatorError, converts

_UNARY = {
    elementwise.Neg: "Neg", elementwise.Exp: "Exp", elementwise.Log: "Log",
    elementwise.Sqrt: "Sqrt", elementwise.Abs: "Abs", elementwise.Sin: "Sin",
    elementwise.Cos: "Cos", elementwise.Tanh: "Tanh", elementwise.Sigmoid: "Sigmoid",
    elementwise.Relu: "Relu",
}
_BINARY = {
    elementwise.Add: "Add", elementwise.Sub: "Sub", elementwise.Mul: "Mul",
    elementwise.Div: "Div", elementwise.Pow: "Pow", elementwise.Maximum: "Max",
    elementwise.Minimum: "Min", linalg.MatMul: "MatMul",
}


@converts(*_UNARY)
def _unary(g: Graph, step: Step, names: list) -> str:
    return g.node(_UNARY[step.op], names[:1])


@converts(*_BINARY)
def _binary(g: Graph, step: Step, names: list) -> str:
    return g.node(_BINARY[step.op], names[:2])


@converts(elementwise.Rsqrt)
def _rsqrt(g: Graph, step: Step, names: list) -> str:
    return g.node("Reciprocal", [g.node("Sqrt", names[:1])])


@converts(activation.LeakyRelu)
def _leaky_relu(g: Graph, step: Step, names: list) -> str:
    return g.node("LeakyRelu", names[:1], alpha=float(step.params["slope"]))


@converts(activation.Elu)
def _elu(g: Graph, step: Step, names: list) -> str:
    alpha, scale = float(step.params["alpha"]), float(step.params.get("scale", 1.0))
    if scale == 1.0:
        return g.node("Elu", names[:1], alpha=alpha)
    # alpha (exp(scale x) - 1) below 0 (celu: scale 1 / alpha), spelled out
    dtype = step.output.detach().numpy().dtype
    x = names[0]
    scaled = g.node("Exp", [g.node("Mul", [x, g.const(np.array(scale, dtype))])])
    negative = g.node("Mul", [g.node("Sub", [scaled, g.const(np.array(1, dtype))]),
                              g.const(np.array(alpha, dtype))])
    return g.node("Where", [g.node("Greater", [x, g.const(np.array(0, dtype))]), x, negative])


@converts(activation.LogSigmoid)
def _logsigmoid(g: Graph, step: Step, names: list) -> str:
    # -softplus(-x): stable where log(sigmoid(x)) would underflow
    return g.node("Neg", [g.node("Softplus", [g.node("Neg", names[:1])])])


@converts(activation.Mish)
def _mish(g: Graph, step: Step, names: list) -> str:
    # ONNX's Mish needs opset 18: x tanh(softplus(x))
    return g.node("Mul", [names[0], g.node("Tanh", [g.node("Softplus", names[:1])])])


@converts(activation.Gelu)
def _gelu(g: Graph, step: Step, names: list) -> str:
    x = names[0]
    dtype = step.output.detach().numpy().dtype
    half, one = g.const(np.array(0.5, dtype)), g.const(np.array(1.0, dtype))
    if step.params["approximate"] == "tanh":  # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        cube = g.node("Mul", [x, g.node("Mul", [x, x])])
        inner = g.node("Add", [x, g.node("Mul", [cube, g.const(np.array(0.044715, dtype))])])
        scaled = g.node("Mul", [inner, g.const(np.array(np.sqrt(2 / np.pi), dtype))])
        gate = g.node("Add", [one, g.node("Tanh", [scaled])])
    else:  # 0.5 x (1 + erf(x / sqrt 2))
        erf = g.node("Erf", [g.node("Div", [x, g.const(np.array(np.sqrt(2.0), dtype))])])
        gate = g.node("Add", [one, erf])
    return g.node("Mul", [g.node("Mul", [x, half]), gate])


@converts(activation.Silu)
def _silu(g: Graph, step: Step, names: list) -> str:
    return g.node("Mul", [names[0], g.node("Sigmoid", names[:1])])


@converts(fused.Softmax, fused.LogSoftmax)
def _softmax(g: Graph, step: Step, names: list) -> str:
    op = "Softmax" if step.op is fused.Softmax else "LogSoftmax"
    return g.node(op, names[:1], axis=int(step.params["axis"]))


@converts(linalg.Linear)
def _linear(g: Graph, step: Step, names: list) -> str:
    x, w, b = names
    if step.inputs[0].ndim == 2:  # x W^T + b is exactly Gemm
        return g.node("Gemm", [x, w] + ([b] if b else []), transB=1)
    out = g.node("MatMul", [x, g.node("Transpose", [w], perm=[1, 0])])
    return g.node("Add", [out, b]) if b else out


@converts(conv.ConvNd)
def _conv(g: Graph, step: Step, names: list) -> str:
    p = step.params
    padding = p["padding"]
    pads = [int(a) for a, _ in padding] + [int(b) for _, b in padding]
    return g.node("Conv", [n for n in names if n], strides=list(p["stride"]), pads=pads,
                  dilations=list(p["dilation"]), group=int(p["groups"]))


def _ceil_mode(step: Step, dilation: tuple) -> int:
    """1 where the traced output is larger than floor-mode pooling gives (ceil_mode=True)."""
    p, size = step.params, step.inputs[0].shape[2:]
    floor = [(s + 2 * pad - d * (k - 1) - 1) // st + 1 for s, pad, d, k, st in
             zip(size, p["padding"], dilation, p["kernel"], p["stride"])]
    return int(tuple(p["out"]) != tuple(floor))


@converts(pool.MaxPoolNd)
def _max_pool(g: Graph, step: Step, names: list) -> str:
    p = step.params
    dilation = tuple(p["dilation"])
    return g.node("MaxPool", names[:1], kernel_shape=list(p["kernel"]),
                  strides=list(p["stride"]), pads=list(p["padding"]) * 2,
                  dilations=list(dilation), ceil_mode=_ceil_mode(step, dilation))


@converts(pool.AvgPoolNd)
def _avg_pool(g: Graph, step: Step, names: list) -> str:
    p = step.params
    divisor = np.asarray(p["divisor"])
    include_pad = int(bool(np.all(divisor == np.prod(p["kernel"]))))
    return g.node("AveragePool", names[:1], kernel_shape=list(p["kernel"]),
                  strides=list(p["stride"]), pads=list(p["padding"]) * 2,
                  count_include_pad=include_pad,
                  ceil_mode=_ceil_mode(step, (1,) * len(p["kernel"])))


@converts(pool.Separable2d)
def _separable(g: Graph, step: Step, names: list) -> str:
    # Mh @ x @ Mw^T (adaptive average pooling, interpolation): two broadcast MatMuls
    dtype = step.output.detach().numpy().dtype
    mh, mw = (np.asarray(step.params[k], dtype) for k in ("mh", "mw"))
    t = g.node("MatMul", [names[0], g.const(np.ascontiguousarray(mw.T), "mw")])
    return g.node("MatMul", [g.const(mh, "mh"), t])


@converts(norm.BatchNorm)
def _batch_norm(g: Graph, step: Step, names: list) -> str:
    p = step.params
    if p["batch_stats"]:
        raise RuntimeError("torch.onnx.export: BatchNorm in training mode (batch statistics) "
                           "cannot be exported; call model.eval() first")
    dtype = step.output.detach().numpy().dtype
    x, w, b = names
    c = step.inputs[0].shape[1]
    w = w or g.const(np.ones(c, dtype), "bn_scale")
    b = b or g.const(np.zeros(c, dtype), "bn_bias")
    # the op keeps 1/sqrt(var + eps); ONNX takes var and eps: var' = 1/invstd^2 with eps 0
    var = (1.0 / np.asarray(p["invstd"], np.float64) ** 2).astype(dtype)
    mean = np.asarray(p["mean"], dtype)
    return g.node("BatchNormalization", [x, w, b, g.const(mean, "bn_mean"),
                                         g.const(var, "bn_var")], epsilon=0.0)


@converts(norm.LayerNorm)
def _layer_norm(g: Graph, step: Step, names: list) -> str:
    x, w, b = names
    p = step.params
    if w is None:
        normalized = step.inputs[0].shape[-p["k"]:]
        w = g.const(np.ones(normalized, step.output.detach().numpy().dtype), "ln_scale")
    return g.node("LayerNormalization", [x, w] + ([b] if b else []), axis=-int(p["k"]),
                  epsilon=float(p["eps"]))


def _target_shape(step: Step) -> list:
    """The reshape target: a size kept from the input's same axis becomes 0 (copy), and
    with a second trace, the one size that follows a dynamic axis otherwise becomes -1."""
    target = [int(s) for s in step.output.shape]
    before = step.inputs[0].shape
    if step.twin is None:  # only the leading (batch) axis can be told apart
        if target and len(before) and before[0] == target[0]:
            target[0] = 0
        return target
    after, grown = step.output.shape, step.twin.output.shape
    grown_before = step.twin.inputs[0].shape
    for i, (a, b) in enumerate(zip(after, grown)):
        if a == b:
            continue
        kept = i < len(before) and before[i] == a and grown_before[i] == b
        target[i] = 0 if kept else -1
    if target.count(-1) > 1:
        raise RuntimeError(f"torch.onnx.export: reshape to {list(after)} merges several "
                           "dynamic axes; export with fewer dynamic axes")
    return target


def _only_ones_change(step: Step) -> bool:
    """Whether a reshape only adds or drops size-1 axes (in both traces)."""
    for s in (step, step.twin) if step.twin is not None else (step,):
        before, after = tuple(s.inputs[0].shape), tuple(s.output.shape)
        if before == after or [d for d in before if d != 1] != [d for d in after if d != 1]:
            return False
    return True


@converts(shape.Reshape)
def _reshape(g: Graph, step: Step, names: list) -> str:
    before, after = tuple(step.inputs[0].shape), tuple(step.output.shape)
    if _only_ones_change(step):
        # only size-1 dims come or go: Squeeze/Unsqueeze keep every other size dynamic
        x = names[0]
        ones = [i for i, d in enumerate(before) if d == 1]
        if ones:
            x = g.node("Squeeze", [x, g.const(np.array(ones, np.int64))])
        ones = [i for i, d in enumerate(after) if d == 1]
        return g.node("Unsqueeze", [x, g.const(np.array(ones, np.int64))]) if ones else x
    return g.node("Reshape", [names[0], g.const(np.array(_target_shape(step), np.int64))])


@converts(shape.Permute)
def _permute(g: Graph, step: Step, names: list) -> str:
    return g.node("Transpose", names[:1], perm=[int(d) for d in step.params["dims"]])


@converts(shape.Cat)
def _cat(g: Graph, step: Step, names: list) -> str:
    return g.node("Concat", [n for n in names if n], axis=int(step.params["axis"]))


@converts(Embedding)
def _embedding(g: Graph, step: Step, names: list) -> str:
    return g.node("Gather", [names[0], names[1]], axis=0)


def supported() -> list[str]:
    """Names of the ops the exporter converts."""
    from ._graph import CONVERTERS

    return sorted(op.__name__ for op in CONVERTERS)


__all__ = ["supported"]


def _is_constant_zero(g: Graph, tensor: Any) -> bool:
    """Whether a tensor is a traced constant (no graph input behind it) of zeros."""
    return id(tensor) not in g.produced and not np.any(tensor.detach().numpy())


_END = np.iinfo(np.int64).max  # a slice to the end of an axis, whatever its size


def _bound(value: int, axis: int, position: int, step: Step, part: int = 0) -> int:
    """An index (or a slice's start, part 0, or stop, part 1) as traced; counted from the
    end when it moved with a dynamic axis in the second trace (x[-1], x[:-1] of a sequence)."""
    if step.twin is None:
        return value
    size, grown = step.inputs[0].shape[axis], step.twin.inputs[0].shape[axis]
    item = step.twin.params["key"]
    item = (item if isinstance(item, tuple) else (item,))[position]
    other = item.indices(grown)[part] if isinstance(item, slice) else int(item) % grown
    if other == value or size == grown:
        return value
    if other - value != grown - size:
        raise RuntimeError("torch.onnx.export: an index moves with a dynamic axis in a way "
                           "ONNX cannot express; export with that axis static")
    return value - size


@converts(index.GetItem)
def _getitem(g: Graph, step: Step, names: list) -> str:
    key = step.params["key"]
    key = key if isinstance(key, tuple) else (key,)
    x, dims = names[0], step.inputs[0].shape
    starts, ends, axes, steps, squeeze, unsqueeze = [], [], [], [], [], []
    axis = out = 0  # the input axis an item indexes, the output axis it becomes
    for position, item in enumerate(key):
        if item is None:
            unsqueeze.append(out)
            out += 1
        elif item is Ellipsis:
            skipped = len(dims) - sum(1 for k in key if k is not None and k is not Ellipsis)
            axis, out = axis + skipped, out + skipped
        elif isinstance(item, (int, np.integer)):
            index = _bound(int(item) % dims[axis], axis, position, step)
            starts, ends, axes, steps = (starts + [index], ends + [index + 1 or _END],
                                         axes + [axis], steps + [1])
            squeeze.append(axis)
            axis += 1
        elif isinstance(item, slice):
            start, stop, stride = item.indices(dims[axis])
            if (start, stop, stride) != (0, dims[axis], 1):
                start = _bound(start, axis, position, step)
                stop = _END if stop == dims[axis] else _bound(stop, axis, position, step, 1)
                starts, ends, axes, steps = (starts + [start], ends + [stop], axes + [axis],
                                             steps + [stride])
            axis, out = axis + 1, out + 1
        else:
            raise UnsupportedOperatorError(
                f"torch.onnx.export: indexing with {type(item).__name__} has no ONNX "
                "converter in Rosenblatt")
    if starts:
        x = g.node("Slice", [x] + [g.const(np.array(v, np.int64)) for v in
                                   (starts, ends, axes, steps)])
    for op, where in (("Squeeze", squeeze), ("Unsqueeze", unsqueeze)):
        if where:
            x = g.node(op, [x, g.const(np.array(where, np.int64))])
    return x if x != names[0] else g.node("Identity", [x])


def _rows(w: Any, hidden: int, order: tuple) -> Any:
    """The gate blocks of a (k*H, ...) weight in another order, plus a direction axis."""
    return np.concatenate([w[k * hidden:(k + 1) * hidden] for k in order])[None]


_IOFC = (0, 3, 1, 2)  # PyTorch's LSTM gates (i, f, g, o) in ONNX's order (i, o, f, c)


@converts(rnn.LSTMLayer)
def _lstm(g: Graph, step: Step, names: list) -> str:
    x, h0, c0, w_ih, w_hh, b_ih, b_hh = step.inputs
    hidden = int(w_hh.shape[1])
    w, r, wb, rb_ = (None if t is None else _rows(np.asarray(t.detach().numpy()), hidden, _IOFC)
                     for t in (w_ih, w_hh, b_ih, b_hh))
    bias = "" if wb is None else g.const(np.concatenate([wb, rb_], axis=1), "lstm_b")
    states = []
    for t, name in ((h0, names[1]), (c0, names[2])):  # zero states stay implicit (any batch)
        states.append("" if _is_constant_zero(g, t) else
                      g.node("Unsqueeze", [name, g.const(np.array([0], np.int64))]))
    y, _, y_c = g.node(
        "LSTM", [names[0], g.const(w, "lstm_w"), g.const(r, "lstm_r"), bias, "", *states],
        outputs=3, hidden_size=hidden,
        direction="reverse" if step.params.get("reverse") else "forward")
    # the op's output: (T+1, B, H) = the hidden states by position, then the last cell state
    y = g.node("Squeeze", [y, g.const(np.array([1], np.int64))])
    return g.node("Concat", [y, y_c], axis=0)


@converts(attention.ScaledDotProductAttention)
def _attention(g: Graph, step: Step, names: list) -> str:
    q, k, v, mask = step.inputs
    p = step.params
    if p.get("dropout_p", 0.0):
        raise UnsupportedOperatorError("torch.onnx.export: attention dropout cannot be "
                                       "exported; call model.eval() first")
    dtype = step.output.detach().numpy().dtype
    perm = list(range(k.ndim - 2)) + [k.ndim - 1, k.ndim - 2]
    scores = g.node("MatMul", [names[0], g.node("Transpose", [names[1]], perm=perm)])
    scores = g.node("Mul", [scores, g.const(np.array(p.get("scale", 1.0), dtype))])
    if p.get("causal"):  # position t sees positions <= t: -inf above the diagonal
        shape = g.node("Shape", [scores], start=-2)  # any sequence length
        fill = g.numpy_helper.from_array(np.array([-np.inf], dtype), "value")
        blocked = g.node("Trilu", [g.node("ConstantOfShape", [shape], value=fill),
                                   g.const(np.array(1, np.int64))], upper=1)
        scores = g.node("Add", [scores, blocked])
    if mask is not None:
        m = mask.detach().numpy()
        if m.dtype == bool:
            if id(mask) in g.produced:
                raise UnsupportedOperatorError("torch.onnx.export: a boolean attention mask "
                                               "computed from the inputs is not supported")
            m = np.where(m, 0, -np.inf).astype(dtype)
            scores = g.node("Add", [scores, g.const(m)])
        else:
            scores = g.node("Add", [scores, names[3]])
    return g.node("MatMul", [g.node("Softmax", [scores], axis=-1), names[2]])


@converts(activation.Softplus)
def _softplus(g: Graph, step: Step, names: list) -> str:
    # ONNX's Softplus has no beta and no threshold: log(1 + exp(beta x)) / beta, and x itself
    # above the threshold (where the two agree to float32 precision anyway)
    p, dtype = step.params, step.output.detach().numpy().dtype
    beta = float(p["beta"])
    x = names[0] if beta == 1 else g.node("Mul", [names[0], g.const(np.array(beta, dtype))])
    out = g.node("Softplus", [x])
    out = out if beta == 1 else g.node("Div", [out, g.const(np.array(beta, dtype))])
    above = g.node("Greater", [x, g.const(np.array(p["threshold"], dtype))])
    return g.node("Where", [above, names[0], out])


@converts(elementwise.Clamp)
def _clamp(g: Graph, step: Step, names: list) -> str:
    dtype = step.output.detach().numpy().dtype
    bounds = ["" if v is None else g.const(np.array(v, dtype)) for v in
              (step.params["low"], step.params["high"])]
    return g.node("Clip", [names[0], *bounds])


@converts(reduce.Sum, reduce.Mean)
def _reduce(g: Graph, step: Step, names: list) -> str:
    op = "ReduceSum" if step.op is reduce.Sum else "ReduceMean"
    axes, keep = step.params["axes"], int(bool(step.params["keepdim"]))
    if axes is None:
        axes = tuple(range(step.inputs[0].ndim))
    axes = [int(a) for a in (axes if isinstance(axes, tuple) else (axes,))]
    if op == "ReduceSum" or g.opset >= 18:  # axes became an input (ReduceMean in opset 18)
        return g.node(op, [names[0], g.const(np.array(axes, np.int64))], keepdims=keep)
    return g.node(op, names[:1], axes=axes, keepdims=keep)


@converts(conv.ConvTranspose2d)
def _conv_transpose(g: Graph, step: Step, names: list) -> str:
    p = step.params
    return g.node("ConvTranspose", [n for n in names if n], strides=list(p["stride"]),
                  pads=list(p["padding"]) * 2, output_padding=list(p["output_padding"]),
                  dilations=list(p["dilation"]), group=int(p["groups"]))


@converts(rnn.GRULayer, rnn.RNNLayer)
def _gru_rnn(g: Graph, step: Step, names: list) -> str:
    x, h0, w_ih, w_hh, b_ih, b_hh = step.inputs
    hidden = int(w_hh.shape[1])
    gru = step.op is rnn.GRULayer
    order = (1, 0, 2) if gru else (0,)  # PyTorch's (r, z, n) as ONNX's (z, r, h)
    w, r, wb, rb_ = (None if t is None else _rows(np.asarray(t.detach().numpy()), hidden, order)
                     for t in (w_ih, w_hh, b_ih, b_hh))
    bias = "" if wb is None else g.const(np.concatenate([wb, rb_], axis=1), "rnn_b")
    state = "" if _is_constant_zero(g, h0) else g.node(
        "Unsqueeze", [names[1], g.const(np.array([0], np.int64))])
    attrs: dict = {"hidden_size": hidden,
                   "direction": "reverse" if step.params.get("reverse") else "forward"}
    if gru:
        attrs["linear_before_reset"] = 1  # PyTorch applies r after the hidden projection
    else:
        attrs["activations"] = ["Relu" if step.params.get("nonlinearity") == "relu" else "Tanh"]
    y, _ = g.node("GRU" if gru else "RNN", [names[0], g.const(w, "rnn_w"), g.const(r, "rnn_r"),
                                             bias, "", state], outputs=2, **attrs)
    return g.node("Squeeze", [y, g.const(np.array([1], np.int64))])


@converts(elementwise.Where)
def _where(g: Graph, step: Step, names: list) -> str:
    return g.node("Where", names[:3])


@converts(pool.AdaptiveMaxPool2d)
def _adaptive_max_pool(g: Graph, step: Step, names: list) -> str:
    size, out = step.inputs[0].shape[2:], step.output.shape[2:]
    if any(s % o for s, o in zip(size, out)):  # windows of unequal sizes: no one ONNX op
        raise UnsupportedOperatorError(
            f"torch.onnx.export: AdaptiveMaxPool2d from {list(size)} to {list(out)} (sizes "
            "that do not divide) has no ONNX converter in Rosenblatt")
    kernel = [int(s // o) for s, o in zip(size, out)]
    return g.node("MaxPool", names[:1], kernel_shape=kernel, strides=kernel)


@converts(activation.Hardswish)
def _hardswish(g: Graph, step: Step, names: list) -> str:
    return g.node("HardSwish", names[:1])  # x relu6(x + 3) / 6, as PyTorch


_COMPARISONS = {"__eq__": "Equal", "__lt__": "Less", "__le__": "LessOrEqual",
                "__gt__": "Greater", "__ge__": "GreaterOrEqual"}


@converts(Comparison)
def _comparison(g: Graph, step: Step, names: list) -> str:
    a, b = step.inputs
    if a.dtype != b.dtype:  # x > 0: the Python number takes the tensor's type
        const = 1 if id(a) in g.produced else 0
        names = list(names)
        names[const] = g.const(np.asarray(step.inputs[const].detach().numpy()).astype(
            step.inputs[1 - const].detach().numpy().dtype))
    if step.params["op"] == "__ne__":
        return g.node("Not", [g.node("Equal", names[:2])])
    return g.node(_COMPARISONS[step.params["op"]], names[:2])


@converts(Logical)
def _logical(g: Graph, step: Step, names: list) -> str:
    op = step.params["op"]
    return g.node("Not", names[:1]) if op == "not" else g.node(op.capitalize(), names[:2])


@converts(elementwise.Cast)
def _cast(g: Graph, step: Step, names: list) -> str:
    from onnx import helper

    to = helper.np_dtype_to_tensor_dtype(step.output.detach().numpy().dtype)
    return g.node("Cast", names[:1], to=to)
