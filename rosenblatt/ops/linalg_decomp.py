"""Matrix functions on batches of square matrices (..., n, n): inverse, determinant, log
|det|, linear solve, Cholesky factor and singular values, each a `Function` whose
backward is the textbook matrix-calculus rule, next to a forward that calls `xp.linalg`.

Only real (float) matrices; higher-order gradients are out of scope, as everywhere.
"""

from __future__ import annotations

import warnings
from typing import Any

from .. import dtypes
from .._backend import array_module, np
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._util import unbroadcast
from .elementwise import _no_grad_result


class LinAlgError(RuntimeError):
    """A matrix is singular or not positive-definite (torch.linalg.LinAlgError)."""


def _mT(a: Any) -> Any:  # noqa: N802 - PyTorch's name for the matrix transpose
    return a.swapaxes(-1, -2)


class Inv(Function):
    """A^-1; d(A^-1) = -A^-1 dA A^-1, so grad_A = -A^-T grad A^-T."""

    @staticmethod
    def forward(ctx, a):
        out = ctx.xp.linalg.inv(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (inv_a,) = ctx.saved_tensors
        return -_mT(inv_a) @ grad @ _mT(inv_a)


class Det(Function):
    """det(A); grad_A = grad * cofactor(A), taken from the SVD so singular A works too."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return ctx.xp.linalg.det(a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        xp = ctx.xp
        # cofactor(A) = det(A) A^-T = det(U) det(V) U diag(prod_{j != i} s_j) V^T
        u, s, vh = xp.linalg.svd(a)
        ones = xp.ones_like(s[..., :1])
        before = xp.cumprod(xp.concatenate([ones, s[..., :-1]], axis=-1), axis=-1)
        after = xp.flip(xp.cumprod(xp.concatenate([ones, xp.flip(s, -1)[..., :-1]], axis=-1),
                                   axis=-1), -1)
        sign = xp.linalg.det(u) * xp.linalg.det(vh)
        cofactor = (u * (before * after)[..., None, :]) @ vh * sign[..., None, None]
        return grad[..., None, None] * cofactor


class LogAbsDet(Function):
    """log |det A|; grad_A = grad * A^-T."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return ctx.xp.linalg.slogdet(a)[1]

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        return grad[..., None, None] * _mT(ctx.xp.linalg.inv(a))


class Solve(Function):
    """X = A^-1 B, B (..., n, k), batches broadcast; grad_B = A^-T G, grad_A = -grad_B X^T."""

    @staticmethod
    def forward(ctx, a, b):
        out = ctx.xp.linalg.solve(a, b)
        ctx.save_for_backward(a, out)
        ctx.shapes = a.shape, b.shape
        return out

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        a_shape, b_shape = ctx.shapes
        grad_b = ctx.xp.linalg.solve(_mT(a), grad)
        grad_a = -grad_b @ _mT(out)
        return unbroadcast(grad_a, a_shape), unbroadcast(grad_b, b_shape)


class Cholesky(Function):
    """L with A = L L^T; grad_A = L^-T sym(Phi(L^T G)) L^-1 (Phi: lower half, diagonal halved)."""

    @staticmethod
    def forward(ctx, a):
        out = ctx.xp.linalg.cholesky(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (low,) = ctx.saved_tensors
        xp = ctx.xp
        phi = xp.tril(_mT(low) @ grad)
        phi = 0.5 * (phi + _mT(xp.tril(phi, -1)))  # symmetric: A's perturbations are too
        inv_low = xp.linalg.inv(low)
        return _mT(inv_low) @ phi @ inv_low


class SvdVals(Function):
    """Singular values, descending; grad_A = U diag(grad) V^T."""

    @staticmethod
    def forward(ctx, a):
        u, s, vh = ctx.xp.linalg.svd(a, full_matrices=False)
        ctx.save_for_backward(u, vh)
        return s

    @staticmethod
    def backward(ctx, grad):
        u, vh = ctx.saved_tensors
        return (u * grad[..., None, :]) @ vh



class EighValues(Function):
    """Eigenvalues of a symmetric matrix (from a decomposition done once, in `eigh`);
    grad_A = V diag(grad) V^T."""

    @staticmethod
    def forward(ctx, a, values, vectors):
        ctx.save_for_backward(vectors)
        return values

    @staticmethod
    def backward(ctx, grad):
        (v,) = ctx.saved_tensors
        return (v * grad[..., None, :]) @ _mT(v)


class EighVectors(Function):
    """Eigenvectors V of a symmetric matrix; grad_A = V (F o skew(V^T G)) V^T with
    F_ij = 1 / (l_j - l_i) (off the diagonal), as PyTorch's rule for distinct eigenvalues."""

    @staticmethod
    def forward(ctx, a, values, vectors):
        ctx.save_for_backward(values, vectors)
        return vectors

    @staticmethod
    def backward(ctx, grad):
        w, v = ctx.saved_tensors
        xp = ctx.xp
        inner = _mT(v) @ grad
        inner = 0.5 * (inner - _mT(inner))  # only the skew part moves orthonormal vectors
        gaps = w[..., None, :] - w[..., :, None]
        n = w.shape[-1]
        gaps = gaps + xp.eye(n, dtype=w.dtype)  # a harmless 1 where the diagonal of inner is 0
        return v @ (inner / gaps) @ _mT(v)


class QR(Function):
    """One factor of the reduced A = QR (m >= n), both taken from one decomposition in `qr`.

    With M = R gR^T - gQ^T Q: grad_A = (gQ + Q copyltu(M)) R^-T, copyltu mirroring the
    lower triangle of M onto the upper; the rule of Walter & Lehmann (2018)."""

    @staticmethod
    def forward(ctx, a, q, r, which, error):
        ctx.save_for_backward(q, r)
        ctx.which, ctx.error = which, error
        return q if which == "Q" else r

    @staticmethod
    def backward(ctx, grad):
        if ctx.error:
            raise RuntimeError(ctx.error)
        q, r = ctx.saved_tensors
        xp = ctx.xp
        grad_q, grad_r = (grad, xp.zeros_like(r)) if ctx.which == "Q" else (xp.zeros_like(q), grad)
        m = r @ _mT(grad_r) - _mT(grad_q) @ q
        copyltu = xp.tril(m) + _mT(xp.tril(m, -1))
        return _mT(xp.linalg.solve(r, _mT(grad_q + q @ copyltu)))


# ------------------------------------------------------------------- checks
def check_float(a: Tensor, op: str) -> None:
    """Raise PyTorch's error for integer or bool input of a linear-algebra function."""
    if not a.dtype.is_floating_point:
        raise RuntimeError(f"{op}: Expected a floating point or complex tensor as input. "
                           f"Got {_torch_type(a.dtype)}")


def _torch_type(d: dtypes.dtype) -> str:
    """PyTorch's scalar-type name in errors ('Long' for int64)."""
    names = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte",
             "bool": "Bool"}
    return names.get(d.name, d.name)


def check_square(a: Tensor, op: str) -> None:
    """Raise PyTorch's error unless `a` is a float batch of square matrices (..., n, n)."""
    check_float(a, op)
    if a.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor A must have at least 2 dimensions.")
    if a.shape[-1] != a.shape[-2]:
        raise RuntimeError(f"{op}: A must be batches of square matrices, but they are "
                           f"{a.shape[-2]} by {a.shape[-1]} matrices")


def _run(cls: type, op: str, problem: str, *inputs: Tensor) -> Tensor:
    """Apply `cls`, turning NumPy's LinAlgError into PyTorch's (a RuntimeError)."""
    try:
        return cls.apply(*inputs)
    except np.linalg.LinAlgError:
        raise LinAlgError(f"{op}: {problem}") from None


# ---------------------------------------------------------------- functions
def inv(A: Tensor) -> Tensor:  # noqa: N803 - PyTorch's argument name
    """Inverse of each square matrix: (..., n, n) -> (..., n, n)."""
    check_square(A, "linalg.inv")
    return _run(Inv, "linalg.inv", "The diagonal element is zero, the inversion could not be "
                "completed because the input matrix is singular.", A)


def det(A: Tensor) -> Tensor:  # noqa: N803
    """Determinant of each square matrix: (..., n, n) -> (...)."""
    check_square(A, "linalg.det")
    return Det.apply(A)


def slogdet(A: Tensor) -> tuple[Tensor, Tensor]:  # noqa: N803
    """(sign, log|det|) of each square matrix: (..., n, n) -> (...), (...)."""
    check_square(A, "linalg.slogdet")
    sign = array_module(A._data).linalg.slogdet(A._data)[0]
    return _no_grad_result(sign), LogAbsDet.apply(A)


def logdet(A: Tensor) -> Tensor:  # noqa: N803
    """log det A: (..., n, n) -> (...); nan where det < 0, -inf where det = 0."""
    from .elementwise import where

    sign, logabs = slogdet(A)
    nan = _no_grad_result(array_module(A._data).asarray(float("nan"), dtype=A._data.dtype))
    return where(sign < 0, nan, logabs)


def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:  # noqa: N803
    """X with A X = B (or X A = B when left=False); B is (..., n, k) or a vector (..., n)."""
    check_square(A, "linalg.solve")
    check_float(B, "linalg.solve")
    if not left:  # X A = B  <=>  A^T X^T = B^T
        return solve(A.mT, B.mT).mT
    vector = B.ndim == 1 or (B.ndim == A.ndim - 1 and tuple(B.shape) == tuple(A.shape[:-1]))
    b = B.unsqueeze(-1) if vector else B
    if b.shape[-2] != A.shape[-1]:
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation "
                           f"AX = B ({A.shape[-2]}x{A.shape[-1]} and "
                           f"{b.shape[-2]}x{b.shape[-1]})")
    out = _run(Solve, "torch.linalg.solve", "The solver failed because the input matrix is "
               "singular.", A, b)
    return out.squeeze(-1) if vector else out


