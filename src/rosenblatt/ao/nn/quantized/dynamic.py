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

__all__ = ["Linear", "LSTM", "quantize_weight", "choose_qparams", "linear_dynamic",
           "float_weight"]


def float_weight(module: Any, name: str, dtype: Any) -> Any:
    """The int8 buffer `name` of `module` as a `dtype` array, converted once per change of the
    buffer (a fresh conversion each call doubled a large layer's product time)."""
    tensor = module._buffers[name]
    array = tensor.numpy()
    key = (id(tensor), id(array), tensor._version, np.dtype(dtype))
    cache = module.__dict__.setdefault("_float_weights", {})
    if name not in cache or cache[name][0] != key:
        cache[name] = (key, array.astype(dtype))
    return cache[name][1]


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


def linear_dynamic(a: Any, weight: Any, weight_scale: float, bias: Any) -> Any:
    """a W^T + b with `a` quantized for this call and W int8 (or its values as float32):
    (*, in) -> (*, out) float32."""
    scale, zero = choose_qparams(float(a.min()), float(a.max())) if a.size else (1.0, 0)
    inverse = np.float32(1) / np.float32(scale)
    xq = np.clip(np.rint(a * inverse) + zero, 0, 127)  # integers, held in float32
    w = weight if weight.dtype == np.float32 else weight.astype(np.float32)  # integer values
    acc = (xq - np.float32(zero)) @ w.T  # exact integers up to 2**24
    out = acc * np.float32(scale * weight_scale)
    return (out if bias is None else out + bias).astype(np.float32)


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
        bias = None if self._bias is None else self._bias.numpy()
        weight = float_weight(self, "_weight_int8", np.float32)
        return rb.as_tensor(linear_dynamic(a, weight, float(self.scale), bias))

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                "dtype=rosenblatt.qint8, qscheme=per_tensor_symmetric")

    def _get_name(self) -> str:
        return "DynamicQuantizedLinear"


def _sigmoid(x: Any) -> Any:
    return 1 / (1 + np.exp(-x))


class LSTM(Module):
    """nn.LSTM with int8 weights (per layer and direction, per tensor), inference only: each
    step's input and hidden projections are dynamic int8 Linears, as PyTorch's."""

    def __init__(self, float_lstm: Any) -> None:
        super().__init__()
        for key in ("input_size", "hidden_size", "num_layers", "bias", "batch_first",
                    "bidirectional"):
            setattr(self, key, getattr(float_lstm, key))
        directions = 2 if self.bidirectional else 1
        for layer in range(self.num_layers):
            for direction in range(directions):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                for name in ("weight_ih", "weight_hh"):
                    q, scale = quantize_weight(getattr(float_lstm, name + suffix)
                                               .detach().cpu().numpy())
                    self.register_buffer(name + suffix, rb.as_tensor(q))
                    self.register_buffer(name + suffix + "_scale",
                                         rb.tensor(scale, dtype=rb.float32))
                for name in ("bias_ih", "bias_hh"):
                    b = getattr(float_lstm, name + suffix) if self.bias else None
                    self.register_buffer(name + suffix, None if b is None else
                                         b.detach().clone().cpu().float())

    @classmethod
    def from_float(cls, mod: Any) -> LSTM:
        """The dynamic int8 version of a float nn.LSTM."""
        return cls(mod)

    def _direction(self, x: Any, h: Any, c: Any, suffix: str, reverse: bool) -> tuple:
        """One layer, one direction over x (T, B, I): outputs (T, B, H), last h and c."""
        w_ih, w_hh = self._buffers["weight_ih" + suffix], self._buffers["weight_hh" + suffix]
        s_ih = float(self._buffers["weight_ih" + suffix + "_scale"])
        s_hh = float(self._buffers["weight_hh" + suffix + "_scale"])
        b_ih, b_hh = (None if self._buffers[n + suffix] is None else
                      self._buffers[n + suffix].numpy() for n in ("bias_ih", "bias_hh"))
        w_ih, w_hh = (float_weight(self, n + suffix, np.float32) for n in ("weight_ih",
                                                                        "weight_hh"))
        size = self.hidden_size
        out = np.empty(x.shape[:2] + (size,), np.float32)
        # as PyTorch's CPU kernel: the input projection of all steps at once (one quantization
        # of the whole sequence), the hidden one step by step
        projected = linear_dynamic(x.reshape(-1, x.shape[-1]), w_ih, s_ih, b_ih).reshape(
            x.shape[:2] + (-1,))
        for t in (reversed(range(len(x))) if reverse else range(len(x))):
            gates = projected[t] + linear_dynamic(h, w_hh, s_hh, b_hh)
            i, f = _sigmoid(gates[:, :size]), _sigmoid(gates[:, size:2 * size])
            g, o = np.tanh(gates[:, 2 * size:3 * size]), _sigmoid(gates[:, 3 * size:])
            c = f * c + i * g
            h = out[t] = o * np.tanh(c)
        return out, h, c

    def forward(self, input: Any, hx: Any = None) -> tuple:  # noqa: A002
        """(L, N, H_in) (batch_first: (N, L, H_in)), (h_0, c_0) -> output, (h_n, c_n)."""
        x = np.asarray(input.detach().cpu().numpy(), np.float32)
        unbatched = x.ndim == 2
        x = x[:, None] if unbatched else (x.transpose(1, 0, 2) if self.batch_first else x)
        directions = 2 if self.bidirectional else 1
        shape = (self.num_layers * directions, x.shape[1], self.hidden_size)
        if hx is None:
            h0 = c0 = np.zeros(shape, np.float32)
        else:
            h0, c0 = (np.asarray(t.detach().cpu().numpy(), np.float32).reshape(shape)
                      for t in hx)
        hs, cs = [], []
        for layer in range(self.num_layers):
            outs = []
            for d in range(directions):
                k = layer * directions + d
                o, h, c = self._direction(x, h0[k], c0[k], f"_l{layer}" + ("_reverse" if d
                                                                           else ""), d == 1)
                outs.append(o)
                hs.append(h)
                cs.append(c)
            x = np.concatenate(outs, axis=-1)
        h_n, c_n = np.stack(hs), np.stack(cs)
        if unbatched:
            x, h_n, c_n = x[:, 0], h_n[:, 0], c_n[:, 0]
        elif self.batch_first:
            x = x.transpose(1, 0, 2)
        return (rb.as_tensor(np.ascontiguousarray(x)),
                (rb.as_tensor(h_n.astype(np.float32)), rb.as_tensor(c_n.astype(np.float32))))

    def _get_name(self) -> str:
        return "DynamicQuantizedLSTM"

    def extra_repr(self) -> str:
        return (f"{self.input_size}, {self.hidden_size}, num_layers={self.num_layers}, "
                f"batch_first={self.batch_first}, bidirectional={self.bidirectional}, "
                "dtype=rosenblatt.qint8")
