"""Embedding lookup: rows of a weight matrix picked by integer indices."""

from __future__ import annotations

from ..autograd.function import Function
from ..autograd.tensor import Tensor


class Embedding(Function):
    """weight[indices]: (*) int, (num, dim) -> (*, dim); padding_idx's row gets no gradient."""

    @staticmethod
    def forward(ctx, weight, indices, padding_idx, scale_grad_by_freq):
        ctx.indices, ctx.num = indices, weight.shape[0]
        ctx.padding_idx, ctx.scale = padding_idx, scale_grad_by_freq
        return weight[indices]

    @staticmethod
    def backward(ctx, grad):
        xp = ctx.xp
        flat = ctx.indices.reshape(-1)
        rows = grad.reshape(flat.shape[0], -1)
        if ctx.scale:  # divide each row's gradient by how often its index occurs
            counts = xp.bincount(flat, minlength=ctx.num)
            rows = rows / counts[flat][:, None].astype(rows.dtype)
        out = xp.zeros((ctx.num, rows.shape[1]), dtype=grad.dtype)
        xp.add.at(out, flat, rows)
        if ctx.padding_idx is not None:
            out[ctx.padding_idx] = 0
        return out, None


def embedding(indices: Tensor, weight: Tensor, padding_idx: int | None = None,
              scale_grad_by_freq: bool = False) -> Tensor:
    """Look up rows of weight: (*) int64, (num_embeddings, dim) -> (*, dim)."""
    if indices._data.dtype.kind not in "iu":
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the "
                           f"following scalar types: Long, Int; but got {indices.dtype} instead")
    data = indices._data
    num = weight.shape[0]
    if data.size and (int(data.min()) < 0 or int(data.max()) >= num):
        bad = int(data.max()) if int(data.max()) >= num else int(data.min())
        raise IndexError(f"embedding: index {bad} is out of range for {num} embeddings "
                         f"(weight of shape {tuple(weight.shape)})")
    return Embedding.apply(weight, indices, padding_idx=padding_idx,
                           scale_grad_by_freq=scale_grad_by_freq)
