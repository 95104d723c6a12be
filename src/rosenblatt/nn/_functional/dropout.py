"""Channel (feature) dropout: dropout1d, dropout2d, dropout3d zero whole feature maps at once."""

from __future__ import annotations

import warnings

from ... import random as rnd
from ..._backend import to_device
from ...autograd.tensor import Tensor
from ...ops import elementwise as ew
from .basic import keep_mask


def _drop_with_mask(input: Tensor, p: float, training: bool, inplace: bool,  # noqa: A002
                    mask_shape: tuple) -> Tensor:
    """input * (one keep/drop draw per mask_shape cell) / (1 - p); broadcast over the rest."""
    if not training or p == 0.0:
        return input
    scale = 0.0 if p == 1.0 else 1.0 / (1.0 - p)
    mask = keep_mask(rnd.gen().random(mask_shape), p, scale, input._data.dtype)
    mask = Tensor._make(to_device(mask, input.device), False, None)
    return input.mul_(mask) if inplace else ew.mul(input, mask)


def _check_p(p: float) -> None:
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True,  # noqa: A002
              inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, L) or (C, L) with probability p, scale the rest by 1/(1-p)."""
    _check_p(p)
    if input.ndim not in (2, 3):
        raise RuntimeError(
            f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D input. Note that "
            "dropout1d exists to provide channel-wise dropout on inputs with 1 spatial "
            "dimension, a channel dimension, and an optional batch dimension (i.e. 2D or 3D "
            "inputs).")
    return _drop_with_mask(input, p, training, inplace, tuple(input.shape[:-1]) + (1,))


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,  # noqa: A002
              inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, H, W) with probability p, scale the rest by 1/(1-p).

    As in PyTorch, dims 0 and 1 are always read as (N, C): a 3-D input gets channel-wise 1-D
    dropout, and a 2-D input (N, F) plain element dropout, each with PyTorch's warning.
    """
    _check_p(p)
    if input.ndim not in (3, 4):
        warnings.warn(
            f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is deprecated and "
            "will result in an error in a future release. To retain the behavior and silence "
            "this warning, please use dropout instead. Note that dropout2d exists to provide "
            "channel-wise dropout on inputs with 2 spatial dimensions, a channel dimension, and "
            "an optional batch dimension (i.e. 3D or 4D inputs).", stacklevel=2)
    if input.ndim == 3:
        warnings.warn(
            "dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
            "dropout behavior is desired - input is interpreted as shape (N, C, L), where C is "
            "the channel dim. This behavior will change in a future release to interpret the "
            "input as one without a batch dimension, i.e. shape (C, H, W). To maintain the 1D "
            "channel-wise dropout behavior, please switch to using dropout1d instead.",
            stacklevel=2)
    if input.ndim < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    return _drop_with_mask(input, p, training, inplace,
                           tuple(input.shape[:2]) + (1,) * (input.ndim - 2))


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True,  # noqa: A002
              inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) with probability p."""
    _check_p(p)
    if input.ndim not in (4, 5):
        warnings.warn(
            f"dropout3d: Received a {input.ndim}-D input to dropout3d, which is deprecated and "
            "will result in an error in a future release. To retain the behavior and silence "
            "this warning, please use dropout instead. Note that dropout3d exists to provide "
            "channel-wise dropout on inputs with 3 spatial dimensions, a channel dimension, and "
            "an optional batch dimension (i.e. 4D or 5D inputs).", stacklevel=2)
    if input.ndim in (4, 5):
        shape = tuple(input.shape[:-3]) + (1, 1, 1)
    elif input.ndim >= 2:
        shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
    else:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    return _drop_with_mask(input, p, training, inplace, shape)
