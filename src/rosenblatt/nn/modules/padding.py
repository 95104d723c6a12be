"""Padding layers: ZeroPad, ConstantPad, ReflectionPad, ReplicationPad, CircularPad (1d/2d)."""

from __future__ import annotations

from typing import Any

from ...autograd.tensor import Tensor
from ...ops.resample import pad
from .module import Module


class _PadNd(Module):
    """Pads the last `_dims` axes; padding is an int or (left, right[, top, bottom])."""

    _dims = 2
    _mode = "constant"

    def __init__(self, padding: Any, value: float = 0.0) -> None:
        super().__init__()
        if isinstance(padding, int):
            padding = (padding,) * (2 * self._dims)
        self.padding = tuple(padding)
        if len(self.padding) != 2 * self._dims:
            raise ValueError(f"{type(self).__name__}: padding must be an int or a "
                             f"{2 * self._dims}-tuple, got {padding}")
        self.value = value

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """(*, H, W) -> (*, H + top + bottom, W + left + right)."""
        if self._mode == "constant":
            return pad(input, self.padding, "constant", self.value)
        return pad(input, self.padding, self._mode)

    def extra_repr(self) -> str:
        if type(self).__name__.startswith("Constant"):
            return f"padding={self.padding}, value={self.value}"
        return f"{self.padding}"


def _layer(name: str, dims: int, mode: str, doc: str) -> type:
    """A padding layer class; only the constant ones take a value argument."""
    def with_value(self: Any, padding: Any, value: float) -> None:
        _PadNd.__init__(self, padding, value)

    def without_value(self: Any, padding: Any) -> None:
        _PadNd.__init__(self, padding)

    init = with_value if name.startswith("Constant") else without_value
    return type(name, (_PadNd,), {"_dims": dims, "_mode": mode, "__doc__": doc,
                                  "__init__": init, "__module__": __name__})


ZeroPad1d = _layer("ZeroPad1d", 1, "constant", "Pad the last axis with zeros.")
ZeroPad2d = _layer("ZeroPad2d", 2, "constant", "Pad the last two axes with zeros.")
ConstantPad1d = _layer("ConstantPad1d", 1, "constant", "Pad the last axis with a value.")
ConstantPad2d = _layer("ConstantPad2d", 2, "constant", "Pad the last two axes with a value.")
ReflectionPad1d = _layer("ReflectionPad1d", 1, "reflect", "Pad the last axis by mirroring.")
ReflectionPad2d = _layer("ReflectionPad2d", 2, "reflect", "Pad the last two axes by mirroring.")
ReplicationPad1d = _layer("ReplicationPad1d", 1, "replicate", "Pad the last axis with edges.")
ReplicationPad2d = _layer("ReplicationPad2d", 2, "replicate",
                          "Pad the last two axes with the edge values.")
CircularPad1d = _layer("CircularPad1d", 1, "circular", "Pad the last axis by wrapping around.")
CircularPad2d = _layer("CircularPad2d", 2, "circular",
                       "Pad the last two axes by wrapping around.")
