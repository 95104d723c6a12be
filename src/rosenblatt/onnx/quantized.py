"""ONNX converters for int8 layers (`ao.quantization` static), in ONNX's QDQ form.

Each int8 layer becomes float ops between QuantizeLinear/DequantizeLinear pairs, with its
weight stored as int8 behind a per-channel DequantizeLinear: onnxruntime runs the pattern
with its int8 kernels where it can. These layers compute outside Rosenblatt's ops, so the
exporter records them whole (keyed by module class) rather than op by op.
"""

from __future__ import annotations

from typing import Any

from .._backend import np
from ..ao.nn.quantized import modules as qm
from ._graph import Graph, Step, converts


def _qdq(g: Graph, x: str, scale: float, zero: int) -> str:
    """x through QuantizeLinear and back (uint8 with this scale and zero point)."""
    s = g.const(np.array(scale, np.float32), "scale")
    z = g.const(np.array(zero, np.uint8), "zero_point")
    return g.node("DequantizeLinear", [g.node("QuantizeLinear", [x, s, z]), s, z])


@converts(qm.Quantize)
def _quantize(g: Graph, step: Step, names: list) -> str:
    m = step.params["module"]
    return _qdq(g, names[0], m.scale, m.zero_point)


def _weight(g: Graph, m: Any) -> str:
    """The int8 weight, dequantized per output channel (axis 0)."""
    w = np.asarray(m.weight_int8.numpy(), np.int8)
    scale = np.asarray(m.weight_scale.numpy(), np.float32).reshape(-1)
    return g.node("DequantizeLinear", [g.const(w, "weight_int8"), g.const(scale, "w_scale"),
                                       g.const(np.zeros(scale.shape, np.int8), "w_zero")],
                  axis=0)


def _finish(g: Graph, m: Any, y: str) -> str:
    if m.relu:
        y = g.node("Relu", [y])
    return _qdq(g, y, m.scale, m.zero_point)


def _bias(g: Graph, m: Any) -> list:
    return [] if m.bias is None else [g.const(np.asarray(m.bias.numpy(), np.float32), "bias")]


@converts(qm.Conv2d)
def _conv(g: Graph, step: Step, names: list) -> str:
    m = step.params["module"]
    if isinstance(m.padding, str):
        raise RuntimeError("torch.onnx.export: an int8 Conv2d with padding='same'/'valid' is "
                           "not supported; give the padding as numbers")
    pad = [int(p) for p in m.padding]
    y = g.node("Conv", [names[0], _weight(g, m)] + _bias(g, m), strides=list(m.stride),
               pads=pad + pad, dilations=list(m.dilation), group=int(m.groups))
    return _finish(g, m, y)


@converts(qm.Linear)
def _linear(g: Graph, step: Step, names: list) -> str:
    m = step.params["module"]
    y = g.node("Gemm", [names[0], _weight(g, m)] + _bias(g, m), transB=1)
    return _finish(g, m, y)
