"""Matrix functions on batches of square matrices (..., n, n): inverse, determinant, log
|det|, linear solve, Cholesky factor and singular values, each a `Function` whose
backward is the textbook matrix-calculus rule, next to a forward that calls `xp.linalg`.

Only real (float) matrices; higher-order gradients are out of scope, as everywhere.
"""

from __future__ import annotations

import warnings
from collections import namedtuple
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


class _OfOutput(Function):
    """`xp.linalg.<linalg>(A)` whose gradient rule needs only the output: forward keeps it
    and backward is `gradient(xp, out, grad)` (inv, cholesky)."""

    linalg: str
    gradient: Any

    @staticmethod
    def forward(ctx, a):
        out = getattr(ctx.xp.linalg, ctx.linalg)(a)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return ctx.gradient(ctx.xp, out, grad)


class Inv(_OfOutput):
    """A^-1; d(A^-1) = -A^-1 dA A^-1, so grad_A = -A^-T grad A^-T."""

    linalg = "inv"

    @staticmethod
    def gradient(xp, inv_a, grad):
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


class Cholesky(_OfOutput):
    """L with A = L L^T; grad_A = L^-T sym(Phi(L^T G)) L^-1 (Phi: lower half, diagonal halved)."""

    linalg = "cholesky"

    @staticmethod
    def gradient(xp, low, grad):
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


class SVD(Function):
    """One factor of A = U diag(S) Vh, all three from one decomposition in `svd`.

    The gradient is linear in (gU, gS, gVh), so each factor adds its own part of PyTorch's
    rule: with E_ij = S_j^2 - S_i^2 and skew(X) = X - X^T,
    gS: U diag(gS) Vh;  gU: U (skew(U^T gU) / E) S Vh + (I - U U^T) gU S^-1 Vh;
    gVh: U S (skew(Vh gVh^T) / E) Vh + U S^-1 gVh (I - Vh^T Vh). With full_matrices, only
    the first min(m, n) singular vectors carry gradient, as in PyTorch."""

    @staticmethod
    def forward(ctx, a, u, s, vh, which):
        ctx.save_for_backward(u, s, vh)
        ctx.which = which
        return {"U": u, "S": s, "Vh": vh}[which]

    @staticmethod
    def backward(ctx, grad):
        u, s, vh = ctx.saved_tensors
        k = s.shape[-1]
        u, vh = u[..., :k], vh[..., :k, :]
        if ctx.which == "S":
            return (u * grad[..., None, :]) @ vh
        s2 = s * s
        gaps = s2[..., None, :] - s2[..., :, None] + ctx.xp.eye(k, dtype=s.dtype)
        if ctx.which == "U":
            g = grad[..., :k]
            x = _mT(u) @ g
            out = u @ ((x - _mT(x)) / gaps * s[..., None, :])
            if u.shape[-2] > k:  # the part of gU outside U's column space
                g_s = g / s[..., None, :]
                out = out + g_s - u @ (_mT(u) @ g_s)
            return out @ vh
        g = grad[..., :k, :]
        x = vh @ _mT(g)
        out = s[..., :, None] * ((x - _mT(x)) / gaps) @ vh
        if vh.shape[-1] > k:  # the part of gVh outside Vh's row space
            s_g = g / s[..., :, None]
            out = out + s_g - (s_g @ _mT(vh)) @ vh
        return u @ out


