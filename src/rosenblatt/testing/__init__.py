"""`torch.testing`: assert_close with PyTorch's default tolerances per dtype."""

from __future__ import annotations

from typing import Any

from .._backend import CPU, np, to_device
from ..autograd.tensor import Tensor

__all__ = ["assert_close"]

# (rtol, atol) by dtype, PyTorch's defaults; integers and bools compare exactly
_TOLERANCES = {"float16": (1e-3, 1e-5), "float32": (1.3e-6, 1e-5), "float64": (1e-7, 1e-7)}


def _as_array(value: Any) -> tuple[Any, str]:
    if isinstance(value, Tensor):
        return to_device(value.detach()._data, CPU), "Tensor"
    return np.asarray(value), type(value).__name__


def _close(actual: Any, expected: Any, rtol: float | None, atol: float | None,
           equal_nan: bool, check_dtype: bool, where: str) -> None:
    a, kind_a = _as_array(actual)
    e, kind_e = _as_array(expected)
    if a.shape != e.shape:
        raise AssertionError(f"The values for attribute 'shape' do not match: {a.shape} != "
                             f"{e.shape}.{where}")
    if check_dtype and isinstance(actual, Tensor) and a.dtype != e.dtype:
        raise AssertionError(f"The values for attribute 'dtype' do not match: {a.dtype} != "
                             f"{e.dtype}.{where}")
    default = _TOLERANCES.get(np.promote_types(a.dtype, e.dtype).name, (0.0, 0.0))
    rtol = default[0] if rtol is None else rtol
    atol = default[1] if atol is None else atol
    a64, e64 = a.astype(np.float64), e.astype(np.float64)
    close = np.isclose(a64, e64, rtol=rtol, atol=atol, equal_nan=equal_nan)
    if close.all():
        return
    diff = np.abs(a64 - e64)
    rel = diff / np.where(e64 == 0, np.inf, np.abs(e64))
    bad = int((~close).sum())
    worst_abs = np.unravel_index(np.nanargmax(np.where(close, -1, diff)), a.shape)
    worst_rel = np.unravel_index(np.nanargmax(np.where(close, -1, rel)), a.shape)
    name = "Tensor-likes" if "Tensor" in (kind_a, kind_e) else "Scalars"
    raise AssertionError(
        f"{name} are not close!\n\nMismatched elements: {bad} / {a.size} "
        f"({100.0 * bad / max(a.size, 1):.1f}%)\n"
        f"Greatest absolute difference: {diff[worst_abs]} at index {tuple(map(int, worst_abs))} "
        f"(up to {atol} allowed)\n"
        f"Greatest relative difference: {rel[worst_rel]} at index "
        f"{tuple(map(int, worst_rel))} (up to {rtol} allowed){where}")


def assert_close(actual: Any, expected: Any, *, allow_subclasses: bool = True,
                 rtol: float | None = None, atol: float | None = None, equal_nan: bool = False,
                 check_device: bool = True, check_dtype: bool = True, check_layout: bool = True,
                 check_stride: bool = False, msg: str | None = None) -> None:
    """Raise AssertionError unless |actual - expected| <= atol + rtol |expected| everywhere
    (tensors, numbers, arrays, or lists/tuples/dicts of them, compared item by item)."""
    if (rtol is None) != (atol is None):
        raise ValueError("Both 'rtol' and 'atol' must be either specified or omitted, but got "
                         f"no {'atol' if atol is None else 'rtol'}.")
    try:
        _compare(actual, expected, rtol, atol, equal_nan, check_dtype, "")
    except AssertionError as e:
        raise AssertionError(msg or str(e)) from None


def _compare(actual: Any, expected: Any, rtol: Any, atol: Any, equal_nan: bool,
             check_dtype: bool, path: str) -> None:
    if isinstance(actual, dict) and isinstance(expected, dict):
        if set(actual) != set(expected):
            raise AssertionError(f"The keys of the mappings do not match{path}")
        for key in actual:
            _compare(actual[key], expected[key], rtol, atol, equal_nan, check_dtype,
                     f"{path}[{key!r}]")
        return
    if isinstance(actual, (list, tuple)) and isinstance(expected, (list, tuple)) and \
            not all(isinstance(v, (int, float, bool)) for v in (*actual, *expected)):
        if len(actual) != len(expected):
            raise AssertionError(f"The length of the sequences mismatch: {len(actual)} != "
                                 f"{len(expected)}{path}")
        for i, (a, e) in enumerate(zip(actual, expected)):
            _compare(a, e, rtol, atol, equal_nan, check_dtype, f"{path}[{i}]")
        return
    where = f"\n\nThe failure occurred for item {path}" if path else ""
    _close(actual, expected, rtol, atol, equal_nan, check_dtype, where)
