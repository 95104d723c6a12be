"""Flatten parameters into one vector and back."""

from __future__ import annotations

from typing import Iterable

from ...autograd.grad_mode import no_grad
from ...autograd.tensor import Tensor
from ...ops.shape import cat


def parameters_to_vector(parameters: Iterable[Tensor]) -> Tensor:
    """Concatenate the flattened parameters into one 1-D tensor (differentiable)."""
    params = list(parameters)
    if not params:
        raise RuntimeError("parameters_to_vector: no parameters given")
    device = params[0].device
    for p in params:
        if p.device != device:
            raise TypeError("Found two parameters on different devices, this is currently "
                            "not supported.")
    return cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec: Tensor, parameters: Iterable[Tensor]) -> None:
    """Copy consecutive slices of the 1-D `vec` into the parameters, in order."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected Tensor, but got: {type(vec).__name__}")
    params = list(parameters)
    total = sum(p.numel() for p in params)
    if vec.ndim != 1 or vec.numel() != total:
        raise RuntimeError(f"vector_to_parameters: expected a vector of {total} elements, "
                           f"got shape {tuple(vec.shape)}")
    offset = 0
    with no_grad():
        for p in params:
            n = p.numel()
            p._data = vec._data[offset:offset + n].reshape(p.shape).astype(p._data.dtype,
                                                                         copy=True)
            p._version_box[0] += 1
            offset += n
