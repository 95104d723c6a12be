"""Loss functions with PyTorch's signatures; the classification ones are fused ops (ops/loss.py)."""

from __future__ import annotations

import warnings
from typing import Any

from ... import dtypes
from ...autograd.grad_mode import is_grad_enabled
from ...autograd.tensor import Tensor
from ...ops import elementary
from ...ops import elementwise as ew
from ...ops import loss as ops_loss
from ...ops import reduce as ops_reduce

__all__ = [
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "huber_loss",
    "kl_div", "l1_loss", "mse_loss", "nll_loss", "smooth_l1_loss",
]


def _reduction(size_average: Any, reduce_: Any, reduction: str) -> str:
    """Map the legacy size_average/reduce flags onto `reduction`, and validate it."""
    if size_average is not None or reduce_ is not None:
        warnings.warn("size_average and reduce args will be deprecated, please use "
                      "reduction='mean' (or 'sum', 'none') instead.", UserWarning, stacklevel=3)
        size_average = True if size_average is None else size_average
        reduce_ = True if reduce_ is None else reduce_
        reduction = "none" if not reduce_ else ("mean" if size_average else "sum")
    if reduction not in ops_loss.REDUCTIONS:
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _apply_reduction(losses: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return ops_reduce.mean(losses)
    if reduction == "sum":
        return ops_reduce.sum(losses)
    return losses


def _check_same_size(input: Tensor, target: Tensor) -> None:  # noqa: A002
    if tuple(target.shape) != tuple(input.shape):
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input "
                      f"size ({input.shape}). This will likely lead to incorrect results due "
                      "to broadcasting. Please ensure they have the same size.",
                      UserWarning, stacklevel=3)


def _float_target(target: Tensor, input: Tensor) -> Tensor:  # noqa: A002
    return target if target._data.dtype == input._data.dtype else ew.cast(target, input.dtype)


def _promoted(input: Tensor, target: Tensor,  # noqa: A002
              kernel: str | None) -> tuple[Tensor, Tensor]:
    """Both operands in their common dtype. PyTorch broadcasts them to one shape first, so a
    0-d operand promotes as fully as one with dimensions. Its kernels (named `kernel`) take
    bool operands but compute in floating point only; the composite l1 (kernel None)
    subtracts, which refuses bool."""
    if kernel is None:
        ew._refuse_bool_subtraction(input, target)
    common = dtypes.promote_types(input.dtype, target.dtype)
    if kernel is not None and not common.is_floating_point:
        raise NotImplementedError(
            f'"{kernel}" not implemented for \'{dtypes.scalar_type_name(common)}\'')
    return ew.cast(input, common), ew.cast(target, common)


def mse_loss(input: Tensor, target: Tensor, size_average: Any = None,  # noqa: A002
             reduce: Any = None, reduction: str = "mean") -> Tensor:
    """Mean squared error: (*), (*) -> () (or (*) with reduction='none')."""
    reduction = _reduction(size_average, reduce, reduction)
    _check_same_size(input, target)
    x, t = _promoted(input, target, "mse_cpu")
    diff = x - t
    return _apply_reduction(diff * diff, reduction)


