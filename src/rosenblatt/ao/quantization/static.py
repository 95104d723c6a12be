"""Post-training static int8 quantization, PyTorch's eager API: observers, QConfig,
QuantStub/DeQuantStub, prepare (observers record activation ranges while calibrating) and
convert (Linear/Conv2d become int8 layers with per-channel weights and fixed output scales).

Rosenblatt has no quantized tensor type: between int8 layers flow float tensors that hold
exactly the dequantized uint8 values, so ReLU, max pooling and Flatten act on them as on
PyTorch's quint8 tensors. `get_default_qconfig` uses min/max observers for activations
(PyTorch's x86 default is a histogram observer; scales then differ, not the method).
"""

from __future__ import annotations

import copy
import functools
from typing import Any, NamedTuple

from rosenblatt._backend import np
from rosenblatt.nn import Module

_EPS = float(np.finfo(np.float32).eps)


class _Observer(Module):
    """Records the running min/max of what passes through (per tensor, or per channel)."""

    def __init__(self, dtype: str = "quint8", qscheme: str = "per_tensor_affine",
                 reduce_range: bool = False, ch_axis: int | None = None) -> None:
        super().__init__()
        self.dtype, self.qscheme, self.ch_axis = str(dtype).split(".")[-1], str(qscheme).split(
            ".")[-1], ch_axis
        low, high = (0, 255) if self.dtype == "quint8" else (-128, 127)
        if reduce_range:
            low, high = low // 2, high // 2
        self.quant_min, self.quant_max = low, high
        self.min_val: Any = None
        self.max_val: Any = None

    @classmethod
    def with_args(cls, **kwargs: Any) -> Any:
        """A factory of observers with these arguments (PyTorch's with_args)."""
        return functools.partial(cls, **kwargs)

    def forward(self, x: Any) -> Any:
        a = np.asarray(x.detach().cpu().numpy(), np.float32)
        if self.ch_axis is None:
            lo, hi = a.min(), a.max()
        else:
            rows = np.moveaxis(a, self.ch_axis, 0).reshape(a.shape[self.ch_axis], -1)
            lo, hi = rows.min(axis=1), rows.max(axis=1)
        self.min_val = lo if self.min_val is None else np.minimum(self.min_val, lo)
        self.max_val = hi if self.max_val is None else np.maximum(self.max_val, hi)
        return x

    def calculate_qparams(self) -> tuple[Any, Any]:
        """(scale, zero_point) arrays, by PyTorch's formulas."""
        if self.min_val is None:
            raise RuntimeError("quantization: an observer saw no data - run calibration "
                               "batches through the prepared model before convert()")
        lo = np.minimum(np.float32(self.min_val), np.float32(0))
        hi = np.maximum(np.float32(self.max_val), np.float32(0))
        span = np.float32(self.quant_max - self.quant_min)
        if "symmetric" in self.qscheme:
            scale = np.maximum(np.maximum(-lo, hi) / (span / np.float32(2)), np.float32(_EPS))
            zero = np.full(np.shape(scale), 0 if self.dtype == "qint8" else
                           (self.quant_min + self.quant_max + 1) // 2, np.int64)
        else:
            scale = np.maximum((hi - lo) / span, np.float32(_EPS))
            zero = np.clip(self.quant_min - np.rint(lo / scale), self.quant_min,
                           self.quant_max).astype(np.int64)
        return np.float32(scale), zero


class MinMaxObserver(_Observer):
    """Per-tensor min/max observer."""


class PerChannelMinMaxObserver(_Observer):
    """Per-channel min/max observer (weights: ch_axis 0, symmetric int8)."""

    def __init__(self, ch_axis: int = 0, dtype: str = "qint8",
                 qscheme: str = "per_channel_symmetric", reduce_range: bool = False) -> None:
        super().__init__(dtype, qscheme, reduce_range, ch_axis)


class QConfig(NamedTuple):
    """Observer factories for a layer's output (activation) and its weight."""

    activation: Any
    weight: Any


def get_default_qconfig(backend: str = "x86") -> QConfig:
    """uint8 activations (reduce_range, min/max), per-channel symmetric int8 weights."""
    return QConfig(MinMaxObserver.with_args(reduce_range=True),
                   PerChannelMinMaxObserver.with_args())


class QuantStub(Module):
    """Where float becomes quantized (observed in prepare, Quantize after convert)."""

    def forward(self, x: Any) -> Any:
        return x


class DeQuantStub(Module):
    """Where quantized becomes float again."""

    def forward(self, x: Any) -> Any:
        return x


def _observed_types() -> tuple:
    from rosenblatt import nn

    return (QuantStub, nn.Linear, nn.Conv2d, ConvReLU2d, LinearReLU)


def _fused_classes() -> tuple:
    from rosenblatt import nn

    class ConvReLU2d(nn.Sequential):
        """Conv2d (BatchNorm folded in) then ReLU: quantized as one layer, observed after
        the ReLU (PyTorch's intrinsic ConvReLU2d)."""

    class LinearReLU(nn.Sequential):
        """Linear then ReLU, quantized as one layer (PyTorch's intrinsic LinearReLU)."""

    return ConvReLU2d, LinearReLU


ConvReLU2d, LinearReLU = _fused_classes()


def fuse_conv_bn_eval(conv: Any, bn: Any) -> Any:
    """A copy of `conv` with the eval-mode BatchNorm `bn` folded into its weight and bias."""
    import rosenblatt as rb

    fused = copy.deepcopy(conv)
    w = conv.weight.detach().cpu().numpy()
    rsqrt = np.float32(1) / np.sqrt(bn.running_var.numpy() + np.float32(bn.eps))
    gamma = np.ones_like(rsqrt) if bn.weight is None else bn.weight.detach().cpu().numpy()
    beta = np.zeros_like(rsqrt) if bn.bias is None else bn.bias.detach().cpu().numpy()
    b = np.zeros_like(rsqrt) if conv.bias is None else conv.bias.detach().cpu().numpy()
    fused.weight = rb.nn.Parameter(rb.as_tensor(
        (w * (gamma * rsqrt).reshape((-1,) + (1,) * (w.ndim - 1))).astype(w.dtype)))
    fused.bias = rb.nn.Parameter(rb.as_tensor(((b - bn.running_mean.numpy()) * rsqrt * gamma
                                               + beta).astype(w.dtype)))
    return fused


def fuse_modules(model: Any, modules_to_fuse: Any, inplace: bool = False) -> Any:
    """Fuse each list of submodule names ([conv, bn], [conv, bn, relu], [conv, relu],
    [linear, relu]) into its first; the others become Identity. Eval mode (BatchNorm folded)."""
    from rosenblatt import nn

    model = model if inplace else copy.deepcopy(model)
    groups = modules_to_fuse if modules_to_fuse and isinstance(modules_to_fuse[0],
                                                               (list, tuple)) else [
        modules_to_fuse]
    for names in groups:
        mods = [model.get_submodule(n) for n in names]
        kinds = tuple(type(m) for m in mods)
        if kinds[:2] == (nn.Conv2d, nn.BatchNorm2d):
            mods = [fuse_conv_bn_eval(mods[0], mods[1])] + mods[2:]
            kinds = (nn.Conv2d,) + kinds[2:]
        if kinds == (nn.Conv2d,):
            fused = mods[0]
        elif kinds == (nn.Conv2d, nn.ReLU):
            fused = ConvReLU2d(*mods)
        elif kinds == (nn.Linear, nn.ReLU):
            fused = LinearReLU(*mods)
        else:
            raise NotImplementedError(f"fuse_modules: cannot fuse {[t.__name__ for t in kinds]}"
                                      " (fusable: conv-bn, conv-bn-relu, conv-relu, "
                                      "linear-relu)")
        for i, name in enumerate(names):
            parent, _, leaf = name.rpartition(".")
            owner = model.get_submodule(parent) if parent else model
            owner._modules[leaf] = fused if i == 0 else nn.Identity()
    return model


def _propagate(module: Any, qconfig: Any) -> None:
    qconfig = getattr(module, "qconfig", None) or qconfig
    object.__setattr__(module, "qconfig", qconfig)
    for child in module.children():
        _propagate(child, qconfig)


def prepare(model: Any, inplace: bool = False) -> Any:
    """Attach an activation observer (`activation_post_process`) to each QuantStub, Linear
    and Conv2d under a qconfig; run calibration data through the result, then convert()."""
    model = model if inplace else copy.deepcopy(model)
    _propagate(model, None)
    fused = {id(c) for m in model.modules() if isinstance(m, (ConvReLU2d, LinearReLU))
             for c in m.children()}  # observed as one layer, after the ReLU
    for m in model.modules():
        if isinstance(m, _observed_types()) and m.qconfig is not None and id(m) not in fused:
            m.activation_post_process = m.qconfig.activation()
            m.register_forward_hook(lambda mod, args, out: mod.activation_post_process(out))
    return model


def convert(model: Any, inplace: bool = False) -> Any:
    """Swap observed layers for their int8 versions (QuantStub -> Quantize, DeQuantStub ->
    DeQuantize, Linear/Conv2d -> quantized Linear/Conv2d)."""
    from rosenblatt import nn

    from ..nn.quantized import modules as q

    model = model if inplace else copy.deepcopy(model)
    swaps = {QuantStub: q.Quantize.from_float, DeQuantStub: lambda m: q.DeQuantize(),
             nn.Linear: q.Linear.from_float, nn.Conv2d: q.Conv2d.from_float,
             ConvReLU2d: q.Conv2d.from_float, LinearReLU: q.Linear.from_float}

    def walk(module: Any, prefix: str) -> None:
        for name, child in list(module._modules.items()):
            make = swaps.get(type(child))
            if make is not None and (type(child) is DeQuantStub or
                                     getattr(child, "activation_post_process", None) is not None):
                try:
                    module._modules[name] = make(child)
                except RuntimeError as e:  # an uncalibrated observer: name the layer
                    raise RuntimeError(f"{e} (layer '{prefix}{name}', "
                                       f"{type(child).__name__})") from None
            elif child is not None:
                walk(child, f"{prefix}{name}.")

    walk(model, "")
    return model


def quantize_array(a: Any, scale: Any, zero: Any, low: int, high: int) -> Any:
    """Integers (as float64) of `a` quantized with scale/zero point (PyTorch multiplies by the
    inverse scale, rounding half to even)."""
    inverse = np.float32(1) / np.float32(scale)
    return np.clip(np.rint(np.float32(a) * inverse) + zero, low, high).astype(np.float64)


__all__ = ["MinMaxObserver", "PerChannelMinMaxObserver", "QConfig", "get_default_qconfig",
           "QuantStub", "DeQuantStub", "prepare", "convert", "quantize_array", "fuse_modules",
           "fuse_conv_bn_eval", "ConvReLU2d", "LinearReLU"]