class Pinv(Function):
    """Moore-Penrose pseudo-inverse P (singular values at or below `tol` dropped);
    grad_A = -P^T G P^T + (I - A P) G^T P P^T + P^T P G^T (I - P A) (Golub & Pereyra)."""

    @staticmethod
    def forward(ctx, a, atol, rtol):
        xp = ctx.xp
        u, s, vh = xp.linalg.svd(a, full_matrices=False)
        s_max = s[..., :1] if s.shape[-1] else xp.zeros(s.shape[:-1] + (1,), dtype=s.dtype)
        keep = s > xp.maximum(atol, rtol * s_max)
        s_inv = xp.where(keep, 1.0 / xp.where(keep, s, 1.0), 0.0).astype(a.dtype)
        p = _mT(vh) @ (s_inv[..., :, None] * _mT(u))
        ctx.save_for_backward(a, p)
        return p

    @staticmethod
    def backward(ctx, grad):
        a, p = ctx.saved_tensors
        pt, gt = _mT(p), _mT(grad)
        return (-pt @ grad @ pt + (gt @ (p @ pt) - a @ (p @ gt) @ (p @ pt))
                + (pt @ p) @ gt - (pt @ p) @ (gt @ p) @ a)


class SolveTriangular(Function):
    """X with A X = B (left) or X A = B, A triangular; grad_B = A^-T G (or G A^-T),
    grad_A = -(grad_B X^T) (or -(X^T grad_B)) kept on A's triangle."""

    @staticmethod
    def forward(ctx, a, b, upper, left, unitriangular):
        xp = ctx.xp
        tri = _triangle(xp, a, upper, unitriangular)
        x = xp.linalg.solve(tri, b) if left else _mT(xp.linalg.solve(_mT(tri), _mT(b)))
        ctx.save_for_backward(tri, x)
        ctx.upper, ctx.left, ctx.unit = upper, left, unitriangular
        return x

    @staticmethod
    def backward(ctx, grad):
        tri, x = ctx.saved_tensors
        xp = ctx.xp
        if ctx.left:
            grad_b = xp.linalg.solve(_mT(tri), grad)
            grad_a = -(grad_b @ _mT(x))
        else:
            grad_b = _mT(xp.linalg.solve(tri, _mT(grad)))
            grad_a = -(_mT(x) @ grad_b)
        grad_a = _triangle(xp, grad_a, ctx.upper, False)
        if ctx.unit:
            grad_a = grad_a * (1 - xp.eye(grad_a.shape[-1], dtype=grad_a.dtype))
        return grad_a, grad_b  # a and b share their batch shape (expanded by the caller)


class MatrixExp(Function):
    """exp(A) = sum A^k / k!; the gradient is the upper-right block of
    exp([[A^T, G], [0, A^T]]) (the Frechet derivative of exp along G, transposed)."""

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return _expm(ctx.xp, a)

    @staticmethod
    def backward(ctx, grad):
        (a,) = ctx.saved_tensors
        xp = ctx.xp
        n = a.shape[-1]
        block = xp.zeros(a.shape[:-2] + (2 * n, 2 * n), dtype=a.dtype)
        block[..., :n, :n] = block[..., n:, n:] = _mT(a)
        block[..., :n, n:] = grad
        return _expm(xp, block)[..., :n, n:]


TAYLOR_TERMS = 18  # with ||A / 2^s||_1 <= 1/2 the series is exact to float64 rounding


def _expm(xp: Any, a: Any) -> Any:
    """Matrix exponential of (..., n, n) by scaling and squaring a Taylor series."""
    norm = float(xp.abs(a).sum(axis=-2).max()) if a.size else 0.0
    squarings = max(0, int(np.ceil(np.log2(norm / 0.5)))) if norm > 0.5 else 0
    x = a / (2.0 ** squarings)
    eye = xp.broadcast_to(xp.eye(a.shape[-1], dtype=a.dtype), a.shape)
    term, total = eye, eye.copy()
    for k in range(1, TAYLOR_TERMS + 1):
        term = term @ x / k
        total = total + term
    for _ in range(squarings):
        total = total @ total
    return total


def _triangle(xp: Any, a: Any, upper: bool, unit: bool) -> Any:
    """The upper or lower triangle of a (the rest zero), with ones on the diagonal if unit."""
    t = xp.triu(a) if upper else xp.tril(a)
    if unit:
        eye = xp.eye(a.shape[-1], dtype=a.dtype)
        t = t * (1 - eye) + eye
    return t


