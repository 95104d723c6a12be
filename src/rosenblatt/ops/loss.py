"""Loss functions fused into one node: cross-entropy, NLL, binary cross-entropy.

Cross-entropy works from the logits with log-sum-exp; its gradient is softmax minus the
(weighted, smoothed) target, so it never divides by a clipped probability.
"""

from __future__ import annotations

from typing import Any

from .. import dtypes
from .._backend import np, parallel
from ..autograd.function import Function
from ._util import unbroadcast
from .elementwise import quiet, sigmoid_array
from .fused import log_softmax_array

REDUCTIONS = ("none", "mean", "sum")


def _class_view(array: Any, ndim: int) -> Any:
    """A (C,) per-class array shaped to broadcast along axis 1 of an ndim-D input."""
    return array.reshape((1, -1) + (1,) * (ndim - 2))


def _target_coefficients(xp: Any, x: Any, target: Any, weight: Any, ignore_index: int,
                         smoothing: float) -> tuple[Any, Any]:
    """q with loss_i = -sum_c q_ic logp_ic for class-index targets, and the mean's divisor."""
    n_classes = x.shape[1]
    valid = target != ignore_index
    safe = xp.where(valid, target, 0)
    if safe.size and (int(safe.min()) < 0 or int(safe.max()) >= n_classes):
        bad = int(safe.max()) if int(safe.max()) >= n_classes else int(safe.min())
        raise IndexError(f"cross_entropy: target {bad} is out of bounds for {n_classes} classes")
    w = xp.ones(n_classes, dtype=x.dtype) if weight is None else weight
    picked = w[safe] * valid  # w[y_i], 0 where ignored
    classes = _class_view(xp.arange(n_classes), x.ndim)
    hit = xp.expand_dims(safe, 1) == classes  # one-hot of the targets, (N, C, *)
    q = hit * xp.expand_dims(picked * (1 - smoothing), 1).astype(x.dtype)
    if smoothing:
        q += (smoothing / n_classes) * _class_view(w, x.ndim) * xp.expand_dims(valid, 1)
    return q, picked.sum()


def _reduce_classes(losses: Any, reduction: str, divisor: Any) -> Any:
    """Sum, or divide by the summed target weights (nan when every target is ignored)."""
    if reduction == "none":
        return losses
    total = losses.sum()
    if reduction == "sum":
        return total
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / divisor


def _class_grad(xp: Any, grad: Any, reduction: str, divisor: Any) -> Any:
    """The upstream gradient per sample, shaped (N, 1, *) to broadcast over classes."""
    if reduction == "none":
        return xp.expand_dims(grad, 1)
    if reduction == "sum":
        return grad
    if not divisor:  # every target ignored: nothing reached the loss, no gradient (PyTorch)
        return xp.zeros_like(grad)
    return grad / divisor


class CrossEntropy(Function):
    """-sum_c q_c log_softmax(x)_c per sample, reduced; x is (N, C, *)."""

    @staticmethod
    def forward(ctx, x, target, weight, reduction, ignore_index, smoothing, soft):
        xp = ctx.xp
        logp = parallel.slabs(log_softmax_array, xp, x, 1)  # samples over the threads
        if soft:
            w = 1 if weight is None else _class_view(weight, x.ndim)
            q = (target * (1 - smoothing) + smoothing / x.shape[1]) * w
            divisor = x.dtype.type(x.size / x.shape[1])
        else:
            q, divisor = _target_coefficients(xp, x, target, weight, ignore_index, smoothing)
        terms = q * logp
        if not soft and xp.isinf(logp).any():  # a -inf logit of a class not aimed at adds 0
            terms = xp.where(q == 0, 0, terms)
        losses = -terms.sum(axis=1)
        ctx.save_for_backward(x, target)
        ctx.logp, ctx.q, ctx.weight = logp, q, weight
        ctx.reduction, ctx.smoothing, ctx.soft = reduction, smoothing, soft
        ctx.divisor = divisor.astype(x.dtype)  # a NumPy scalar or a 0-d CuPy array
        return _reduce_classes(losses, reduction, ctx.divisor)

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        need_x, need_target = ctx.needs_input_grad[:2]
        logp, q = ctx.logp, ctx.q
        g = _class_grad(xp, grad, ctx.reduction, ctx.divisor)
        grad_x = grad_target = None
        if need_x:
            grad_x = parallel.slabs(_cross_entropy_grad, xp, g, logp, q)
        if need_target and ctx.soft:
            w = 1 if ctx.weight is None else _class_view(ctx.weight, logp.ndim)
            grad_target = -g * logp * (1 - ctx.smoothing) * w
        return grad_x, grad_target, None


def _cross_entropy_grad(xp: Any, g: Any, logp: Any, q: Any) -> Any:
    """g (softmax(x) sum_c q - q), per sample."""
    return g * (xp.exp(logp) * q.sum(axis=1, keepdims=True) - q)


class NLLLoss(Function):
    """-w[y] * x[y] per sample from log-probabilities x of shape (N, C, *), reduced."""

    @staticmethod
    def forward(ctx, x, target, weight, reduction, ignore_index):
        xp = ctx.xp
        q, divisor = _target_coefficients(xp, x, target, weight, ignore_index, 0.0)
        terms = q * x
        if xp.isinf(x).any():  # a -inf log-probability of a class not aimed at adds 0
            terms = xp.where(q == 0, 0, terms)
        losses = -terms.sum(axis=1)
        ctx.q, ctx.reduction = q, reduction
        ctx.divisor = divisor.astype(x.dtype)
        return _reduce_classes(losses, reduction, ctx.divisor)

    @staticmethod
    def backward(ctx, grad):
        g = _class_grad(ctx.xp, grad, ctx.reduction, ctx.divisor)
        return -g * ctx.q, None, None


