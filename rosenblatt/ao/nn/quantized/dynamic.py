"""`torch.ao.nn.quantized.dynamic`: Linear with int8 weights, activations quantized per call.

As PyTorch's x86 (fbgemm) kernel: the weight is int8, per-tensor symmetric (scale =
max|w| / 127.5, zero point 0); each call quantizes the input per tensor to [0, 127]
(reduce_range) with its own min/max, multiplies the integers, and rescales to float before
adding the float bias. NumPy has no int8 GEMM that beats float BLAS, so the integer product
is computed by float32 BLAS on the integer values: the saving is memory (4x smaller weights),
not time.
"""

from __future__ import annotations

from typing import Any

import rosenblatt as rb
from rosenblatt._backend import np
from rosenblatt.nn import Module

__all__ = ["Linear", "quantize_weight", "choose_qparams"]


def quantize_weight(w: Any) -> tuple[Any, float]:
    """(int8 array, scale): per-tensor symmetric quantization of a float array."""
    w = np.asarray(w, np.float32)
    top = float(np.abs(w).max()) if w.size else 0.0
    scale = max(np.float32(top) / np.float32(127.5), np.finfo(np.float32).eps)
    inverse = np.float32(1) / np.float32(scale)  # PyTorch multiplies by the inverse scale
    return np.clip(np.rint(w * inverse), -128, 127).astype(np.int8), float(scale)


def choose_qparams(lo: float, hi: float, qmin: int = 0, qmax: int = 127) -> tuple[float, int]:
    """(scale, zero point) of an affine quantization covering [lo, hi] and 0 (PyTorch's rule)."""
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    scale = float(np.float32((hi - lo) / (qmax - qmin)))
    if scale == 0.0 or not np.isfinite(1.0 / scale):
        return 0.1, 0  # an all-zero input: any scale represents it
    from_min, from_max = qmin - lo / scale, qmax - hi / scale
    error_min = abs(qmin) - abs(lo / scale)
    error_max = abs(qmax) - abs(hi / scale)
    initial = from_min if error_min < error_max else from_max
    return scale, int(np.clip(np.rint(initial), qmin, qmax))


class Linear(Module):
    """(*, in_features) -> (*, out_features) with an int8 weight (inference only)."""

    _FLOAT_MODULE: Any = None

    def __init__(self, in_features: int, out_features: int, bias_: bool = True,
                 dtype: Any = None) -> None:
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.register_buffer("_weight_int8", rb.zeros(out_features, in_features,
                                                      dtype=rb.int8))
        self.register_buffer("scale", rb.tensor(1.0))
        self.register_buffer("_bias", rb.zeros(out_features) if bias_ else None)

    @classmethod
    def from_float(cls, mod: Any) -> Linear:
        """The dynamic int8 version of a float nn.Linear."""
        q = cls(mod.in_features, mod.out_features, mod.bias is not None)
        weight, scale = quantize_weight(mod.weight.detach().cpu().numpy())
        q._weight_int8 = rb.as_tensor(weight)
        q.scale = rb.tensor(scale, dtype=rb.float32)
        if mod.bias is not None:
            q._bias = mod.bias.detach().clone().cpu().float()
        return q

    def weight(self) -> Any:
        """The dequantized weight (float32, out_features x in_features)."""
        return self._weight_int8.float() * self.scale

    def bias(self) -> Any:
        """The float bias (or None)."""
        return self._bias

    def forward(self, x: Any) -> Any:
        """(*, in_features) float -> (*, out_features) float32."""
        a = np.asarray(x.detach().cpu().numpy(), np.float32)
        if a.shape[-1:] != (self.in_features,):
            raise RuntimeError(f"DynamicQuantizedLinear: expected input with last dimension "
                               f"{self.in_features}, got shape {tuple(a.shape)}")
        scale, zero = choose_qparams(float(a.min()), float(a.max())) if a.size else (1.0, 0)
        inverse = np.float32(1) / np.float32(scale)
        xq = np.clip(np.rint(a * inverse) + zero, 0, 127)  # integers, held in float32
        w = self._weight_int8.numpy().astype(np.float32)
        acc = (xq - np.float32(zero)) @ w.T  # exact integers up to 2**24
        out = acc * np.float32(scale * float(self.scale))
        if self._bias is not None:
            out = out + self._bias.numpy()
        return rb.as_tensor(out.astype(np.float32))

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                "dtype=rosenblatt.qint8, qscheme=per_tensor_symmetric")

    def _get_name(self) -> str:
        return "DynamicQuantizedLinear"