def cholesky(A: Tensor, *, upper: bool = False) -> Tensor:  # noqa: N803
    """Lower factor L of each symmetric positive-definite A = L L^T (or U = L^T if upper)."""
    check_square(A, "linalg.cholesky")
    low = _run(Cholesky, "linalg.cholesky", "The factorization could not be completed because "
               "the input is not positive-definite.", A)
    return low.mT if upper else low


def svdvals(A: Tensor) -> Tensor:  # noqa: N803
    """Singular values, descending: (..., m, n) -> (..., min(m, n))."""
    check_float(A, "linalg.svdvals")
    if A.ndim < 2:
        raise RuntimeError("linalg.svdvals: The input tensor A must have at least 2 dimensions.")
    return SvdVals.apply(A)


def matrix_rank(A: Tensor, *, atol: float | None = None, rtol: float | None = None,  # noqa: N803
                hermitian: bool = False) -> Tensor:
    """Number of singular values above max(atol, rtol * s_max): (..., m, n) -> (...) int64."""
    check_float(A, "linalg.matrix_rank")
    xp = array_module(A._data)
    s = xp.linalg.svd(A._data, compute_uv=False)
    if rtol is None:  # PyTorch's default: eps * max(m, n) unless only atol is given
        rtol = 0.0 if atol is not None and atol > 0 else (
            float(np.finfo(A._data.dtype).eps) * max(A.shape[-2:]))
    s_max = s[..., :1] if s.shape[-1] else xp.zeros(s.shape[:-1] + (1,), dtype=s.dtype)
    tol = xp.maximum(0.0 if atol is None else atol, rtol * s_max)
    return _no_grad_result((s > tol).sum(axis=-1).astype(xp.int64))