def _reduce(xp: Any, losses: Any, reduction: str) -> Any:
    if reduction == "none":
        return losses
    with quiet():  # the mean of nothing is NaN, as in PyTorch
        return losses.mean() if reduction == "mean" else losses.sum()


def _expand_grad(xp: Any, grad: Any, shape: tuple, reduction: str) -> Any:
    """The upstream gradient of a reduced loss, broadcast back to the elementwise shape."""
    if reduction == "none":
        return grad
    size = 1
    for s in shape:
        size *= s
    return xp.broadcast_to(grad / size if reduction == "mean" else grad, shape)


class SmoothL1(Function):
    """Huber's loss of d = x - t: 0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta),
    divided by delta for smooth_l1 (`scaled`). The gradient is clip(d, -delta, delta), so
    an infinite d gives +-delta and a NaN d NaN, as PyTorch's kernels do."""

    @staticmethod
    def forward(ctx, x, target, delta, scaled, reduction):
        xp = ctx.xp
        with quiet():
            d = x - target.astype(x.dtype, copy=False)
            z = xp.abs(d)
            losses = xp.where(z < delta, 0.5 * z * z, delta * (z - 0.5 * delta))
            if scaled:
                losses = losses / delta
        ctx.save_for_backward(x, target)
        ctx.delta, ctx.scaled, ctx.reduction = delta, scaled, reduction
        return _reduce(xp, losses.astype(x.dtype, copy=False), reduction)

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        x, target = ctx.saved_tensors
        if not ctx.scaled and x.dtype != target.dtype:  # huber_loss_backward's own check
            raise RuntimeError(f"Found dtype {_type_name(target.dtype)} but expected "
                               f"{_type_name(x.dtype)}")
        need_x, need_t = ctx.needs_input_grad
        with quiet():
            d = x - target.astype(x.dtype, copy=False)
            slope = xp.clip(d, -ctx.delta, ctx.delta)
            if ctx.scaled:
                slope = slope / ctx.delta
            g = _expand_grad(xp, grad, d.shape, ctx.reduction) * slope
        return (unbroadcast(g, x.shape).astype(x.dtype, copy=False) if need_x else None,
                unbroadcast(-g, target.shape).astype(target.dtype, copy=False) if need_t
                else None)


def _type_name(np_dtype: Any) -> str:
    return dtypes.scalar_type_name(dtypes.from_numpy_dtype(np_dtype))


class BinaryCrossEntropy(Function):
    """-w (t log p + (1 - t) log(1 - p)), logs clamped at -100 as in PyTorch."""

    @staticmethod
    def forward(ctx, p, target, weight, reduction):
        xp = ctx.xp
        with np.errstate(divide="ignore"):  # log(0) = -inf, clamped to -100 below
            log_p = xp.maximum(xp.log(p), -100)
            log_q = xp.maximum(xp.log1p(-p), -100)
        losses = -(target * log_p + (1 - target) * log_q)
        if weight is not None:
            losses = losses * weight
        ctx.save_for_backward(p, target, weight)
        ctx.reduction = reduction
        return _reduce(xp, losses, reduction)

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        p, target, weight = ctx.saved_tensors
        need_p, need_t, _ = ctx.needs_input_grad
        g = _expand_grad(xp, grad, p.shape, ctx.reduction)
        if weight is not None:
            g = g * weight
        grad_p = grad_t = None
        if need_p:
            grad_p = g * (p - target) / xp.maximum((1 - p) * p, 1e-12)
        if need_t:  # PyTorch differentiates the unclamped logs here (inf at p = 0 or 1)
            with np.errstate(divide="ignore", invalid="ignore"):
                grad_t = g * (xp.log1p(-p) - xp.log(p))
        return grad_p, grad_t, None


class BinaryCrossEntropyWithLogits(Function):
    """(1 - t) x + (1 + (pw - 1) t) softplus(-x), times weight: stable for any logit."""

    @staticmethod
    def forward(ctx, x, target, weight, pos_weight, reduction):
        xp = ctx.xp
        softplus_neg = xp.maximum(-x, 0) + xp.log1p(xp.exp(-xp.abs(x)))
        scale = 1 if pos_weight is None else 1 + (pos_weight - 1) * target
        losses = (1 - target) * x + scale * softplus_neg
        if weight is not None:
            losses = losses * weight
        ctx.save_for_backward(x, target, weight, pos_weight)
        ctx.softplus_neg, ctx.reduction = softplus_neg, reduction
        return _reduce(xp, losses, reduction)

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        x, target, weight, pos_weight = ctx.saved_tensors
        need_x, need_t = ctx.needs_input_grad[:2]
        shape = xp.broadcast_shapes(x.shape, target.shape)
        g = _expand_grad(xp, grad, shape, ctx.reduction)
        if weight is not None:
            g = g * weight
        grad_x = grad_t = None
        if need_x:
            scale = 1 if pos_weight is None else 1 + (pos_weight - 1) * target
            grad_x = g * ((1 - target) - scale * sigmoid_array(xp, -x))
        if need_t:  # without pos_weight no softplus term: 0 * inf would make a NaN
            grad_t = g * -x if pos_weight is None else \
                g * (-x + (pos_weight - 1) * ctx.softplus_neg)
        return grad_x, grad_t, None, None
