"""Tensor factories: from data, filled, ranges, identity, and random samples."""

from __future__ import annotations

import math
from typing import Any, Sequence

from .. import dtypes
from .. import random as rnd
from .._backend import device as parse_device
from .._backend import np, to_device
from ..autograd.tensor import Tensor, _to_array


def _finish(array: Any, dtype: Any, device: Any, requires_grad: bool) -> Tensor:
    """Cast, move and wrap a freshly made NumPy array."""
    if dtype is not None and array.dtype != dtypes.to_numpy_dtype(dtype):
        array = array.astype(dtypes.to_numpy_dtype(dtype))
    if device is not None:
        array = to_device(array, parse_device(device))
    t = Tensor._make(array, False, None)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _size(size: Sequence[Any]) -> tuple[int, ...]:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    for s in size:
        if not isinstance(s, (int, np.integer)) or s < 0:
            raise RuntimeError(f"sizes must be non-negative integers, got {tuple(size)}")
    return tuple(int(s) for s in size)


def _float(dtype: Any) -> Any:
    return dtypes.to_numpy_dtype(dtype) if dtype is not None else dtypes.get_default_dtype().np


def tensor(data: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A new tensor copied from data (lists, numbers, arrays); floats default to float32."""
    try:
        array = _to_array(data, None if dtype is None else _as_dtype(dtype))
    except ValueError as e:
        ragged = _ragged(data, _nested_shape(data)) if isinstance(data, (list, tuple)) else None
        if ragged is None:
            raise
        raise ragged from e  # PyTorch's words instead of NumPy's "inhomogeneous shape"
    return _finish(array, None, device, requires_grad)


def _nested_shape(data: Any) -> list[int]:
    """The shape nested lists claim by their first elements."""
    shape = []
    while isinstance(data, (list, tuple)):
        shape.append(len(data))
        data = data[0] if len(data) else None
    return shape


def _ragged(seq: Any, shape: list[int], dim: int = 0) -> Exception | None:
    """PyTorch's error for the first list whose length differs from `shape`, or None."""
    if len(seq) != shape[dim]:
        return ValueError(f"expected sequence of length {shape[dim]} at dim {dim} "
                          f"(got {len(seq)})")
    for item in seq:
        nested = isinstance(item, (list, tuple))
        if nested != (dim + 1 < len(shape)):
            return TypeError(f"expected {'a sequence' if not nested else 'a number'} at dim "
                             f"{dim + 1}, got {type(item).__name__}")
        found = _ragged(item, shape, dim + 1) if nested else None
        if found is not None:
            return found
    return None


def _as_dtype(d: Any) -> dtypes.dtype:
    return d if isinstance(d, dtypes.dtype) else dtypes.from_numpy_dtype(dtypes.to_numpy_dtype(d))


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """A tensor sharing memory with `data` when possible (arrays, tensors)."""
    if isinstance(data, Tensor):
        return data.to(device=device, dtype=dtype) if (dtype or device) else data
    if isinstance(data, np.ndarray):
        t = from_numpy(data)
        return t.to(device=device, dtype=_as_dtype(dtype)) if (dtype or device) else t
    return tensor(data, dtype=dtype, device=device)


def from_numpy(array: Any) -> Tensor:
    """A tensor sharing memory with a NumPy array (changes show in both)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    dtypes.from_numpy_dtype(array.dtype)  # raises for unsupported dtypes
    return Tensor._make(array, False, None)


def zeros(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of zeros."""
    return full(_size(size), 0.0, dtype=dtype or dtypes.get_default_dtype(), device=device,
                requires_grad=requires_grad)


def ones(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A tensor of ones."""
    return full(_size(size), 1.0, dtype=dtype or dtypes.get_default_dtype(), device=device,
                requires_grad=requires_grad)


def empty(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """An uninitialised tensor (here: zeros, which costs the same on NumPy)."""
    return zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)


def full(size: Sequence[int], fill_value: Any, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    """A tensor filled with one value (dtype inferred from the value if not given)."""
    if dtype is None:
        dtype = dtypes.scalar_dtype(fill_value.item() if isinstance(fill_value, Tensor)
                                    else fill_value)
    return _finish(np.full(_size((size,)), fill_value, dtype=dtypes.to_numpy_dtype(dtype)),
                   None, device, requires_grad)


def _like(x: Tensor, dtype: Any, device: Any) -> dict:
    return {"dtype": dtype or x.dtype, "device": device or x.device}


def zeros_like(x: Tensor, dtype: Any = None, device: Any = None,
               requires_grad: bool = False) -> Tensor:
    """Zeros with x's shape, dtype and device."""
    return full(tuple(x.shape), 0, **_like(x, dtype, device), requires_grad=requires_grad)


def ones_like(x: Tensor, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    """Ones with x's shape, dtype and device."""
    return full(tuple(x.shape), 1, **_like(x, dtype, device), requires_grad=requires_grad)


def empty_like(x: Tensor, dtype: Any = None, device: Any = None,
               requires_grad: bool = False) -> Tensor:
    """Uninitialised memory with x's shape, dtype and device."""
    return zeros_like(x, dtype, device, requires_grad)


def full_like(x: Tensor, fill_value: Any, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    """`fill_value` with x's shape, dtype and device."""
    return full(tuple(x.shape), fill_value, **_like(x, dtype, device), requires_grad=requires_grad)


def arange(start: Any, end: Any = None, step: Any = 1, *, dtype: Any = None, device: Any = None,
           requires_grad: bool = False) -> Tensor:
    """Values from start up to (not including) end by step; int64 unless a bound is a float."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if dtype is None:
        is_float = any(isinstance(v, float) for v in (start, end, step))
        dtype = dtypes.get_default_dtype() if is_float else dtypes.int64
    count = max(math.ceil((end - start) / step), 0)
    array = start + step * np.arange(count, dtype=np.float64 if _as_dtype(dtype).is_floating_point
                                     else np.int64)
    return _finish(np.asarray(array), dtype, device, requires_grad)


def linspace(start: float, end: float, steps: int, *, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """`steps` evenly spaced values from start to end inclusive."""
    return _finish(np.linspace(start, end, steps), dtype or dtypes.get_default_dtype(), device,
                   requires_grad)


def logspace(start: float, end: float, steps: int, base: float = 10.0, *, dtype: Any = None,
             device: Any = None) -> Tensor:
    """base ** linspace(start, end, steps)."""
    return _finish(np.logspace(start, end, steps, base=base), dtype or dtypes.get_default_dtype(),
                   device, False)


def eye(n: int, m: int | None = None, *, dtype: Any = None, device: Any = None,
        requires_grad: bool = False) -> Tensor:
    """An identity matrix (n, m)."""
    return _finish(np.eye(n, m), dtype or dtypes.get_default_dtype(), device, requires_grad)


def _float_samples(draw: str, size: Sequence[Any], generator: Any, dtype: Any, device: Any,
                   requires_grad: bool) -> Tensor:
    """Samples from the NumPy Generator method `draw` (it takes a float32 or float64 dtype;
    other float dtypes are drawn in float64 and cast)."""
    d = _float(dtype)
    sample_dtype = d if d in (np.float32, np.float64) else np.float64
    array = getattr(rnd.gen(generator), draw)(_size(size), dtype=sample_dtype)
    return _finish(array, _as_dtype(d), device, requires_grad)


def rand(*size: Any, generator: Any = None, dtype: Any = None, device: Any = None,
         requires_grad: bool = False) -> Tensor:
    """Uniform samples in [0, 1)."""
    return _float_samples("random", size, generator, dtype, device, requires_grad)


def randn(*size: Any, generator: Any = None, dtype: Any = None, device: Any = None,
          requires_grad: bool = False) -> Tensor:
    """Standard normal samples."""
    return _float_samples("standard_normal", size, generator, dtype, device, requires_grad)


def randint(low: int, high: Any = None, size: Any = None, *, generator: Any = None,
            dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Integers drawn uniformly from [low, high); randint(high, size) also works."""
    if size is None:
        low, high, size = 0, low, high
    array = rnd.gen(generator).integers(low, high, _size((size,)), dtype=np.int64)
    return _finish(array, dtype or dtypes.int64, device, requires_grad)


def randperm(n: int, *, generator: Any = None, dtype: Any = None, device: Any = None) -> Tensor:
    """A random permutation of 0..n-1."""
    return _finish(rnd.gen(generator).permutation(n).astype(np.int64), dtype, device, False)


def normal(mean: Any = 0.0, std: Any = 1.0, size: Any = None, *, generator: Any = None,
           dtype: Any = None, device: Any = None) -> Tensor:
    """Normal samples with the given mean and std (numbers or tensors that broadcast)."""
    m = mean._data if isinstance(mean, Tensor) else mean
    s = std._data if isinstance(std, Tensor) else std
    shape = _size((size,)) if size is not None else np.broadcast_shapes(np.shape(m), np.shape(s))
    array = rnd.gen(generator).normal(m, s, shape)
    like = mean if isinstance(mean, Tensor) else std if isinstance(std, Tensor) else None
    return _finish(np.asarray(array), dtype or (like.dtype if like is not None
                                                else dtypes.get_default_dtype()), device, False)


def rand_like(x: Tensor, dtype: Any = None, device: Any = None) -> Tensor:
    """Uniform [0, 1) samples shaped like x."""
    return rand(tuple(x.shape), **_like(x, dtype, device))


def randn_like(x: Tensor, dtype: Any = None, device: Any = None) -> Tensor:
    """Standard normal samples shaped like x."""
    return randn(tuple(x.shape), **_like(x, dtype, device))


def randint_like(x: Tensor, low: int, high: int | None = None, dtype: Any = None) -> Tensor:
    """Random integers shaped like x."""
    if high is None:
        low, high = 0, low
    return randint(low, high, tuple(x.shape), dtype=dtype or x.dtype, device=x.device)


def bernoulli(p: Tensor, *, generator: Any = None) -> Tensor:
    """1 with probability p (elementwise), else 0; same dtype as p."""
    sample = rnd.gen(generator).random(p.shape) < p._data
    return _finish(sample, p.dtype, p.device, False)


def multinomial(probs: Tensor, num_samples: int, replacement: bool = False, *,
                generator: Any = None) -> Tensor:
    """Draw category indices from each row of (unnormalised) probabilities."""
    rng = rnd.gen(generator)
    rows = np.atleast_2d(np.asarray(probs._data, dtype=np.float64))
    if (rows < 0).any() or not np.isfinite(rows).all():
        raise RuntimeError("probability tensor contains either inf, nan or element < 0")
    out = np.empty((rows.shape[0], num_samples), dtype=np.int64)
    for i, row in enumerate(rows):
        total = row.sum()
        if total <= 0:
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        out[i] = rng.choice(row.size, size=num_samples, replace=replacement, p=row / total)
    return _finish(out if probs.ndim == 2 else out[0], None, probs.device, False)


def _legacy(dtype: dtypes.dtype) -> Any:
    def make(*args: Any) -> Tensor:
        if args and all(isinstance(a, int) for a in args):
            return zeros(*args, dtype=dtype)
        return tensor(args[0], dtype=dtype)

    make.__doc__ = f"Legacy constructor: {dtype.name} tensor from data or sizes."
    return make


FloatTensor = _legacy(dtypes.float32)
DoubleTensor = _legacy(dtypes.float64)
LongTensor = _legacy(dtypes.int64)
IntTensor = _legacy(dtypes.int32)
BoolTensor = _legacy(dtypes.bool)
ByteTensor = _legacy(dtypes.uint8)
