"""`rosenblatt.linalg`, PyTorch's `torch.linalg`: norms, and the matrix functions of
`ops.linalg_decomp` (inv, det, slogdet, solve, solve_triangular, lstsq, cholesky, qr, eigh,
eigvalsh, svd, svdvals, pinv, matrix_rank, matrix_exp)."""

from __future__ import annotations

import math
from typing import Any

from .autograd.tensor import Tensor
from .ops import reduce
from .ops.linalg_decomp import (
    LinAlgError,
    cholesky,
    det,
    eigh,
    eigvalsh,
    inv,
    lstsq,
    matrix_exp,
    matrix_rank,
    pinv,
    qr,
    slogdet,
    solve,
    solve_triangular,
    svd,
    svdvals,
)
from .ops.linalg_decomp import check_float as _check_float

__all__ = ["LinAlgError", "cholesky", "det", "eigh", "eigvalsh", "inv", "lstsq", "matrix_exp",
           "matrix_norm", "matrix_rank", "norm", "pinv", "qr", "slogdet", "solve",
           "solve_triangular", "svd", "svdvals", "vector_norm"]


def vector_norm(x: Tensor, ord: float = 2, dim: Any = None, keepdim: bool = False,  # noqa: A002
                *, dtype: Any = None) -> Tensor:
    """The ord-norm of x over `dim` (all elements by default), as a vector: (...) -> (...)."""
    if isinstance(ord, str):
        raise RuntimeError(f"linalg.vector_norm: Expected a number as ord, got '{ord}'")
    return reduce.norm(x, ord, dim, keepdim, dtype=dtype)


def matrix_norm(A: Tensor, ord: Any = "fro", dim: tuple[int, int] = (-2, -1),  # noqa: A002, N803
                keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """'fro', 'nuc', 1, -1, 2, -2, inf or -inf norm of the matrices in dims `dim`."""
    if A.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 "
                           "dimensions.")
    rows, cols = (d % A.ndim for d in dim)
    if rows == cols:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({dim[0]}, {dim[1]})")
    _check_float(A, "linalg.matrix_norm")
    if dtype is not None:
        A = A.to(dtype)  # noqa: N806 - PyTorch's argument name
    if ord == "fro":
        return reduce.norm(A, 2, (rows, cols), keepdim)
    if ord in ("nuc", 2, -2):
        # the matrices to the last two dims, their singular values, then reduce
        rest = [d for d in range(A.ndim) if d not in (rows, cols)]
        s = svdvals(A.permute(*rest, rows, cols))
        out = s.sum(-1) if ord == "nuc" else (s.amax(-1) if ord == 2 else s.amin(-1))
        if keepdim:
            for d in sorted((rows, cols)):
                out = out.unsqueeze(d)
        return out
    if ord in (1, -1, math.inf, -math.inf):
        # 1: the largest column sum of |A|; inf: the largest row sum
        summed, kept = (rows, cols) if ord in (1, -1) else (cols, rows)
        sums = A.abs().sum(summed, keepdim=True)
        out = sums.amax(kept, keepdim=True) if ord > 0 else sums.amin(kept, keepdim=True)
        return out if keepdim else out.squeeze((rows, cols))
    raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")


def norm(A: Tensor, ord: Any = None, dim: Any = None, keepdim: bool = False,  # noqa: A002, N803
         *, dtype: Any = None) -> Tensor:
    """A vector norm (1 dim, or a 1-D input) or a matrix norm (2 dims, or a 2-D input)."""
    if dim is None and ord is None:  # every element, as one vector
        return vector_norm(A, 2, None, keepdim, dtype=dtype)
    if dim is None:
        if A.ndim not in (1, 2):
            raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must "
                               f"be 1D or 2D. Got {A.ndim}D.")
        dims = tuple(range(A.ndim))
    else:
        dims = (dim,) if isinstance(dim, int) else tuple(dim)
    if len(dims) == 2:
        return matrix_norm(A, "fro" if ord is None else ord, dims, keepdim, dtype=dtype)
    if len(dims) != 1 or isinstance(ord, str):
        raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. "
                           f"Got {list(dims)}")
    return vector_norm(A, 2 if ord is None else ord, dims, keepdim, dtype=dtype)
