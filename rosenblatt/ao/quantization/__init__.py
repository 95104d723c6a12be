"""`torch.ao.quantization`: dynamic int8 quantization of Linear layers (`quantize_dynamic`)."""

from __future__ import annotations

import copy
from typing import Any

from ..nn.quantized import dynamic

__all__ = ["quantize_dynamic", "qint8"]

qint8 = "qint8"  # the only dtype quantize_dynamic makes (PyTorch's torch.qint8)


def quantize_dynamic(model: Any, qconfig_spec: Any = None, dtype: Any = qint8,
                     mapping: Any = None, inplace: bool = False) -> Any:
    """A copy of `model` (or the model itself, inplace=True) whose nn.Linear layers are int8.

    qconfig_spec: a set of layer types (only nn.Linear is supported) or of submodule names.
    """
    from rosenblatt import nn

    if str(dtype).split(".")[-1] != "qint8":
        raise ValueError(f"quantize_dynamic: only dtype qint8 is supported, got {dtype}")
    spec = {nn.Linear} if qconfig_spec is None else set(qconfig_spec)
    unsupported = [s for s in spec if isinstance(s, type) and s is not nn.Linear]
    if unsupported:
        raise NotImplementedError(f"quantize_dynamic: only nn.Linear is quantized so far, not "
                                  f"{', '.join(sorted(t.__name__ for t in unsupported))}")
    if not inplace:
        model = copy.deepcopy(model)
    _swap(model, "", spec)
    return model


def _chosen(module: Any, name: str, spec: set) -> bool:
    from rosenblatt import nn

    return type(module) is nn.Linear and (nn.Linear in spec or name in spec)


def _swap(module: Any, prefix: str, spec: set) -> None:
    for name, child in list(module._modules.items()):
        full = f"{prefix}.{name}" if prefix else name
        if _chosen(child, full, spec):
            module._modules[name] = dynamic.Linear.from_float(child)
        elif child is not None:
            _swap(child, full, spec)
