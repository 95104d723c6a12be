"""`rosenblatt.summary`: what a network costs, layer by layer.

A real forward pass with forward hooks records each layer's output shape; from the module
itself come its parameters and their bytes; multiply-adds come from a small registry of rules
keyed by module class (`register_macs`), so each layer family adds its own rule. Totals are
given for inference and for one training step with a named optimizer.

Multiply-adds count the products of matrix products and convolutions, per input sample
(bias additions, activations, norms and pooling count 0).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Sequence

import rosenblatt as rb

MacRule = Callable[[Any, tuple, Any], int]
MAC_RULES: dict[Any, MacRule] = {}


def register_macs(*classes: Any) -> Callable[[MacRule], MacRule]:
    """Register `rule(module, inputs, output) -> multiply-adds of that call (whole batch)`.

    Keys are module classes or class names (a name needs no import of the layer's module).
    The most specific class in the module's MRO with a rule wins.
    """
    def decorate(rule: MacRule) -> MacRule:
        for cls in classes:
            MAC_RULES[cls] = rule
        return rule
    return decorate


def mac_rule(module: Any) -> MacRule | None:
    """The rule for this module's class (or a base class), None when it has none."""
    for cls in type(module).__mro__:
        rule = MAC_RULES.get(cls) or MAC_RULES.get(cls.__name__)
        if rule is not None:
            return rule
    return None


def _numel(x: Any) -> int:
    return int(math.prod(x.shape))


@register_macs("Linear", "LazyLinear", "NonDynamicallyQuantizableLinear")
def _linear_macs(m: Any, inputs: tuple, out: Any) -> int:
    return _numel(out) * int(m.in_features)


@register_macs("Bilinear")
def _bilinear_macs(m: Any, inputs: tuple, out: Any) -> int:
    return _numel(out) * int(m.in1_features) * int(m.in2_features)


def _kernel_volume(m: Any) -> int:
    k = m.kernel_size
    return int(math.prod(k)) if isinstance(k, (tuple, list)) else int(k)


@register_macs("Conv1d", "Conv2d", "Conv3d")
def _conv_macs(m: Any, inputs: tuple, out: Any) -> int:
    """Output elements x kernel volume x input channels per group."""
    return _numel(out) * _kernel_volume(m) * (int(m.in_channels) // int(m.groups))


@register_macs("ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d")
def _conv_transpose_macs(m: Any, inputs: tuple, out: Any) -> int:
    """Every input element is spread over a kernel for each output channel of its group."""
    return _numel(inputs[0]) * _kernel_volume(m) * (int(m.out_channels) // int(m.groups))


_GATES = {"RNN": 1, "LSTM": 4, "GRU": 3, "RNNCell": 1, "LSTMCell": 4, "GRUCell": 3}


def _gates(m: Any) -> int:
    for cls in type(m).__mro__:
        if cls.__name__ in _GATES:
            return _GATES[cls.__name__]
    return 1


@register_macs("RNN", "LSTM", "GRU")
def _rnn_macs(m: Any, inputs: tuple, out: Any) -> int:
    """Per time step, layer and direction: gates x hidden x (layer input + hidden)."""
    x = inputs[0]
    steps_x_batch = _numel(x) // int(x.shape[-1])
    hidden, dirs = int(m.hidden_size), 2 if m.bidirectional else 1
    total = 0
    for layer in range(int(m.num_layers)):
        width = int(m.input_size) if layer == 0 else hidden * dirs
        total += dirs * _gates(m) * hidden * (width + hidden)
    return steps_x_batch * total


@register_macs("RNNCell", "LSTMCell", "GRUCell")
def _cell_macs(m: Any, inputs: tuple, out: Any) -> int:
    x = inputs[0]
    batch = int(x.shape[0]) if x.ndim == 2 else 1
    return batch * _gates(m) * int(m.hidden_size) * (int(m.input_size) + int(m.hidden_size))


@register_macs("MultiheadAttention")
def _attention_macs(m: Any, inputs: tuple, out: Any) -> int:
    """Projections of query, key, value and output, plus scores and weighted sums."""
    q = inputs[0]
    k = inputs[1] if len(inputs) > 1 else q
    e = int(m.embed_dim)
    kdim, vdim = int(getattr(m, "kdim", e)), int(getattr(m, "vdim", e))
    seq_axis = 1 if getattr(m, "batch_first", False) and q.ndim == 3 else 0
    batch = int(q.shape[1 - seq_axis]) if q.ndim == 3 else 1
    lq, lk = int(q.shape[seq_axis]), int(k.shape[seq_axis])
    per_batch = lq * e * e + lk * e * (kdim + vdim) + 2 * lq * lk * e + lq * e * e
    return batch * per_batch


# --------------------------------------------------------------------- optimizers
def optimizer_state_copies(optimizer: Any) -> tuple[str, int]:
    """(name, copies of the parameters the optimizer keeps): Adam 2, SGD with momentum 1."""
    if optimizer is None:
        return "none", 0
    if isinstance(optimizer, str):
        key = optimizer.lower().replace("-", "_")
        table = {"sgd": ("SGD", 0), "sgd_momentum": ("SGD with momentum", 1),
                 "adam": ("Adam", 2), "adamw": ("AdamW", 2), "rmsprop": ("RMSprop", 1),
                 "adagrad": ("Adagrad", 1), "none": ("none", 0)}
        if key not in table:
            raise ValueError(f"summary: unknown optimizer {optimizer!r}; "
                             f"choose one of {sorted(table)} or pass an Optimizer")
        return table[key]
    name = type(optimizer).__name__
    group = optimizer.param_groups[0] if getattr(optimizer, "param_groups", None) else {}
    if name in ("Adam", "AdamW"):
        return name, 3 if group.get("amsgrad") else 2
    if name == "SGD":
        momentum = group.get("momentum", 0) or 0
        return ("SGD with momentum", 1) if momentum else ("SGD", 0)
    if name == "RMSprop":
        return name, 1 + bool(group.get("momentum")) + bool(group.get("centered"))
    if name == "Adagrad":
        return name, 1
    return name, 2  # unknown: assume Adam-like


# ------------------------------------------------------------------------ result
@dataclass
class LayerSummary:
    """One row: a layer call with its output shape and costs (bytes at the run's dtypes)."""

    name: str
    type: str
    depth: int
    input_shape: list
    output_shape: list
    params: int
    trainable_params: int
    param_bytes: int
    macs: int  # per input sample
    activation_bytes: int  # this layer's output, for the whole batch
    sparsity: float = 0.0  # fraction of its parameters that are zero (pruned weights masked)


@dataclass
class ModelSummary:
    """The table and the numbers of `rosenblatt.summary`; `str()` gives the table."""

    model_name: str
    input_size: list
    batch_size: int
    dtypes: list
    layers: list = field(default_factory=list)
    total_params: int = 0
    trainable_params: int = 0
    param_bytes: int = 0
    buffer_bytes: int = 0
    macs: int = 0  # multiply-adds per input sample
    input_bytes: int = 0
    activation_bytes: int = 0  # all layer outputs for the batch (what backward keeps)
    optimizer: str = "Adam"
    optimizer_copies: int = 2
    gradient_bytes: int = 0
    optimizer_bytes: int = 0
    inference_bytes: int = 0
    training_bytes: int = 0

    @property
    def total_macs(self) -> int:
        """Multiply-adds for the whole batch."""
        return self.macs * self.batch_size

    def to_dict(self) -> dict:
        """All numbers, and the layers as dicts (JSON-able)."""
        return asdict(self)

    def __str__(self) -> str:
        return _table(self)

    def __repr__(self) -> str:
        return _table(self)


def _fmt_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.2f} {unit}"
        n /= 1024
    return f"{n:.2f} GiB"


def _table(s: ModelSummary) -> str:
    top = min((layer.depth for layer in s.layers), default=0)
    sparse = any(layer.sparsity for layer in s.layers)  # the column only for pruned models
    rows = [("Layer (type)", "Output shape", "Param #", "Param bytes", "Mult-adds",
             "Activations") + (("Sparsity",) if sparse else ())]
    for layer in s.layers:
        rows.append((
            "  " * (layer.depth - top) + f"{layer.name} ({layer.type})",
            str(layer.output_shape), f"{layer.params:,}", f"{layer.param_bytes:,}",
            f"{layer.macs:,}", _fmt_bytes(layer.activation_bytes),
        ) + (((f"{layer.sparsity:.1%}" if layer.params else "-"),) if sparse else ()))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    line = "=" * (sum(widths) + 2 * (len(widths) - 1))

    def fmt(r: tuple) -> str:
        return "  ".join([r[0].ljust(widths[0]), r[1].ljust(widths[1])]
                         + [c.rjust(w) for c, w in zip(r[2:], widths[2:])])

    dtype_names = ", ".join(str(d).replace("rosenblatt.", "") for d in s.dtypes)
    copies = "copy" if s.optimizer_copies == 1 else "copies"
    opt = f"{s.optimizer} ({s.optimizer_copies} state {copies})"
    out = [f"{s.model_name}: input {s.input_size} x batch {s.batch_size} ({dtype_names})", line,
           fmt(rows[0]), line] + [fmt(r) for r in rows[1:]] + [line]
    out += [
        f"Total params:          {s.total_params:,} ({s.trainable_params:,} trainable)",
        f"Parameter bytes:       {s.param_bytes:,} ({_fmt_bytes(s.param_bytes)})",
        f"Mult-adds per input:   {s.macs:,} ({s.macs / 1e6:.2f} M); "
        f"batch of {s.batch_size}: {s.total_macs:,}",
        f"Input bytes:           {s.input_bytes:,} ({_fmt_bytes(s.input_bytes)})",
        f"Activations (batch):   {s.activation_bytes:,} ({_fmt_bytes(s.activation_bytes)})",
        line,
        f"Inference memory:      {_fmt_bytes(s.inference_bytes)} "
        "(parameters + buffers + input + the largest layer's input and output)",
        f"Training step memory:  {_fmt_bytes(s.training_bytes)} with {opt}",
        f"  = parameters {_fmt_bytes(s.param_bytes)} + gradients {_fmt_bytes(s.gradient_bytes)}"
        f" + optimizer state {_fmt_bytes(s.optimizer_bytes)}",
        f"  + activations {_fmt_bytes(s.activation_bytes)} + input {_fmt_bytes(s.input_bytes)}"
        + (f" + buffers {_fmt_bytes(s.buffer_bytes)}" if s.buffer_bytes else ""),
    ]
    return "\n".join(out)


# ------------------------------------------------------------------------ the run
def _tensors(obj: Any) -> list:
    """All tensors in a (nested) output: tensors, tuples, lists, dicts."""
    if isinstance(obj, rb.Tensor):
        return [obj]
    if isinstance(obj, (tuple, list)):
        return [t for o in obj for t in _tensors(o)]
    if isinstance(obj, dict):
        return [t for o in obj.values() for t in _tensors(o)]
    return []


def _shape(obj: Any) -> list:
    ts = _tensors(obj)
    if len(ts) == 1:
        return list(ts[0].shape)
    return [list(t.shape) for t in ts]


def _rows_of(model: Any) -> dict:
    """The modules shown as rows: with a MAC rule (subtree hidden), leaves, or own params."""
    shown: dict = {}
    hidden: set = set()
    for name, module in model.named_modules():
        if id(module) in hidden:
            continue
        has_rule = mac_rule(module) is not None
        is_leaf = not any(True for _ in module.children())
        own = any(True for _ in module.parameters(recurse=False))
        if has_rule or is_leaf or (own and name):
            shown[id(module)] = (name or type(module).__name__, name.count(".") if name else 0)
        if has_rule:
            hidden.update(id(m) for m in module.modules() if m is not module)
    return shown


def _make_inputs(input_size: Any, batch_size: int, dtypes: Any, device: Any) -> tuple:
    sizes = [input_size] if input_size and isinstance(input_size[0], int) else list(input_size)
    if dtypes is None:
        dtypes = [rb.get_default_dtype()] * len(sizes)
    elif not isinstance(dtypes, (list, tuple)):
        dtypes = [dtypes] * len(sizes)
    if len(dtypes) != len(sizes):
        raise ValueError(f"summary: {len(sizes)} input sizes but {len(dtypes)} dtypes")
    inputs = []
    for size, dtype in zip(sizes, dtypes):
        shape = (batch_size, *[int(d) for d in size])
        if dtype.is_floating_point:
            inputs.append(rb.randn(*shape, dtype=dtype, device=device))
        else:  # indices (embeddings): zeros are valid for any vocabulary
            inputs.append(rb.zeros(*shape, dtype=dtype, device=device))
    return tuple(inputs), [list(s) for s in sizes], list(dtypes)


def summary(
    model: Any,
    input_size: Sequence[int] | Sequence[Sequence[int]] | None = None,
    batch_size: int = 1,
    dtypes: Any = None,
    optimizer: Any = "adam",
    input_data: Any = None,
    device: Any = None,
) -> ModelSummary:
    """Per-layer output shape, parameters, bytes, multiply-adds and activation memory.

    input_size: one sample's shape without the batch dimension, e.g. (784,) or (1, 28, 28),
        or a list of shapes for a model with several inputs. `input_data` (tensors with the
        batch dimension) may be given instead.
    batch_size: the batch used for shapes and activation memory (multiply-adds are per input).
    dtypes: dtype of each input (default: the default float dtype; integer inputs are zeros).
    optimizer: for the training-step total: 'adam', 'adamw', 'sgd', 'sgd_momentum',
        'rmsprop', 'adagrad', 'none' or an Optimizer instance.
    """
    params = list(model.parameters())
    if device is None:
        device = params[0].device if params else "cpu"
    if input_data is not None:
        inputs = tuple(input_data) if isinstance(input_data, (tuple, list)) else (input_data,)
        batch_size = int(inputs[0].shape[0])
        sizes = [list(x.shape[1:]) for x in inputs]
        dtype_list = [x.dtype for x in inputs]
    elif input_size is None:
        raise ValueError("summary: give input_size (one sample's shape) or input_data")
    else:
        rng_state = rb.get_rng_state()
        inputs, sizes, dtype_list = _make_inputs(input_size, batch_size, dtypes, device)
        rb.set_rng_state(rng_state)
    opt_name, copies = optimizer_state_copies(optimizer)
    result = ModelSummary(type(model).__name__, sizes if len(sizes) > 1 else sizes[0],
                          batch_size, dtype_list, optimizer=opt_name, optimizer_copies=copies)
    layers, peak = _run(model, inputs, batch_size)
    result.layers = layers

    result.total_params = sum(p.numel() for p in params)
    result.trainable_params = sum(p.numel() for p in params if p.requires_grad)
    result.param_bytes = sum(p.numel() * p.element_size() for p in params)
    result.buffer_bytes = sum(b.numel() * b.element_size() for b in model.buffers())
    result.macs = sum(layer.macs for layer in layers)
    result.input_bytes = sum(x.numel() * x.element_size() for x in inputs)
    result.activation_bytes = sum(layer.activation_bytes for layer in layers)
    result.gradient_bytes = sum(p.numel() * p.element_size() for p in params if p.requires_grad)
    result.optimizer_bytes = copies * result.gradient_bytes
    fixed = result.param_bytes + result.buffer_bytes + result.input_bytes
    result.inference_bytes = fixed + peak
    result.training_bytes = (fixed + result.gradient_bytes + result.optimizer_bytes
                             + result.activation_bytes)
    return result


def _run(model: Any, inputs: tuple, batch_size: int) -> tuple[list, int]:
    """Forward once with hooks; the rows and the peak of one layer's input + output bytes."""
    shown = _rows_of(model)
    modules = {id(m): m for m in model.modules()}
    layers: list[LayerSummary] = []
    counted: set = set()
    peak = [0]

    def hook(module: Any, args: tuple, output: Any) -> None:
        name, depth = shown[id(module)]
        rule = mac_rule(module)
        macs = rule(module, args, output) if rule is not None else 0
        own = [] if id(module) in counted else _own_params(module)
        counted.add(id(module))
        out_bytes = sum(t.numel() * t.element_size() for t in _tensors(output))
        in_bytes = sum(t.numel() * t.element_size() for t in _tensors(args))
        peak[0] = max(peak[0], in_bytes + out_bytes)
        layers.append(LayerSummary(
            name=name, type=type(module).__name__, depth=depth,
            input_shape=_shape(args), output_shape=_shape(output),
            params=sum(p.numel() for p in own),
            trainable_params=sum(p.numel() for p in own if p.requires_grad),
            param_bytes=sum(p.numel() * p.element_size() for p in own),
            macs=macs // max(batch_size, 1), activation_bytes=out_bytes,
            sparsity=_sparsity(module, own),
        ))

    handles = [modules[key].register_forward_hook(hook) for key in shown]
    modes = {key: m.training for key, m in modules.items()}
    rng_state = rb.get_rng_state()
    try:
        model.eval()
        with rb.no_grad():
            model(*inputs)
    finally:
        for h in handles:
            h.remove()
        for key, m in modules.items():
            m.training = modes[key]
        rb.set_rng_state(rng_state)
    return layers, peak[0]


def _own_params(module: Any) -> list:
    """Parameters of this row: its whole subtree when it has a MAC rule, else its own only."""
    has_children = any(True for _ in module.children())
    if has_children and mac_rule(module) is None:
        return list(module.parameters(recurse=False))
    return list(module.parameters())


def _sparsity(module: Any, own: list) -> float:
    """The fraction of zeros in a row's parameters; a pruned `w_orig` counts as `w` (masked)."""
    masked = {}
    for sub in module.modules():
        for name, p in sub.named_parameters(recurse=False):
            if name.endswith("_orig") and isinstance(sub.__dict__.get(name[:-5]), rb.Tensor):
                masked[id(p)] = sub.__dict__[name[:-5]]
    total = sum(p.numel() for p in own)
    zeros = sum(int((masked.get(id(p), p) == 0).sum()) for p in own)
    return zeros / total if total else 0.0