# ------------------------------------------------------------------- checks
def check_float(a: Tensor, op: str) -> None:
    """Raise PyTorch's error for integer or bool input of a linear-algebra function."""
    if not a.dtype.is_floating_point:
        raise RuntimeError(f"{op}: Expected a floating point or complex tensor as input. "
                           f"Got {dtypes.scalar_type_name(a.dtype)}")


def check_square(a: Tensor, op: str) -> None:
    """Raise PyTorch's error unless `a` is a float batch of square matrices (..., n, n)."""
    check_float(a, op)
    if a.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor A must have at least 2 dimensions.")
    if a.shape[-1] != a.shape[-2]:
        raise RuntimeError(f"{op}: A must be batches of square matrices, but they are "
                           f"{a.shape[-2]} by {a.shape[-1]} matrices")


def _run(cls: type, op: str, problem: str, *inputs: Tensor, **options: Any) -> Tensor:
    """Apply `cls`, turning NumPy's LinAlgError into PyTorch's (a RuntimeError)."""
    try:
        return cls.apply(*inputs, **options)
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
    atol_, rtol_ = _tolerances(A, atol, rtol)
    return _no_grad_result(_count_above(xp, s, atol_, rtol_))


def _count_above(xp: Any, s: Any, atol: float, rtol: float) -> Any:
    """How many singular values (..., k) exceed max(atol, rtol * the largest): (...) int64."""
    s_max = s[..., :1] if s.shape[-1] else xp.zeros(s.shape[:-1] + (1,), dtype=s.dtype)
    return xp.asarray((s > xp.maximum(atol, rtol * s_max)).sum(axis=-1), dtype=xp.int64)


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


def svd(A: Tensor, full_matrices: bool = True, *, driver: str | None = None  # noqa: N803
        ) -> tuple[Tensor, Tensor, Tensor]:
    """(U, S, Vh) with A = U diag(S) Vh, S descending: (..., m, n) -> (..., m, m or k),
    (..., k), (..., k or n, n), k = min(m, n); the reduced factors when not full_matrices."""
    check_float(A, "linalg.svd")
    if A.ndim < 2:
        raise RuntimeError("linalg.svd: The input tensor A must have at least 2 dimensions.")
    if driver is not None:
        raise RuntimeError("torch.linalg.svd: keyword argument `driver=` is only supported on "
                           "CUDA inputs with cuSOLVER backend.")
    u, s, vh = array_module(A._data).linalg.svd(A._data, full_matrices=full_matrices)
    return tuple(SVD.apply(A, u=u, s=s, vh=vh, which=w) for w in ("U", "S", "Vh"))


def _tolerances(a: Tensor, atol: float | None, rtol: float | None) -> tuple[float, float]:
    """PyTorch's (atol, rtol) defaults: rtol = eps * max(m, n) unless only atol is given."""
    if rtol is None:
        rtol = 0.0 if atol is not None and atol > 0 else (
            float(np.finfo(a._data.dtype).eps) * max(a.shape[-2:]))
    return (0.0 if atol is None else float(atol)), float(rtol)


def pinv(A: Tensor, *, atol: float | None = None, rtol: float | None = None,  # noqa: N803
         hermitian: bool = False) -> Tensor:
    """Moore-Penrose pseudo-inverse: (..., m, n) -> (..., n, m); singular values at or
    below max(atol, rtol * s_max) are treated as zero."""
    check_float(A, "linalg.pinv")
    if A.ndim < 2:
        raise RuntimeError("linalg.pinv: The input tensor A must have at least 2 dimensions.")
    atol_, rtol_ = _tolerances(A, atol, rtol)
    return Pinv.apply(A, atol=atol_, rtol=rtol_)


def pinverse(input: Tensor, rcond: float = 1e-15) -> Tensor:  # noqa: A002
    """torch.pinverse: linalg.pinv with singular values <= rcond * the largest dropped."""
    return pinv(input, rtol=rcond)


