"""`torch.ao.quantization`: dynamic int8 quantization of Linear and LSTM layers
(`quantize_dynamic`)."""

from __future__ import annotations

import copy
from typing import Any

from ..nn.quantized import dynamic
from . import static
from .static import (
    DeQuantStub,
    MinMaxObserver,
    PerChannelMinMaxObserver,
    QConfig,
    QuantStub,
    convert,
    fuse_modules,
    get_default_qconfig,
    prepare,
)

__all__ = ["quantize_dynamic", "qint8", "prepare", "convert", "QuantStub", "DeQuantStub",
           "QConfig", "get_default_qconfig", "MinMaxObserver", "PerChannelMinMaxObserver",
           "fuse_modules", "static"]

qint8 = "qint8"  # the only dtype quantize_dynamic makes (PyTorch's torch.qint8)


def quantize_dynamic(model: Any, qconfig_spec: Any = None, dtype: Any = qint8,
                     mapping: Any = None, inplace: bool = False) -> Any:
    """A copy of `model` (or the model itself, inplace=True) with int8 Linear/LSTM layers.

    qconfig_spec: a set of layer types (nn.Linear, nn.LSTM) or of submodule names.
    """
    from rosenblatt import nn

    if str(dtype).split(".")[-1] != "qint8":
        raise ValueError(f"quantize_dynamic: only dtype qint8 is supported, got {dtype}")
    spec = {nn.Linear, nn.LSTM} if qconfig_spec is None else set(qconfig_spec)
    unsupported = [s for s in spec if isinstance(s, type) and s not in _SWAPS()]
    if unsupported:
        names = ", ".join(sorted(t.__name__ for t in unsupported))
        raise NotImplementedError(f"quantize_dynamic: only nn.Linear and nn.LSTM are quantized "
                                  f"so far, not {names}")
    if not inplace:
        model = copy.deepcopy(model)
    _swap(model, "", spec)
    return model


def _SWAPS() -> dict:  # noqa: N802 - a constant, built on use (nn imports this package)
    from rosenblatt import nn

    return {nn.Linear: dynamic.Linear, nn.LSTM: dynamic.LSTM}


def _swap(module: Any, prefix: str, spec: set) -> None:
    swaps = _SWAPS()
    for name, child in list(module._modules.items()):
        full = f"{prefix}.{name}" if prefix else name
        kind = type(child)
        if kind in swaps and (kind in spec or full in spec):
            module._modules[name] = swaps[kind].from_float(child)
        elif child is not None:
            _swap(child, full, spec)
