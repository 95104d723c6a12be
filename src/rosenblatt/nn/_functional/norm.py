"""batch, instance, layer and group norm: statistics and running averages here, the math in
ops/norm.py."""

from __future__ import annotations

import math
from typing import Any, Sequence

from ... import dtypes
from ..._backend import array_module, parallel
from ...autograd.tensor import Tensor
from ...ops import elementwise as ew
from ...ops import norm as ops_norm

__all__ = ["batch_norm", "group_norm", "instance_norm", "layer_norm"]


def batch_norm(input: Tensor, running_mean: Tensor | None,  # noqa: A002
               running_var: Tensor | None, weight: Tensor | None = None,
               bias: Tensor | None = None, training: bool = False, momentum: float = 0.1,
               eps: float = 1e-5) -> Tensor:
    """Normalise each channel of (N, C, *) input; in training, update the running stats."""
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected input of shape (N, C, *), got {tuple(input.shape)}")
    x = input._data
    xp = array_module(x)
    _check_per_channel("batch_norm", input, weight=weight, bias=bias,
                       running_mean=running_mean, running_var=running_var)
    _check_dtypes("batch_norm", input, weight, bias, running_mean, running_var)
    if training:
        count = x.size // input.shape[1]
        if count <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input "
                             f"size {list(input.shape)}")
        mean, var = _moments(x, (0,) + tuple(range(2, x.ndim)))
        _update_running(running_mean, running_var, mean, var, count, momentum)
    else:
        if running_mean is None or running_var is None:
            raise RuntimeError("batch_norm: running_mean and running_var are needed when not "
                               "training")
        mean, var = running_mean._data, running_var._data
    invstd = (1 / xp.sqrt(var + eps)).astype(x.dtype)
    return ops_norm.BatchNorm.apply(input, weight, bias, mean=mean.astype(x.dtype),
                                    invstd=invstd, batch_stats=training)


def _check_dtypes(kernel: str, input: Tensor, *params: Tensor | None) -> None:  # noqa: A002
    """PyTorch's CPU norm kernels: floating-point input only, and parameters (and running
    statistics) of the input's dtype."""
    if not input.is_floating_point():
        raise NotImplementedError(f"\"{kernel}\" not implemented for "
                                  f"'{dtypes.scalar_type_name(input.dtype)}'")
    for t in params:
        if t is not None and t.dtype is not input.dtype:
            raise RuntimeError(f"mixed dtype (CPU): expect parameter to have scalar type of "
                               f"{dtypes.scalar_type_name(input.dtype)}")


def _check_per_channel(fn: str, input: Tensor, **tensors: Tensor | None) -> None:  # noqa: A002
    """Each given tensor must have shape (C,) for (N, C, *) input."""
    channels = input.shape[1]
    for name, t in tensors.items():
        if t is not None and tuple(t.shape) != (channels,):
            raise RuntimeError(f"{fn}: {name} of shape {tuple(t.shape)} does not match "
                               f"{channels} channels of input {tuple(input.shape)}")


def _moments(x: Any, axes: tuple) -> tuple[Any, Any]:
    """Mean and biased variance of array x over axes (which are dropped); over the kernel
    threads by the first other axis (batch norm's channels), when large."""
    mean, var = parallel.reduced(_kept_moments, x, axes, axes=axes)
    return mean.squeeze(axis=axes), var.squeeze(axis=axes)


def _kept_moments(x: Any, axes: tuple) -> tuple[Any, Any]:
    mean = x.mean(axis=axes, keepdims=True)
    centred = x - mean
    return mean, (centred * centred).mean(axis=axes, keepdims=True)


def _update_running(running_mean: Tensor | None, running_var: Tensor | None, mean: Any,
                    var: Any, count: int, momentum: float) -> None:
    """Blend (C,) batch mean and biased variance of `count` values into the running stats."""
    if running_mean is not None and running_var is not None:
        _update(running_mean, mean, momentum)
        _update(running_var, var * (count / (count - 1)), momentum)  # unbiased, as PyTorch


