"""`repr` of tensors in PyTorch's style: tensor([...], dtype=..., requires_grad=True)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import dtypes
from .._backend import np

if TYPE_CHECKING:
    from .tensor import Tensor

_DEFAULT_SHOWN = ("float32", "int64", "bool")


def _float_formatter(values: np.ndarray) -> tuple:
    """Pick fixed or scientific notation the way PyTorch does, for the finite values."""
    finite = np.abs(values[np.isfinite(values)]).astype(np.float64)
    if finite.size == 0:
        return (lambda v: f"{v:.4f}"), False
    if np.all(finite == np.round(finite)) and finite.max() < 1e8:
        return (lambda v: f"{v:.0f}." if np.isfinite(v) else str(v)), True
    nonzero = finite[finite != 0]
    if nonzero.size and (nonzero.max() / nonzero.min() > 1000 or nonzero.max() > 1e8
                         or nonzero.min() < 1e-4):
        return (lambda v: f"{v:.4e}"), False
    return (lambda v: f"{v:.4f}"), False


def tensor_repr(t: Tensor) -> str:
    """tensor([[0.1000, 2.0000]], requires_grad=True)."""
    data = np.asarray(t)
    prefix = "tensor("
    if data.size == 0:
        body = "[]"
    elif data.dtype.kind == "f":
        fmt, _ = _float_formatter(data)
        body = np.array2string(data, separator=", ", prefix=prefix, max_line_width=80,
                               formatter={"float_kind": fmt}, threshold=1000, edgeitems=3)
    else:
        body = np.array2string(data, separator=", ", prefix=prefix, max_line_width=80,
                               threshold=1000, edgeitems=3)
        if data.dtype.kind == "b":
            body = body.replace("True", " True").replace("  True", " True")
    suffix = []
    if t.device.type != "cpu":
        suffix.append(f"device='{t.device}'")
    if data.size == 0 and data.shape != (0,):
        suffix.append(f"size={tuple(data.shape)}")
    if t.dtype.name not in _DEFAULT_SHOWN or (
        t.dtype.is_floating_point and t.dtype is not dtypes.get_default_dtype()
    ):
        suffix.append(f"dtype={t.dtype!r}")
    if t.grad_fn is not None:
        suffix.append(f"grad_fn=<{t.grad_fn.name}>")
    elif t.requires_grad:
        suffix.append("requires_grad=True")
    return prefix + body + "".join(", " + s for s in suffix) + ")"
