"""Linear maps, dropout, embedding lookup and normalisation to unit norm."""

from __future__ import annotations

from typing import Any

from ... import dtypes
from ... import random as rnd
from ..._backend import array_module, np, parallel, to_device
from ...autograd.grad_mode import no_grad
from ...autograd.tensor import Tensor
from ...ops import elementwise as ew
from ...ops import embedding as emb
from ...ops import reduce
from ...ops.linalg import linear, matmul

__all__ = ["bilinear", "cosine_similarity", "dropout", "embedding", "linear", "normalize",
           "pairwise_distance"]


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor,
             bias: Tensor | None = None) -> Tensor:
    """y_k = x1^T A_k x2 + b_k: (*, in1), (*, in2), (out, in1, in2) -> (*, out)."""
    out_f, in1, in2 = weight.shape
    if input1.shape[-1] != in1 or input2.shape[-1] != in2 or input1.shape[:-1] != \
            input2.shape[:-1]:
        raise RuntimeError(f"bilinear: expected inputs (*, {in1}) and (*, {in2}) with the same "
                           f"batch shape, got {tuple(input1.shape)} and {tuple(input2.shape)}")
    # (*, in1) @ (in1, out*in2) -> (*, out, in2), then contract in2 with x2
    left = matmul(input1, weight.permute(1, 0, 2).reshape(in1, out_f * in2))
    left = left.reshape(*input1.shape[:-1], out_f, in2)
    out = (left * input2.unsqueeze(-2)).sum(-1)
    return out if bias is None else out + bias


def dropout(input: Tensor, p: float = 0.5, training: bool = True,  # noqa: A002
            inplace: bool = False) -> Tensor:
    """Zero each element with probability p and scale the rest by 1/(1-p) (in training)."""
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    if p == 1.0:
        mask = array_module(input._data).zeros(input.shape, dtype=input._data.dtype)
    else:
        mask = keep_mask(rnd.gen().random(input.shape), p, 1.0 / (1.0 - p),
                         input._data.dtype)
        mask = to_device(mask, input.device)
    mask_t = Tensor._make(mask, False, None)
    if inplace:
        return input.mul_(mask_t)
    return ew.mul(input, mask_t)


@parallel.elementwise
def keep_mask(draws: Any, p: float, scale: float, dtype: Any) -> Any:
    """Dropout's mask: scale where a uniform draw is >= p, else 0, in `dtype`; same shape."""
    return ((draws >= p) * scale).astype(dtype)


def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None,  # noqa: A002
              max_norm: float | None = None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of weight picked by integer indices: (*), (num, dim) -> (*, dim)."""
    if padding_idx is not None:
        num = weight.shape[0]
        if not -num <= padding_idx < num:
            raise AssertionError("Padding_idx must be within num_embeddings")
        padding_idx %= num
    if max_norm is not None:
        _renorm_rows(weight, input, max_norm, norm_type)
    return emb.embedding(input, weight, padding_idx, scale_grad_by_freq)


def _renorm_rows(weight: Tensor, indices: Tensor, max_norm: float, norm_type: float) -> None:
    """Rescale, in place, the looked-up rows whose norm exceeds max_norm (PyTorch's renorm)."""
    xp = array_module(weight._data)
    with no_grad():
        rows = xp.unique(indices._data.reshape(-1))
        selected = weight._data[rows]
        norms = xp.linalg.norm(selected, ord=norm_type, axis=1) if norm_type != 2 else \
            xp.sqrt((selected * selected).sum(axis=1))
        scale = xp.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
        weight._data[rows] = selected * scale[:, None].astype(selected.dtype)
        weight._version_box[0] += 1


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12,  # noqa: A002
              out: Any = None) -> Tensor:
    """x / max(||x||_p, eps) along dim: (*) -> (*)."""
    norm = reduce.norm(input, p, dim, keepdim=True)
    return input / ew.clamp(norm, eps, None).expand_as(input)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """x1 . x2 / (max(||x1||, eps) max(||x2||, eps)) along dim, broadcasting: -> (*).

    As PyTorch: both are broadcast to one shape first (so a 0-d or size-1 operand is repeated
    along dim), each is divided by its norm, and the eps floor is applied without autograd,
    so the gradient flows through the norm as if unclamped."""
    shape = tuple(np.broadcast_shapes(tuple(x1.shape), tuple(x2.shape)))
    a, b = (x.expand(shape) for x in (x1, x2))  # (then a 0-d operand's dtype counts in full)
    common = dtypes.result_type(a, b)
    if not common.is_floating_point:
        raise RuntimeError(f"expected common dtype to be floating point, yet common dtype is "
                           f"{dtypes.scalar_type_name(common)}")
    a, b = ew.cast(a, common), ew.cast(b, common)
    return reduce.sum((a / _norm_floored(a, dim, eps)) * (b / _norm_floored(b, dim, eps)), dim)


def _norm_floored(x: Tensor, dim: int, eps: float) -> Tensor:
    """||x|| along dim (kept), raised to eps where smaller; the floor is invisible to autograd."""
    n = reduce.norm(x, 2, dim, keepdim=True)
    with no_grad():
        lift = ew.clamp(n, eps, None) - n
    return n + lift


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """||x1 - x2 + eps||_p over the last dim: (*, D), (*, D) -> (*)."""
    return reduce.norm(x1 - x2 + eps, p, -1, keepdim=keepdim)