def _update(running: Tensor, value: Any, momentum: float) -> None:
    """running = (1 - momentum) * running + momentum * value, in place."""
    data = running._data
    data *= 1 - momentum
    data += (momentum * value).astype(data.dtype)
    running._version_box[0] += 1


def instance_norm(input: Tensor, running_mean: Tensor | None = None,  # noqa: A002
                  running_var: Tensor | None = None, weight: Tensor | None = None,
                  bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise (N, C, *) per sample and channel over *; optionally update running stats."""
    if input.ndim < 2:
        raise ValueError(f"instance_norm: expected input of shape (N, C, *), got "
                         f"{tuple(input.shape)}")
    spatial = math.prod(input.shape[2:])
    if use_input_stats and spatial == 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input "
                         f"size {list(input.shape)}")
    _check_per_channel("instance_norm", input, weight=weight, bias=bias,
                       running_mean=running_mean, running_var=running_var)
    _check_dtypes("batch_norm", input, weight, bias, running_mean, running_var)
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise RuntimeError("Expected running_mean and running_var to be defined when "
                               "use_input_stats is false")
        # fixed per-channel statistics for every sample: exactly batch norm in evaluation
        return batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    if running_mean is not None and running_var is not None:
        # PyTorch updates one copy of the running stats per sample, then averages the copies
        mean, var = _moments(input._data, tuple(range(2, input.ndim)))
        _update_running(running_mean, running_var, mean.mean(axis=0), var.mean(axis=0),
                        spatial, momentum)
    # one group per channel: group norm's per-sample statistics are instance norm's
    return group_norm(input, input.shape[1], weight, bias, eps)


def layer_norm(input: Tensor, normalized_shape: Sequence[int] | int,  # noqa: A002
               weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Normalise over the trailing normalized_shape dims, then scale and shift each element."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if tuple(input.shape[input.ndim - k:]) != shape or input.ndim < k:
        raise RuntimeError(f"Given normalized_shape={list(shape)}, expected input with shape "
                           f"[*, {', '.join(map(str, shape))}], but got input of size"
                           f"{list(input.shape)}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != shape:
            raise RuntimeError(f"layer_norm: {name} of shape {tuple(t.shape)} does not match "
                               f"normalized_shape {shape}")
    _check_dtypes("LayerNormKernelImpl", input, weight, bias)
    return ops_norm.LayerNorm.apply(input, weight, bias, k=k, eps=eps)


def rms_norm(input: Tensor, normalized_shape: Sequence[int] | int,  # noqa: A002
             weight: Tensor | None = None, eps: float | None = None) -> Tensor:
    """x / sqrt(mean(x^2 over the trailing normalized_shape dims) + eps), times weight; eps
    None means the dtype's machine epsilon (PyTorch's RMSNorm)."""
    shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    k = len(shape)
    if input.ndim < k or tuple(input.shape[input.ndim - k:]) != shape:
        raise RuntimeError(f"Given normalized_shape={list(shape)}, expected input with shape "
                           f"[*, {', '.join(map(str, shape))}], but got input of size"
                           f"{list(input.shape)}")
    if eps is None:
        eps = float(array_module(input._data).finfo(input._data.dtype).eps)
    dims = tuple(range(input.ndim - k, input.ndim))
    out = input * ew.rsqrt((input * input).mean(dim=dims, keepdim=True) + eps)
    return out if weight is None else out * weight


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,  # noqa: A002
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise (N, C, *) over each group of C / num_groups channels, then per-channel affine."""
    if input.ndim < 2 or input.shape[1] % num_groups:
        raise RuntimeError(f"group_norm: expected input of shape (N, C, *) with C divisible by "
                           f"num_groups={num_groups}, got {tuple(input.shape)}")
    _check_dtypes("GroupNormKernelImpl", input, weight, bias)
    n = input.shape[0]
    grouped = input.reshape(n, num_groups, -1)
    out = ops_norm.LayerNorm.apply(grouped, None, None, k=1, eps=eps).reshape(input.shape)
    channel_shape = (1, -1) + (1,) * (input.ndim - 2)
    if weight is not None:
        out = out * weight.reshape(channel_shape)
    if bias is not None:
        out = out + bias.reshape(channel_shape)
    return out
