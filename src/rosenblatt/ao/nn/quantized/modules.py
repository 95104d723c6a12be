"""Static int8 layers made by `ao.quantization.convert`: int8 weights (per output channel),
uint8 activations with fixed scales; outputs are float tensors holding the dequantized
uint8 values (Rosenblatt has no quantized tensor type)."""

from __future__ import annotations

from typing import Any

import rosenblatt as rb
from rosenblatt._backend import np
from rosenblatt.nn import Module

from ...quantization.static import ConvReLU2d, LinearReLU, quantize_array
from .dynamic import float_weight


def _output_qparams(mod: Any) -> tuple[float, int, int, int]:
    observer = mod.activation_post_process
    scale, zero = observer.calculate_qparams()
    return float(scale), int(zero), observer.quant_min, observer.quant_max


class Quantize(Module):
    """float -> (dequantized) uint8 values with a fixed scale and zero point."""

    def __init__(self, scale: float, zero_point: int, low: int = 0, high: int = 255) -> None:
        super().__init__()
        self.scale, self.zero_point, self.low, self.high = scale, zero_point, low, high

    @classmethod
    def from_float(cls, mod: Any) -> Quantize:
        return cls(*_output_qparams(mod))

    def forward(self, x: Any) -> Any:
        q = quantize_array(x.detach().cpu().numpy(), self.scale, self.zero_point, self.low,
                           self.high)
        return rb.as_tensor(((q - self.zero_point) * self.scale).astype(np.float32))

    def extra_repr(self) -> str:
        return f"scale={self.scale:.6g}, zero_point={self.zero_point}"


class DeQuantize(Module):
    """The values are already floats: identity."""

    def forward(self, x: Any) -> Any:
        return x


class _Weighted(Module):
    """Shared by Linear and Conv2d: int8 weight per output channel, float bias, and the
    output's scale and zero point; the integer product is exact in float64."""

    def __init__(self, mod: Any) -> None:
        super().__init__()
        self.relu = isinstance(mod, (ConvReLU2d, LinearReLU))  # (layer, ReLU) as one
        layer = mod[0] if self.relu else mod
        observer = mod.qconfig.weight()
        observer(layer.weight)
        w_scale, w_zero = observer.calculate_qparams()
        shape = (-1,) + (1,) * (layer.weight.ndim - 1)
        w = quantize_array(layer.weight.detach().cpu().numpy(), w_scale.reshape(shape),
                           w_zero.reshape(shape), observer.quant_min, observer.quant_max)
        self.register_buffer("weight_int8", rb.as_tensor(w.astype(np.int8)))
        self.register_buffer("weight_scale", rb.as_tensor(np.asarray(w_scale, np.float32)))
        self.register_buffer("bias", None if layer.bias is None else
                             layer.bias.detach().clone().cpu().float())
        self.scale, self.zero_point, self.low, self.high = _output_qparams(mod)

    def _product(self, x: Any, w: Any) -> Any:
        raise NotImplementedError

    def forward(self, x: Any) -> Any:
        # the input holds dequantized uint8 values (x_int - zero) * scale, so its product with
        # the int8 weight in float64 is PyTorch's int32 accumulation times the input scale
        a = np.asarray(x.detach().cpu().numpy(), np.float64)
        w = float_weight(self, "weight_int8", np.float64)
        scale = self.weight_scale.numpy().astype(np.float64)
        acc = self._product(a, w)
        shape = (1, -1) + (1,) * (acc.ndim - 2)
        y = acc * scale.reshape(shape)
        if self.bias is not None:
            y = y + self.bias.numpy().astype(np.float64).reshape(shape)
        if self.relu:
            y = np.maximum(y, 0)
        q = quantize_array(y, self.scale, self.zero_point, self.low, self.high)
        return rb.as_tensor(((q - self.zero_point) * self.scale).astype(np.float32))


class Linear(_Weighted):
    """(N, in) -> (N, out), int8 weight per output feature."""

    @classmethod
    def from_float(cls, mod: Any) -> Linear:
        return cls(mod)

    def _product(self, a: Any, w: Any) -> Any:
        return a @ w.T

    def _get_name(self) -> str:
        return "QuantizedLinear"


class Conv2d(_Weighted):
    """(N, C, H, W) -> (N, C_out, H', W'), int8 weight per output channel."""

    def __init__(self, mod: Any) -> None:
        super().__init__(mod)
        conv = mod[0] if self.relu else mod
        self.stride, self.padding = conv.stride, conv.padding
        self.dilation, self.groups = conv.dilation, conv.groups

    @classmethod
    def from_float(cls, mod: Any) -> Conv2d:
        return cls(mod)

    def _product(self, a: Any, w: Any) -> Any:
        out = rb.nn.functional.conv2d(rb.as_tensor(a), rb.as_tensor(w), None, self.stride,
                                      self.padding, self.dilation, self.groups)
        return np.asarray(out.numpy(), np.float64)

    def _get_name(self) -> str:
        return "QuantizedConv2d"
