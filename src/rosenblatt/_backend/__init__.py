"""The backend seam: the only package that imports NumPy or CuPy.

Every array operation in Rosenblatt goes through an array module `xp` (NumPy on the CPU,
CuPy on a CUDA GPU) taken from the device an array lives on, so ops are written once.
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np

__all__ = ["np", "Device", "device", "array_module", "to_device", "cuda_is_available",
           "writable", "overlaps_itself", "broadcast_view", "dense"]

_cupy: Any = None


def _load_cupy() -> Any:
    """Import CuPy on first use (it is optional and slow to import)."""
    global _cupy
    if _cupy is None:
        try:
            _cupy = importlib.import_module("cupy")
        except ImportError:
            _cupy = False
    return _cupy


def cuda_is_available() -> bool:
    """True when CuPy is installed and sees at least one CUDA device."""
    cp = _load_cupy()
    if not cp:
        return False
    try:
        return cp.cuda.runtime.getDeviceCount() > 0
    except Exception:  # CuPy installed but no driver
        return False


class Device:
    """Where a tensor's data lives: `cpu` (NumPy) or `cuda[:index]` (CuPy)."""

    __slots__ = ("type", "index")

    def __init__(self, type: str, index: int | None = None) -> None:  # noqa: A002
        self.type = type
        self.index = index

    @property
    def xp(self) -> Any:
        """The array module for this device (numpy or cupy)."""
        if self.type == "cpu":
            return np
        cp = _load_cupy()
        if not cp:
            raise RuntimeError("device 'cuda' needs CuPy: pip install 'rosenblatt[gpu]'")
        return cp

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            other = device(other)
        return (
            isinstance(other, Device)
            and self.type == other.type
            and (self.index or 0) == (other.index or 0)
        )

    def __hash__(self) -> int:
        return hash((self.type, self.index or 0))

    def __repr__(self) -> str:
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{index})"

    def __str__(self) -> str:
        return self.type if self.index is None else f"{self.type}:{self.index}"


CPU = Device("cpu")


def device(spec: str | Device | None = None, index: int | None = None) -> Device:
    """Parse `'cpu'`, `'cuda'`, `'cuda:1'` (or a Device) into a Device."""
    if spec is None:
        return CPU
    if isinstance(spec, Device):
        return spec
    if not isinstance(spec, str):
        raise TypeError(f"device must be a string or a device, got {type(spec).__name__}")
    kind, _, num = spec.partition(":")
    if kind not in ("cpu", "cuda"):
        raise RuntimeError(
            f"Expected one of cpu, cuda device type at start of device string: {spec}"
        )
    if num:
        index = int(num)
    if kind == "cpu":
        return CPU if index is None else Device("cpu", index)
    return Device("cuda", index)


def array_module(array: Any) -> Any:
    """The array module that owns `array` (numpy unless it is a CuPy array)."""
    if type(array) is np.ndarray or isinstance(array, np.generic):
        return np
    cp = _load_cupy()
    if cp and isinstance(array, cp.ndarray):
        return cp
    return np


ndarray = np.ndarray


def as_array(value: Any) -> Any:
    """NumPy scalars (what `ndarray.sum()` returns) as 0-d arrays; other arrays unchanged."""
    if isinstance(value, np.generic):
        return np.asarray(value)
    return value


def overlaps_itself(array: Any) -> bool:
    """Whether several elements of `array` share one memory place (a zero stride over a
    dimension of size > 1, as an expanded view has)."""
    return 0 in array.strides and array.size > 0 and any(
        stride == 0 and size > 1 for stride, size in zip(array.strides, array.shape))


def dense(array: Any) -> bool:
    """PyTorch's is_non_overlapping_and_dense: some order of the dims is row-major, no gaps."""
    if array.flags.c_contiguous or array.flags.f_contiguous:
        return True
    expected = array.itemsize
    for stride, size in sorted((s, n) for s, n in zip(array.strides, array.shape) if n != 1):
        if stride != expected:
            return False
        expected *= size
    return True


def writable(array: Any) -> bool:
    """Whether adding into `array` in place is safe: not read-only (NumPy's flag; CuPy has
    none) and no view that repeats elements (an expanded tensor's memory is writable, as in
    PyTorch, but adding a gradient into it would add once per place, not once per element)."""
    if type(array) is np.ndarray and not array.flags.writeable:
        return False
    return not overlaps_itself(array)


def broadcast_view(array: Any, shape: tuple) -> Any:
    """`array` broadcast to `shape` as a view that is writable where `array` is (NumPy's
    broadcast_to is read-only; PyTorch's expanded tensors can be written, e.g. by fill_)."""
    if type(array) is not np.ndarray or not array.flags.writeable:
        return array_module(array).broadcast_to(array, shape)
    lead = len(shape) - array.ndim
    strides = (0,) * lead + tuple(
        0 if size == 1 and shape[lead + i] != 1 else stride
        for i, (size, stride) in enumerate(zip(array.shape, array.strides)))
    # over the memory's owner (NumPy's `base` of any view), so the result's base is the
    # input's or its base, as for every other view op
    owner, offset = array, 0
    if array.base is not None:
        owner = array.base
        offset = array.ctypes.data - owner.ctypes.data
    try:
        return np.ndarray(shape, array.dtype, buffer=owner, offset=offset, strides=strides)
    except (TypeError, ValueError, BufferError, AttributeError):  # an owner without a buffer
        return np.broadcast_to(array, shape)


def device_of(array: Any) -> Device:
    """The Device an array lives on."""
    if type(array) is np.ndarray:
        return CPU
    cp = _load_cupy()
    if cp and isinstance(array, cp.ndarray):
        return Device("cuda", array.device.id)
    return CPU


def to_device(array: Any, target: Device) -> Any:
    """Copy `array` to `target` (no copy when it is already there)."""
    if device_of(array) == target:
        return array
    if target.type == "cpu":
        return array.get()
    cp = target.xp
    with cp.cuda.Device(target.index or 0):
        return cp.asarray(array)