def legacy_cholesky(input: Tensor, upper: bool = False) -> Tensor:  # noqa: A002
    """torch.cholesky (deprecated there too, with the same warning): `upper` may be positional."""
    warnings.warn("torch.cholesky is deprecated in favor of torch.linalg.cholesky and will be "
                  "removed in a future PyTorch release.", UserWarning, stacklevel=2)
    return cholesky(input, upper=upper)


def eigh(A: Tensor, UPLO: str = "L") -> tuple[Tensor, Tensor]:  # noqa: N803
    """(eigenvalues ascending (..., n), eigenvectors (..., n, n)) of symmetric matrices."""
    check_square(A, "linalg.eigh")
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    values, vectors = array_module(A._data).linalg.eigh(A._data, UPLO=UPLO)
    return (EighValues.apply(A, values=values, vectors=vectors),
            EighVectors.apply(A, values=values, vectors=vectors))


def eigvalsh(A: Tensor, UPLO: str = "L") -> Tensor:  # noqa: N803
    """Eigenvalues, ascending, of symmetric matrices: (..., n, n) -> (..., n)."""
    return eigh(A, UPLO)[0]


def qr(A: Tensor, mode: str = "reduced") -> tuple[Tensor, Tensor]:  # noqa: N803
    """(Q, R) with A = QR, Q orthonormal columns, R upper triangular (reduced or complete)."""
    check_float(A, "linalg.qr")
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of "
                           f"'reduced' (default), 'r', or 'complete'")
    if A.ndim < 2:
        raise RuntimeError("linalg.qr: The input tensor A must have at least 2 dimensions.")
    m, n = A.shape[-2:]
    q, r = array_module(A._data).linalg.qr(A._data, mode="complete" if mode == "complete"
                                          else "reduced")
    # PyTorch raises these in backward, so a forward-only program runs
    error = None
    if mode == "r":
        error = ("The derivative of linalg.qr depends on Q, which is not computed when "
                 "mode='r'. Please use linalg.qr(A, mode='reduced') if you are going to "
                 "differentiate through linalg.qr.")
    elif mode == "complete" and m > n:
        error = "The QR decomposition is not differentiable when mode='complete' and nrows > ncols."
    elif m < n:
        error = "rosenblatt implements the derivative of linalg.qr only for nrows >= ncols."
    out_r = QR.apply(A, q=q, r=r, which="R", error=error)
    if mode == "r":
        return _no_grad_result(q.reshape(-1)[:0]), out_r
    return QR.apply(A, q=q, r=r, which="Q", error=error), out_r
