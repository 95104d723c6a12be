"""Helpers shared by the op families."""

from __future__ import annotations

from typing import Any, Sequence


def unbroadcast(grad: Any, shape: tuple) -> Any:
    """Sum `grad` over the dimensions that broadcasting added or stretched to reach `shape`."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(
        extra + i for i, n in enumerate(shape) if n == 1 and grad.shape[extra + i] != 1
    )
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


def normalize_dim(dim: int, ndim: int) -> int:
    """A dimension in [0, ndim), with PyTorch's error message when out of range."""
    lo, hi = (-ndim, ndim - 1) if ndim else (-1, 0)
    if not isinstance(dim, int) or not lo <= dim <= hi:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{lo}, {hi}], but got {dim})"
        )
    return dim % ndim if ndim else 0


def normalize_dims(dim: int | Sequence[int] | None, ndim: int) -> tuple[int, ...] | None:
    """`dim` as a sorted tuple of non-negative axes, or None for all dimensions."""
    if dim is None:
        return None
    if isinstance(dim, int):
        return (normalize_dim(dim, ndim),)
    axes = tuple(sorted(normalize_dim(d, ndim) for d in dim))
    if len(set(axes)) != len(axes):
        raise RuntimeError(f"dim {tuple(dim)} appears multiple times in the list of dims")
    return axes or None


def shape_str(shape: Sequence[int]) -> str:
    """'32x784' for a shape (PyTorch's style in matmul errors)."""
    return "x".join(str(n) for n in shape) if len(shape) else "scalar"
