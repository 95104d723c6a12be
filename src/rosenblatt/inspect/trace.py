"""`rosenblatt.trace`: one example through a network, step by step, for learners.

For every layer: its name, input and output shapes, and what it computed: for Linear and
convolution layers the weighted sums (pre-activations, z = W x + b), for activations their
outputs, each with statistics (min, max, mean, std, fraction of zeros: the neurons a ReLU
switched off). At the end, the output and (for a classifier) the softmax probabilities and the
predicted class. `print(trace)` shows it; the same numbers are attributes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import rosenblatt as rb
from rosenblatt._backend import np

from .summary import _rows_of, _tensors, mac_rule

ACTIVATIONS = {
    "ReLU", "ReLU6", "LeakyReLU", "PReLU", "ELU", "SELU", "CELU", "GELU", "SiLU", "Mish",
    "Sigmoid", "Tanh", "Hardtanh", "Hardsigmoid", "Hardswish", "Softplus", "Softsign",
    "Softmax", "LogSoftmax", "Threshold", "Tanhshrink", "Softshrink", "Hardshrink",
}


def _stats(a: Any) -> dict:
    a = np.asarray(a, dtype=np.float64)
    if a.size == 0:
        return {"min": 0.0, "max": 0.0, "mean": 0.0, "std": 0.0, "zeros": 0.0}
    return {"min": float(a.min()), "max": float(a.max()), "mean": float(a.mean()),
            "std": float(a.std()), "zeros": float((a == 0).mean())}


@dataclass
class TraceStep:
    """One layer applied to the example (shapes without the batch dimension)."""

    index: int
    name: str
    type: str
    kind: str  # 'weighted sums', 'activation' or 'other'
    input_shape: list
    output_shape: list
    values: Any  # the layer's output for this example (NumPy array)
    stats: dict
    description: str = ""

    def __str__(self) -> str:
        s = self.stats
        head = (f"{self.index:>2}. {self.name} ({self.type})  "
                f"{self.input_shape} -> {self.output_shape}")
        if self.description:
            head += f"  {self.description}"
        line = (f"      min {s['min']:.4g}  max {s['max']:.4g}  mean {s['mean']:.4g}  "
                f"std {s['std']:.4g}")
        if self.kind == "activation" or s["zeros"] > 0:
            line += f"  zeros {s['zeros']:.1%}"
            if self.type in ("ReLU", "ReLU6"):
                line += " (neurons switched off)"
        flat = np.asarray(self.values).reshape(-1)
        shown = np.array2string(flat[:8], precision=3, suppress_small=True, max_line_width=200)
        more = f" ... ({flat.size} values)" if flat.size > 8 else ""
        return "\n".join([head, line, f"      values {shown}{more}"])


@dataclass
class Trace:
    """The steps of one example through the model, its output and prediction."""

    model_name: str
    input_shape: list
    input_stats: dict
    steps: list = field(default_factory=list)
    output: Any = None  # the model's output for the example (NumPy)
    probabilities: Any = None  # softmax of the output, for a classifier
    prediction: int | None = None

    def to_dict(self) -> dict:
        """Plain data: shapes, statistics and values as lists."""
        return {
            "model": self.model_name, "input_shape": self.input_shape,
            "input_stats": self.input_stats,
            "steps": [{"index": s.index, "name": s.name, "type": s.type, "kind": s.kind,
                       "input_shape": s.input_shape, "output_shape": s.output_shape,
                       "stats": s.stats, "values": np.asarray(s.values).tolist()}
                      for s in self.steps],
            "output": None if self.output is None else np.asarray(self.output).tolist(),
            "probabilities": None if self.probabilities is None
            else np.asarray(self.probabilities).tolist(),
            "prediction": self.prediction,
        }

    def __str__(self) -> str:
        s = self.input_stats
        lines = [f"Tracing one example through {self.model_name}",
                 f" 0. input  {self.input_shape}",
                 f"      min {s['min']:.4g}  max {s['max']:.4g}  mean {s['mean']:.4g}  "
                 f"std {s['std']:.4g}  zeros {s['zeros']:.1%}"]
        lines += [str(step) for step in self.steps]
        if self.probabilities is not None:
            probs = np.asarray(self.probabilities)
            order = np.argsort(-probs)[:5]
            top = ", ".join(f"{i}: {probs[i]:.3f}" for i in order)
            lines.append(f"softmax probabilities (top {len(order)}): {top}")
            lines.append(f"predicted class: {self.prediction} "
                         f"(probability {probs[self.prediction]:.3f})")
        return "\n".join(lines)

    __repr__ = __str__


def _describe(module: Any, kind: str) -> str:
    name = type(module).__name__
    if name == "Linear":
        return (f"weighted sums z = W x + b, W {int(module.out_features)}x"
                f"{int(module.in_features)}")
    if kind == "weighted sums":
        return "weighted sums (pre-activation)"
    if name == "ReLU":
        return "max(0, z)"
    if name == "Softmax":
        return "exp(z) / sum exp(z)"
    return ""


def _kind(module: Any) -> str:
    names = {c.__name__ for c in type(module).__mro__}
    if mac_rule(module) is not None:
        return "weighted sums"
    if names & ACTIVATIONS:
        return "activation"
    return "other"


def _one(x: Any) -> Any:
    """The first example of a batched tensor as a NumPy array."""
    return np.asarray(x.detach().cpu().numpy()[0])


def trace(model: Any, x: Any, batched: bool = False) -> Trace:
    """Follow ONE example `x` (no batch dimension, as a dataset gives it) through `model`.

    With `batched=True`, x already has a batch dimension of size 1.
    """
    x = x if isinstance(x, rb.Tensor) else rb.as_tensor(x)
    if batched:
        if x.shape[0] != 1:
            raise ValueError(f"trace: follows one example; got a batch of {x.shape[0]}")
    else:
        x = x.unsqueeze(0)
    params = list(model.parameters())
    if params and x.is_floating_point():
        x = x.to(device=params[0].device, dtype=params[0].dtype)
    shown = _rows_of(model)
    modules = {id(m): m for m in model.modules()}
    steps: list[TraceStep] = []

    def hook(module: Any, args: tuple, output: Any) -> None:
        outs, ins = _tensors(output), _tensors(args)
        if not outs:
            return
        kind = _kind(module)
        values = _one(outs[0])
        steps.append(TraceStep(
            index=len(steps) + 1, name=shown[id(module)][0], type=type(module).__name__,
            kind=kind, input_shape=list(ins[0].shape[1:]) if ins else [],
            output_shape=list(values.shape), values=values, stats=_stats(values),
            description=_describe(module, kind),
        ))

    handles = [modules[key].register_forward_hook(hook) for key in shown]
    modes = {key: m.training for key, m in modules.items()}
    try:
        model.eval()
        with rb.no_grad():
            output = model(x)
    finally:
        for h in handles:
            h.remove()
        for key, m in modules.items():
            m.training = modes[key]
    result = Trace(type(model).__name__, list(x.shape[1:]), _stats(_one(x)), steps)
    outs = _tensors(output)
    if outs:
        result.output = _one(outs[0])
        _add_prediction(result, steps)
    return result


def _add_prediction(result: Trace, steps: list) -> None:
    """Softmax probabilities and the predicted class when the output is a class-score vector."""
    out = np.asarray(result.output, dtype=np.float64)
    if out.ndim != 1 or out.size < 2:
        return
    last = steps[-1].type if steps else ""
    if last == "Softmax":
        probs = out
    else:
        if last == "LogSoftmax":
            probs = np.exp(out)
        else:
            z = np.exp(out - out.max())
            probs = z / z.sum()
    result.probabilities = probs
    result.prediction = int(probs.argmax())