def solve_triangular(A: Tensor, B: Tensor, *, upper: bool, left: bool = True,  # noqa: N803
                     unitriangular: bool = False) -> Tensor:
    """X with A X = B (left) or X A = B, using only A's upper or lower triangle:
    (..., n, n), (..., n, k) -> (..., n, k); batch dimensions broadcast."""
    check_square(A, "linalg.solve_triangular")
    check_float(B, "linalg.solve_triangular")
    if B.ndim < 2:
        raise RuntimeError("linalg.solve_triangular: The input tensor B must have at least 2 "
                           "dimensions.")
    n = A.shape[-1]
    if (B.shape[-2] if left else B.shape[-1]) != n:
        raise RuntimeError(f"linalg.solve_triangular: Incompatible shapes of A and B for the "
                           f"equation {'AX = B' if left else 'XA = B'} ({A.shape[-2]}x"
                           f"{A.shape[-1]} and {B.shape[-2]}x{B.shape[-1]})")
    batch = np.broadcast_shapes(tuple(A.shape[:-2]), tuple(B.shape[:-2]))
    a = A.expand(*batch, n, n) if tuple(A.shape[:-2]) != batch else A
    b = B.expand(*batch, *B.shape[-2:]) if tuple(B.shape[:-2]) != batch else B
    return _run(SolveTriangular, "linalg.solve_triangular", "The diagonal element is zero, "
                "the matrix is singular.", a, b, upper=upper, left=left,
                unitriangular=unitriangular)


LstsqResult = namedtuple("LstsqResult", ["solution", "residuals", "rank", "singular_values"])
LSTSQ_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


def lstsq(A: Tensor, B: Tensor, rcond: float | None = None, *,  # noqa: N803
          driver: str | None = None) -> Any:
    """Least-squares solution of A X = B: (..., m, n), (..., m, k) -> (solution (..., n, k),
    residuals, rank, singular_values); which of the last three are filled depends on the
    driver, as in PyTorch (CPU default 'gelsy': rank only).

    The solution is pinv(A) B (the minimum-norm one; gelsy's differs only for rank-deficient
    A), with rcond (default eps * max(m, n)) relative to the largest singular value."""
    check_float(A, "linalg.lstsq")
    check_float(B, "linalg.lstsq")
    driver = driver or "gelsy"
    if driver not in LSTSQ_DRIVERS:
        raise RuntimeError(f"torch.linalg.lstsq: parameter `driver` should be one of "
                           f"{LSTSQ_DRIVERS}")
    if A.ndim < 2:
        raise RuntimeError("torch.linalg.lstsq: input must have at least 2 dimensions.")
    vector = B.ndim == A.ndim - 1
    rhs = B.unsqueeze(-1) if vector else B
    if rhs.shape[-2] != A.shape[-2]:
        raise RuntimeError("torch.linalg.lstsq: input.size(-2) should match other.size(-2)")
    m, n = A.shape[-2:]
    xp = array_module(A._data)
    s = xp.linalg.svd(A._data, compute_uv=False)
    rcond_ = float(np.finfo(A._data.dtype).eps) * max(m, n) if rcond is None else float(rcond)
    solution = pinv(A, rtol=rcond_) @ rhs
    empty = _no_grad_result(xp.zeros((0,), dtype=A._data.dtype))
    rank_data = _count_above(xp, s, 0.0, rcond_)
    rank = empty.long() if driver == "gels" else _no_grad_result(rank_data)
    values = _no_grad_result(s) if driver in ("gelsd", "gelss") else empty
    residuals = empty
    if driver != "gelsy" and m > n and bool((rank_data == n).all()):
        residuals = ((A.detach() @ solution.detach() - rhs.detach()) ** 2).sum(-2)
    if vector:
        solution = solution.squeeze(-1)
    return LstsqResult(solution, residuals, rank, values)


def matrix_exp(A: Tensor) -> Tensor:  # noqa: N803
    """Matrix exponential exp(A) = sum_k A^k / k! of square matrices: (..., n, n) -> same."""
    check_square(A, "linalg.matrix_exp")
    return MatrixExp.apply(A)