def l1_loss(input: Tensor, target: Tensor, size_average: Any = None,  # noqa: A002
            reduce: Any = None, reduction: str = "mean") -> Tensor:
    """Mean absolute error: (*), (*) -> ()."""
    reduction = _reduction(size_average, reduce, reduction)
    _check_same_size(input, target)
    x, t = _promoted(input, target, None)
    return _apply_reduction(ew.abs(x - t), reduction)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average: Any = None,  # noqa: A002
                   reduce: Any = None, reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """0.5 d^2 / beta where |d| < beta, |d| - 0.5 beta elsewhere: (*), (*) -> ()."""
    reduction = _reduction(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    _check_same_size(input, target)
    if beta == 0:  # PyTorch's l1_loss then, with its rules
        return l1_loss(input, target, reduction=reduction)
    x, t = _promoted(input, target, "smooth_l1_cpu")
    return ops_loss.SmoothL1.apply(x, t, delta=beta, scaled=True, reduction=reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean",  # noqa: A002
               delta: float = 1.0) -> Tensor:
    """0.5 d^2 where |d| < delta, delta (|d| - 0.5 delta) elsewhere: (*), (*) -> ().

    The result has the input's dtype (PyTorch's kernel writes into a tensor like the input);
    its backward refuses a target of another dtype, as PyTorch's does."""
    reduction = _reduction(None, None, reduction)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    _check_same_size(input, target)
    if not input.is_floating_point():
        common = dtypes.promote_types(input.dtype, target.dtype)
        if common.is_floating_point:
            raise RuntimeError(f"result type {dtypes.scalar_type_name(common)} can't be cast "
                               f"to the desired output type "
                               f"{dtypes.scalar_type_name(input.dtype)}")
        raise NotImplementedError(
            f'"huber_cpu" not implemented for \'{dtypes.scalar_type_name(common)}\'')
    return ops_loss.SmoothL1.apply(input, target, delta=delta, scaled=False, reduction=reduction)


def _class_target(name: str, input: Tensor, target: Tensor) -> None:  # noqa: A002
    """Check that class-index targets are (N, *) integers for (N, C, *) input."""
    expected = tuple(input.shape[:1]) + tuple(input.shape[2:])
    if target._data.dtype.kind not in "iu":
        raise RuntimeError(f"{name}: expected target of class indices (int64) with shape "
                           f"{expected} or probabilities with shape {tuple(input.shape)}, got "
                           f"{target.dtype.name} target of shape {tuple(target.shape)}")
    if tuple(target.shape) != expected:
        raise ValueError(f"{name}: expected target of shape {expected} (class indices) or "
                         f"{tuple(input.shape)} (probabilities) for input of shape "
                         f"{tuple(input.shape)}, got target of shape {tuple(target.shape)}")


def _check_weight(name: str, weight: Tensor | None, input: Tensor) -> Tensor | None:  # noqa: A002
    if weight is None:
        return None
    if tuple(weight.shape) != (input.shape[1],):
        raise RuntimeError(f"{name}: weight of shape {tuple(weight.shape)} does not match "
                           f"{input.shape[1]} classes of input {tuple(input.shape)}")
    if weight.dtype is not input.dtype:
        raise RuntimeError(f"expected scalar type {dtypes.scalar_type_name(input.dtype)} but "
                           f"found {dtypes.scalar_type_name(weight.dtype)}")
    return weight


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None,  # noqa: A002
                  size_average: Any = None, ignore_index: int = -100, reduce: Any = None,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross-entropy from logits: (N, C, *) and (N, *) class indices or (N, C, *)
    probabilities -> () (or (N, *) with reduction='none')."""
    reduction = _reduction(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    if input.ndim == 0:
        raise ValueError("cross_entropy: input must have a class dimension, got a 0-d tensor")
    if input.ndim == 1:  # unbatched (C,)
        out = cross_entropy(input.unsqueeze(0), target.unsqueeze(0), weight, None,
                            ignore_index, None, reduction, label_smoothing)
        return out.squeeze(0) if reduction == "none" else out
    if not input.is_floating_point():
        raise RuntimeError(f"cross_entropy: expected floating-point logits, got {input.dtype}")
    weight = _check_weight("cross_entropy", weight, input)
    soft = target.is_floating_point()
    if soft:
        indices_shape = tuple(input.shape[:1]) + tuple(input.shape[2:])
        if tuple(target.shape) == indices_shape:  # class indices stored as floats
            raise RuntimeError(f"cross_entropy: expected target dtype to be Long or Byte "
                               f"(class indices), but got {target.dtype.name}; use "
                               f"target.long(), or give probabilities of shape "
                               f"{tuple(input.shape)}")
        if tuple(target.shape) != tuple(input.shape):
            raise ValueError(f"cross_entropy: expected target of shape "
                             f"{tuple(input.shape[:1]) + tuple(input.shape[2:])} (class indices)"
                             f" or {tuple(input.shape)} (probabilities) for input of shape "
                             f"{tuple(input.shape)}, got target of shape {tuple(target.shape)}")
        common = dtypes.promote_types(input.dtype, target.dtype)  # PyTorch's sum promotes
        input, target = ew.cast(input, common), ew.cast(target, common)  # noqa: A001
    else:
        _class_target("cross_entropy", input, target)
    return ops_loss.CrossEntropy.apply(input, target, weight, reduction=reduction,
                                       ignore_index=ignore_index, smoothing=label_smoothing,
                                       soft=soft)


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,  # noqa: A002
             size_average: Any = None, ignore_index: int = -100, reduce: Any = None,
             reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of log-probabilities: (N, C, *), (N, *) -> ()."""
    reduction = _reduction(size_average, reduce, reduction)
    if input.ndim == 1:
        out = nll_loss(input.unsqueeze(0), target.unsqueeze(0), weight, None, ignore_index,
                       None, reduction)
        return out.squeeze(0) if reduction == "none" else out
    if input.ndim < 1:
        raise ValueError(f"Expected 2 or more dimensions (got {input.ndim})")
    weight = _check_weight("nll_loss", weight, input)
    _class_target("nll_loss", input, target)
    return ops_loss.NLLLoss.apply(input, target, weight, reduction=reduction,
                                  ignore_index=ignore_index)


def _check_weight_broadcasts(weight: Tensor, input: Tensor) -> None:  # noqa: A002
    """A per-element weight must broadcast to the input's shape, not beyond it."""
    shape = tuple(input.shape)
    lead = len(shape) - weight.ndim
    if lead < 0 or any(w not in (1, n) for w, n in zip(weight.shape, shape[lead:])):
        raise RuntimeError(f"output with shape {list(shape)} doesn't match the broadcast shape "
                           f"of the weight {list(weight.shape)}")


def _refuse_weight_grad(name: str, weight: Tensor | None) -> None:
    """PyTorch has no derivative for a loss's weight: it refuses one that requires grad."""
    if weight is not None and weight.requires_grad and is_grad_enabled():
        raise RuntimeError(f"The function '{name}' is not differentiable with respect to "
                           "argument 'weight'. This input cannot have requires_grad True.")


def _in_unit_interval(data: Any) -> bool:
    """True when every element is in [0, 1] (NaN is not)."""
    return bool(((data >= 0) & (data <= 1)).all())


def binary_cross_entropy(input: Tensor, target: Tensor,  # noqa: A002
                         weight: Tensor | None = None, size_average: Any = None,
                         reduce: Any = None, reduction: str = "mean") -> Tensor:
    """-w (t log p + (1 - t) log(1 - p)) for probabilities p: (*), (*) -> ()."""
    reduction = _reduction(size_average, reduce, reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Using a target size ({target.shape}) that is different to the input "
                         f"size ({input.shape}) is deprecated. Please ensure they have the "
                         "same size.")
    if weight is not None:
        _check_weight_broadcasts(weight, input)
    _refuse_weight_grad("binary_cross_entropy", weight)
    if target.dtype is not input.dtype:
        raise RuntimeError(f"Found dtype {dtypes.scalar_type_name(target.dtype)} but expected "
                           f"{dtypes.scalar_type_name(input.dtype)}")
    if not input.is_floating_point():
        raise NotImplementedError(f'"binary_cross_entropy" not implemented for '
                                  f"'{dtypes.scalar_type_name(input.dtype)}'")
    if not _in_unit_interval(input._data):
        raise RuntimeError("all elements of input should be between 0 and 1")
    if not _in_unit_interval(target._data):
        raise RuntimeError("all elements of target should be between 0 and 1")
    if weight is not None:
        weight = _float_target(weight, input)
    return ops_loss.BinaryCrossEntropy.apply(input, target, weight, reduction=reduction)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor,  # noqa: A002
                                     weight: Tensor | None = None, size_average: Any = None,
                                     reduce: Any = None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """Sigmoid + binary cross-entropy in one stable op: (*), (*) -> ().

    The result has the target's dtype: PyTorch builds the loss in place from (1 - target)."""
    reduction = _reduction(size_average, reduce, reduction)
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Target size ({target.shape}) must be the same as input size "
                         f"({input.shape})")
    if not input.is_floating_point():
        raise NotImplementedError(f'"log_sigmoid_cpu" not implemented for '
                                  f"'{dtypes.scalar_type_name(input.dtype)}'")
    if target.dtype is dtypes.bool:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                           "supported. Use the `^` or `logical_xor()` operator instead.")
    if not target.is_floating_point():
        raise RuntimeError(f"result type {dtypes.scalar_type_name(input.dtype)} can't be cast "
                           f"to the desired output type {dtypes.scalar_type_name(target.dtype)}")
    if weight is not None:
        _check_weight_broadcasts(weight, input)
    _refuse_weight_grad("binary_cross_entropy_with_logits", weight)
    if weight is not None:
        weight = _float_target(weight, target)
    if pos_weight is not None:
        pos_weight = _float_target(pos_weight, target)
    return ops_loss.BinaryCrossEntropyWithLogits.apply(
        _float_target(input, target), target, weight, pos_weight, reduction=reduction)


def kl_div(input: Tensor, target: Tensor, size_average: Any = None,  # noqa: A002
           reduce: Any = None, reduction: str = "mean", log_target: bool = False) -> Tensor:
    """KL(target || exp(input)) pointwise, input in log space: (*), (*) -> ()."""
    if reduction == "batchmean":
        if size_average is not None or reduce is not None:
            reduction = _reduction(size_average, reduce, "mean")
    else:
        reduction = _reduction(size_average, reduce, reduction)
    if not (input.is_floating_point() and target.is_floating_point()):
        raise RuntimeError("kl_div: Integral inputs not supported.")
    if reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns "
                      "with the KL div math definition.'mean' will be changed to behave the "
                      "same as 'batchmean' in the next major release.", UserWarning,
                      stacklevel=2)
    if log_target:
        losses = ew.exp(target) * (target - input)
    else:
        # PyTorch's formula: a zero target contributes 0, and gradient nan (xlogy's rule)
        losses = elementary.xlogy(target, target) - target * input
    if reduction == "batchmean":
        total = ops_reduce.sum(losses)
        return total / input.shape[0] if input.ndim else total
    return _apply_reduction(losses, reduction)
