"""Margin, embedding and likelihood losses composed of primitives: margin_ranking,
hinge_embedding, cosine_embedding, triplet_margin, soft_margin, multilabel_soft_margin,
poisson_nll and gaussian_nll (PyTorch's formulas and reductions)."""

from __future__ import annotations

import math
from typing import Any

from ...autograd.grad_mode import no_grad
from ...autograd.tensor import Tensor
from ...ops import elementwise as ew
from ...ops import reduce as ops_reduce
from .activation import logsigmoid
from .basic import cosine_similarity, pairwise_distance
from .loss import _apply_reduction, _reduction


def _hinge(x: Tensor) -> Tensor:
    return ew.clamp(x, min=0.0)


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                        size_average: Any = None, reduce: Any = None,  # noqa: A002
                        reduction: str = "mean") -> Tensor:
    """max(0, -y (x1 - x2) + margin): y = 1 wants x1 ranked above x2, y = -1 below."""
    reduction = _reduction(size_average, reduce, reduction)
    return _apply_reduction(_hinge(-target * (input1 - input2) + margin), reduction)


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0,  # noqa: A002
                         size_average: Any = None, reduce: Any = None,  # noqa: A002
                         reduction: str = "mean") -> Tensor:
    """x where y = 1, max(0, margin - x) where y = -1."""
    reduction = _reduction(size_average, reduce, reduction)
    zero = input * 0.0
    losses = ew.where(target != 1, _hinge(margin - input), zero) + ew.where(target != -1, input,
                                                                             zero)
    return _apply_reduction(losses, reduction)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                          size_average: Any = None, reduce: Any = None,  # noqa: A002
                          reduction: str = "mean") -> Tensor:
    """1 - cos(x1, x2) where y = 1, max(0, cos(x1, x2) - margin) where y = -1."""
    reduction = _reduction(size_average, reduce, reduction)
    cos = cosine_similarity(input1, input2, dim=-1, eps=1e-12)
    zero = cos * 0.0
    losses = ew.where(target == 1, 1.0 - cos, zero) + ew.where(target == -1, _hinge(cos - margin),
                                                               zero)
    return _apply_reduction(losses, reduction)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0,
                        p: float = 2, eps: float = 1e-6, swap: bool = False,
                        size_average: Any = None, reduce: Any = None,  # noqa: A002
                        reduction: str = "mean") -> Tensor:
    """max(0, d(a, p) - d(a, n) + margin) with d the p-norm distance (swap: the closer of
    d(a, n) and d(p, n))."""
    reduction = _reduction(size_average, reduce, reduction)
    d_pos = pairwise_distance(anchor, positive, p, eps)
    d_neg = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_neg = ew.minimum(d_neg, pairwise_distance(positive, negative, p, eps))
    return _apply_reduction(_hinge(margin + d_pos - d_neg), reduction)


def soft_margin_loss(input: Tensor, target: Tensor, size_average: Any = None,  # noqa: A002
                     reduce: Any = None, reduction: str = "mean") -> Tensor:  # noqa: A002
    """log(1 + exp(-y x)) (two-class logistic loss with y in {-1, 1})."""
    reduction = _reduction(size_average, reduce, reduction)
    return _apply_reduction(-logsigmoid(target * input), reduction)


def multilabel_soft_margin_loss(input: Tensor, target: Tensor,  # noqa: A002
                                weight: Tensor | None = None, size_average: Any = None,
                                reduce: Any = None, reduction: str = "mean") -> Tensor:  # noqa: A002
    """-(y log sigmoid(x) + (1 - y) log sigmoid(-x)), averaged over the classes (last dim)."""
    reduction = _reduction(size_average, reduce, reduction)
    losses = -(target * logsigmoid(input) + (1.0 - target) * logsigmoid(-input))
    if weight is not None:
        losses = losses * weight
    return _apply_reduction(ops_reduce.mean(losses, dim=-1), reduction)


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True,  # noqa: A002
                     full: bool = False, size_average: Any = None, eps: float = 1e-8,
                     reduce: Any = None, reduction: str = "mean") -> Tensor:  # noqa: A002
    """exp(x) - y x (log_input) or x - y log(x + eps); full adds Stirling's term for y > 1."""
    reduction = _reduction(size_average, reduce, reduction)
    if log_input:
        losses = ew.exp(input) - target * input
    else:
        losses = input - target * ew.log(input + eps)
    if full:
        safe = ew.where(target > 1, target, target * 0.0 + 1.0)
        stirling = safe * ew.log(safe) - safe + 0.5 * ew.log(2 * math.pi * safe)
        losses = losses + ew.where(target > 1, stirling, stirling * 0.0)
    return _apply_reduction(losses, reduction)


def gaussian_nll_loss(input: Tensor, target: Tensor, var: Tensor | float,  # noqa: A002
                      full: bool = False, eps: float = 1e-6, reduction: str = "mean") -> Tensor:
    """0.5 (log var + (x - y)^2 / var) (+ 0.5 log 2 pi when full); var clamped at eps
    without passing gradient through the clamp, as PyTorch does."""
    reduction = _reduction(None, None, reduction)
    if not isinstance(var, Tensor):
        var = input * 0.0 + float(var)
    elif tuple(var.shape) != tuple(input.shape):
        if tuple(input.shape[:-1]) == tuple(var.shape):
            var = var.unsqueeze(-1)  # one variance per sample, homoscedastic over the last dim
        elif not (tuple(input.shape[:-1]) == tuple(var.shape[:-1]) and var.shape[-1] == 1):
            raise ValueError("var is of incorrect size")
    if bool((var < 0).any()):
        raise ValueError("var has negative entry/entries")
    var = var.clone()
    with no_grad():
        var.clamp_(min=eps)
    losses = 0.5 * (ew.log(var) + (input - target) ** 2 / var)
    if full:
        losses = losses + 0.5 * math.log(2 * math.pi)
    return _apply_reduction(losses, reduction)
