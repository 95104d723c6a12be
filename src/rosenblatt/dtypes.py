"""Tensor element types (`rb.float32`, ...) and PyTorch's type-promotion rules."""

from __future__ import annotations

import builtins
from typing import Any

from ._backend import np


class dtype:  # noqa: N801 - PyTorch's name
    """An element type: wraps a NumPy dtype and knows its promotion category."""

    __slots__ = ("name", "np", "is_floating_point", "is_signed", "itemsize")

    def __init__(self, name: str, np_dtype: Any) -> None:
        self.name = name
        self.np = np.dtype(np_dtype)
        self.is_floating_point = self.np.kind == "f"
        self.is_signed = self.np.kind in "fi"
        self.itemsize = self.np.itemsize

    def __repr__(self) -> str:
        return f"rosenblatt.{self.name}"

    def __reduce__(self) -> str:
        return self.name


# PyTorch's capitalised scalar-type names, which its error messages and legacy type names quote
_SCALAR_TYPE_NAMES = {"float16": "Half", "float32": "Float", "float64": "Double", "int64": "Long",
                      "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
                      "bool": "Bool"}


def scalar_type_name(d: dtype) -> str:
    """PyTorch's scalar-type name of a dtype: 'Long' for int64, 'Float' for float32."""
    return _SCALAR_TYPE_NAMES.get(d.name, d.name)


float16 = half = dtype("float16", np.float16)
float32 = float = dtype("float32", np.float32)  # noqa: A001 - PyTorch's alias
float64 = double = dtype("float64", np.float64)
uint8 = dtype("uint8", np.uint8)
int8 = dtype("int8", np.int8)
int16 = short = dtype("int16", np.int16)
int32 = int = dtype("int32", np.int32)  # noqa: A001 - PyTorch's alias
int64 = long = dtype("int64", np.int64)
bool = dtype("bool", np.bool_)  # noqa: A001 - PyTorch's name

ALL = (float16, float32, float64, uint8, int8, int16, int32, int64, bool)
_BY_NP = {d.np: d for d in ALL}

_default_float = float32


def get_default_dtype() -> dtype:
    """The dtype of tensors made from Python floats (float32 unless changed)."""
    return _default_float


def set_default_dtype(d: dtype) -> None:
    """Set the dtype used for Python floats (float32 or float64)."""
    global _default_float
    if d not in (float32, float64, float16):
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _default_float = d


def from_numpy_dtype(np_dtype: Any) -> dtype:
    """The rosenblatt dtype for a NumPy dtype; raises for unsupported ones."""
    try:
        return _BY_NP[np.dtype(np_dtype)]
    except KeyError:
        raise TypeError(
            f"can't convert NumPy dtype {np.dtype(np_dtype)}: supported types are "
            + ", ".join(d.name for d in ALL)
        ) from None


def to_numpy_dtype(d: Any) -> Any:
    """A NumPy dtype from a rosenblatt dtype, a NumPy dtype or a Python type."""
    if isinstance(d, dtype):
        return d.np
    if d is builtins_float:
        return _default_float.np
    if d is builtins_int:
        return np.int64
    if d is builtins_bool:
        return np.bool_
    return from_numpy_dtype(d).np


builtins_float, builtins_int, builtins_bool = builtins.float, builtins.int, builtins.bool


def _category(d: dtype) -> int:
    """0 for bool, 1 for integers, 2 for floating point."""
    return 2 if d.is_floating_point else (0 if d is bool else 1)


def promote_types(a: dtype, b: dtype) -> dtype:
    """The smallest dtype both convert to, as torch.promote_types."""
    if a is b:
        return a
    ca, cb = _category(a), _category(b)
    if ca == 2 and cb != 2:
        return a
    if cb == 2 and ca != 2:
        return b
    return _BY_NP[np.promote_types(a.np, b.np)]


def _combine(higher: dtype | None, lower: dtype | None) -> dtype | None:
    """Merge the result of a higher-priority group with a lower one (PyTorch's rule)."""
    if higher is None:
        return lower
    if lower is None or higher.is_floating_point:
        return higher
    if higher is bool or lower.is_floating_point:
        return promote_types(higher, lower)
    return higher


def result_type(*operands: Any) -> dtype:
    """The dtype of an elementwise op on tensors and Python scalars, as torch.result_type.

    Tensors with dimensions outrank zero-dim tensors, which outrank Python scalars; a
    lower group only matters when it is of a higher category (bool < int < float).
    """
    dims = zeros = scalars = None
    for x in operands:
        d = getattr(x, "dtype", None)
        if isinstance(d, dtype):
            if x.ndim:
                dims = d if dims is None else promote_types(dims, d)
            else:
                zeros = d if zeros is None else promote_types(zeros, d)
        else:
            d = scalar_dtype(x)
            scalars = d if scalars is None else promote_types(scalars, d)
    result = _combine(dims, _combine(zeros, scalars))
    assert result is not None
    return result


def scalar_dtype(value: Any) -> dtype:
    """The dtype a Python scalar takes in promotion (float -> default float)."""
    if isinstance(value, builtins_bool) or isinstance(value, np.bool_):
        return bool
    if isinstance(value, (builtins_int, np.integer)):
        return int64
    if isinstance(value, (builtins_float, np.floating)):
        return _default_float
    raise TypeError(f"expected a tensor or a number, got {type(value).__name__}")


class finfo:  # noqa: N801 - PyTorch's name
    """Machine limits of a floating-point dtype (bits, eps, max, min, tiny, resolution)."""

    def __init__(self, type: dtype | None = None) -> None:  # noqa: A002 - PyTorch's name
        d = _default_float if type is None else type
        if not isinstance(d, dtype) or not d.is_floating_point:
            raise TypeError(f"torch.finfo() requires a floating point input type, got {d}")
        info = np.finfo(d.np)
        self.bits: builtins.int = info.bits
        self.eps: builtins.float = builtins.float(info.eps)
        self.max: builtins.float = builtins.float(info.max)
        self.min: builtins.float = builtins.float(info.min)
        self.tiny: builtins.float = builtins.float(info.smallest_normal)
        self.smallest_normal = self.tiny
        self.resolution: builtins.float = 10.0 ** -builtins.int(info.precision)
        self.dtype: str = d.name

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution}, min={self.min:g}, max={self.max:g}, "
                f"eps={self.eps:g}, smallest_normal={self.tiny:g}, tiny={self.tiny:g}, "
                f"dtype={self.dtype})")


class iinfo:  # noqa: N801 - PyTorch's name
    """Machine limits of an integer dtype: bits, max, min."""

    def __init__(self, type: dtype) -> None:  # noqa: A002 - PyTorch's name
        if type is bool:
            raise TypeError("torch.bool is not supported by torch.iinfo")
        if not isinstance(type, dtype) or type.is_floating_point:
            raise TypeError(f"torch.iinfo() requires an integer input type, got {type}")
        info = np.iinfo(type.np)
        self.bits: builtins.int = info.bits
        self.max: builtins.int = builtins.int(info.max)
        self.min: builtins.int = builtins.int(info.min)
        self.dtype: str = type.name

    def __repr__(self) -> str:
        return f"iinfo(min={self.min:g}, max={self.max:g}, dtype={self.dtype})"
