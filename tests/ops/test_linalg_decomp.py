"""rosenblatt.linalg (norms, inv, det, slogdet, solve, solve_triangular, lstsq, cholesky, qr,
eigh, svd, svdvals, pinv, matrix_rank, matrix_exp) and
the top-level aliases against PyTorch in float64, gradients against PyTorch and gradcheck."""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np
import pytest
import torch

import rosenblatt as rb
from rosenblatt.autograd import gradcheck

RNG = np.random.default_rng(0)
BATCHES = [(), (3,), (2, 2)]


def well_conditioned(batch: tuple, n: int = 3) -> np.ndarray:
    """Random matrices near the identity: invertible, determinant away from 0."""
    return RNG.standard_normal(batch + (n, n)) * 0.3 + np.eye(n) * rng_sign(batch)


def rng_sign(batch: tuple) -> np.ndarray:
    """+-1 per matrix, so negative determinants are covered too."""
    return RNG.choice([-1.0, 1.0], batch + (1, 1))


def spd(batch: tuple, n: int = 3) -> np.ndarray:
    """Symmetric positive-definite matrices."""
    a = RNG.standard_normal(batch + (n, n))
    return a @ np.swapaxes(a, -1, -2) + n * np.eye(n)


def compare(fn: Callable[[Any, Any], Any], *arrays: np.ndarray, atol: float = 1e-10) -> None:
    """fn(rb, ...) against fn(torch, ...): values, then gradients of a random projection."""
    ours = [rb.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    got, want = fn(rb, *ours), fn(torch, *theirs)
    np.testing.assert_allclose(got.detach().numpy(), want.detach().numpy(), atol=atol)
    weights = RNG.standard_normal(tuple(want.shape))
    (got * rb.tensor(weights)).sum().backward()
    (want * torch.tensor(weights)).sum().backward()
    for o, t in zip(ours, theirs):
        np.testing.assert_allclose(o.grad.numpy(), t.grad.numpy(), atol=1e-8)
    fresh = [rb.tensor(a, requires_grad=True) for a in arrays]
    assert gradcheck(lambda *xs: fn(rb, *xs), fresh)


# ------------------------------------------------------------ matrix functions
@pytest.mark.parametrize("batch", BATCHES)
def test_inv(batch):
    compare(lambda m, a: m.linalg.inv(a), well_conditioned(batch))


@pytest.mark.parametrize("batch", BATCHES)
def test_det(batch):
    compare(lambda m, a: m.linalg.det(a), well_conditioned(batch))


def test_det_gradient_of_a_singular_matrix_is_the_cofactor_matrix():
    # PyTorch 2.13 returns 0 here; the derivative of det is the cofactor matrix, not 0
    singular = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.5, -1.0, 2.0]])
    a = rb.tensor(singular, requires_grad=True)
    rb.linalg.det(a).backward()
    cofactor = [[(-1) ** (i + j) * np.linalg.det(np.delete(np.delete(singular, i, 0), j, 1))
                 for j in range(3)] for i in range(3)]
    np.testing.assert_allclose(a.grad.numpy(), cofactor, atol=1e-12)
    assert np.abs(cofactor).max() > 1  # the check means something
    assert gradcheck(rb.linalg.det, rb.tensor(singular, requires_grad=True))


@pytest.mark.parametrize("batch", BATCHES)
def test_slogdet(batch):
    a = well_conditioned(batch)
    compare(lambda m, x: m.linalg.slogdet(x)[1], a)
    np.testing.assert_array_equal(rb.linalg.slogdet(rb.tensor(a))[0].numpy(),
                                  torch.linalg.slogdet(torch.tensor(a))[0].numpy())


@pytest.mark.parametrize("batch", BATCHES)
def test_logdet_and_aliases(batch):
    a = well_conditioned(batch)
    np.testing.assert_allclose(rb.logdet(rb.tensor(a)).numpy(), torch.logdet(torch.tensor(a)))
    compare(lambda m, x: m.logdet(x), np.abs(a) + 3 * np.eye(3))  # positive determinants
    compare(lambda m, x: m.inverse(x), a)
    compare(lambda m, x: m.det(x), a)
    compare(lambda m, x: x.inverse() + x.det()[..., None, None], a)


@pytest.mark.parametrize("batch_a, batch_b", [((), ()), ((3,), (3,)), ((2, 1), (3,)),
                                              ((), (4,))])
@pytest.mark.parametrize("k", [1, 2])
def test_solve_matrix_right_hand_side(batch_a, batch_b, k):
    compare(lambda m, a, b: m.linalg.solve(a, b), well_conditioned(batch_a),
            RNG.standard_normal(batch_b + (3, k)))


@pytest.mark.parametrize("batch", [(), (2,)])
def test_solve_vector_right_hand_side_and_left_false(batch):
    a = well_conditioned(batch)
    compare(lambda m, x, b: m.linalg.solve(x, b), a, RNG.standard_normal(batch + (3,)))
    compare(lambda m, x, b: m.linalg.solve(x, b, left=False), a,
            RNG.standard_normal(batch + (2, 3)))


@pytest.mark.parametrize("batch", BATCHES)
@pytest.mark.parametrize("upper", [False, True])
def test_cholesky(batch, upper):
    # (x + x^T) / 2 keeps the input symmetric under any perturbation, as gradcheck makes
    compare(lambda m, x: m.linalg.cholesky((x + x.mT) / 2, upper=upper), spd(batch))


def test_legacy_cholesky_warns_as_pytorch():
    a = spd((2,))
    with pytest.warns(UserWarning, match="deprecated"):
        ours = rb.cholesky(rb.tensor(a), True)
    with pytest.warns(UserWarning, match="deprecated"):
        theirs = torch.cholesky(torch.tensor(a), True)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-12)


@pytest.mark.parametrize("shape", [(3, 3), (2, 4, 3), (3, 2, 5)])
def test_svdvals(shape):
    compare(lambda m, a: m.linalg.svdvals(a), RNG.standard_normal(shape))


def test_matrix_rank():
    a = RNG.standard_normal((4, 5, 2)) @ RNG.standard_normal((4, 2, 6))  # rank 2
    a[0] = 0.0
    for kwargs in ({}, {"atol": 1.0}, {"rtol": 0.5}, {"atol": 0.1, "rtol": 0.1}):
        ours = rb.linalg.matrix_rank(rb.tensor(a), **kwargs)
        theirs = torch.linalg.matrix_rank(torch.tensor(a), **kwargs)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
        assert ours.dtype is rb.int64



@pytest.mark.parametrize("batch", BATCHES)
def test_eigh_values_and_vectors(batch):
    # symmetric input under perturbation; squared vectors: free of the eigenvectors' signs
    a = RNG.standard_normal(batch + (4, 4))
    compare(lambda m, x: m.linalg.eigh((x + x.mT) / 2)[0], a)
    compare(lambda m, x: m.linalg.eigh((x + x.mT) / 2)[1] ** 2, a)
    compare(lambda m, x: m.linalg.eigvalsh((x + x.mT) / 2, UPLO="U"), a)


@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (2, 6, 2)])
def test_qr_reduced(shape):
    a = RNG.standard_normal(shape)
    compare(lambda m, x: m.linalg.qr(x)[0], a)
    compare(lambda m, x: m.linalg.qr(x)[1], a)


def test_qr_modes_and_their_derivative_errors():
    a = RNG.standard_normal((5, 3))
    for mode in ("complete", "r"):
        ours = rb.linalg.qr(rb.tensor(a, requires_grad=True), mode=mode)
        theirs = torch.linalg.qr(torch.tensor(a, requires_grad=True), mode=mode)
        for o, t in zip(ours, theirs):
            assert tuple(o.shape) == tuple(t.shape)
            np.testing.assert_allclose(o.detach().numpy(), t.detach().numpy(), atol=1e-12)
        with pytest.raises(RuntimeError, match="mode"):
            ours[1].sum().backward()
        with pytest.raises(RuntimeError, match="mode"):
            theirs[1].sum().backward()
    with pytest.raises(RuntimeError, match="unrecognized mode"):
        rb.linalg.qr(rb.tensor(a), mode="full")


# ------------------------------------------------------------------------ norms
VECTOR_ORDS = [2, 1, 3, 0.5, -1, math.inf, -math.inf]


@pytest.mark.parametrize("order", VECTOR_ORDS)
@pytest.mark.parametrize("dim, keepdim", [(None, False), (1, False), ((0, 2), True)])
def test_vector_norm(order, dim, keepdim):
    compare(lambda m, x: m.linalg.vector_norm(x, order, dim, keepdim),
            RNG.standard_normal((3, 4, 2)))


MATRIX_ORDS = ["fro", "nuc", 1, -1, 2, -2, math.inf, -math.inf]


@pytest.mark.parametrize("order", MATRIX_ORDS)
@pytest.mark.parametrize("dim, keepdim", [((-2, -1), False), ((2, 0), True), ((0, 1), False)])
def test_matrix_norm(order, dim, keepdim):
    compare(lambda m, x: m.linalg.matrix_norm(x, order, dim, keepdim),
            RNG.standard_normal((3, 4, 5)))


@pytest.mark.parametrize("shape, order, dim", [
    ((3, 4), None, None), ((2, 3, 4), None, None), ((3, 4), "nuc", None), ((4,), 1, None),
    ((3, 4), -math.inf, None), ((2, 3, 4), 3, 1), ((2, 3, 4), 2, (0, 2)), ((2, 3, 4), None, (1, 2)),
])
def test_norm(shape, order, dim):
    compare(lambda m, x: m.linalg.norm(x, order, dim), RNG.standard_normal(shape))


def test_norm_keepdim_and_dtype():
    x = RNG.standard_normal((2, 3))
    compare(lambda m, t: m.linalg.norm(t, keepdim=True), x)
    ours = rb.linalg.vector_norm(rb.tensor(x), dtype=rb.float32)
    assert ours.dtype is rb.float32


# ----------------------------------------------------------------------- errors
@pytest.mark.parametrize("name", ["inv", "det", "slogdet", "cholesky"])
def test_non_square_input_raises(name):
    with pytest.raises(RuntimeError, match="square"):
        getattr(torch.linalg, name)(torch.zeros(2, 3, dtype=torch.float64))
    with pytest.raises(RuntimeError, match="square"):
        getattr(rb.linalg, name)(rb.zeros(2, 3, dtype=rb.float64))


def test_singular_and_not_positive_definite_input_raise_linalg_errors():
    singular = np.array([[1.0, 2.0], [2.0, 4.0]])
    for lib in (torch, rb):
        with pytest.raises(lib.linalg.LinAlgError, match="singular"):
            lib.linalg.inv(lib.tensor(singular))
        with pytest.raises(lib.linalg.LinAlgError, match="singular"):
            lib.linalg.solve(lib.tensor(singular), lib.tensor([1.0, 1.0], dtype=lib.float64))
        with pytest.raises(lib.linalg.LinAlgError, match="positive-definite"):
            lib.linalg.cholesky(lib.tensor(-np.eye(2)))
    assert issubclass(rb.linalg.LinAlgError, RuntimeError)
    assert rb.linalg.det(rb.tensor(singular)).item() == 0.0
    sign, logabs = rb.linalg.slogdet(rb.tensor(singular))
    assert sign.item() == 0.0 and logabs.item() == -math.inf


def test_integer_input_and_bad_orders_raise():
    for lib in (torch, rb):
        with pytest.raises(RuntimeError, match="floating point"):
            lib.linalg.inv(lib.eye(2, dtype=lib.int64))
        with pytest.raises(RuntimeError):
            lib.linalg.matrix_norm(lib.ones(2, 2), 3)
        with pytest.raises(RuntimeError):
            lib.linalg.norm(lib.ones(2, 2, 2), 2)
        with pytest.raises(RuntimeError):
            lib.linalg.solve(lib.eye(3), lib.ones(2, 1))


# ------------------------------------------------- svd, pinv, lstsq, solve_triangular
@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 5), (2, 4, 3)])
@pytest.mark.parametrize("full", [False, True])
def test_svd_factors_and_their_gradients(shape, full):
    """Values and gradients through sign-free functions of the factors: S, U^2, Vh^2 and
    U_k Vh_k (each pair of singular vectors flips sign together)."""
    a = RNG.standard_normal(shape)
    k = min(shape[-2:])
    ours = rb.linalg.svd(rb.tensor(a), full_matrices=full)
    theirs = torch.linalg.svd(torch.tensor(a), full_matrices=full)
    for o, t in zip(ours, theirs):
        assert tuple(o.shape) == tuple(t.shape)
    np.testing.assert_allclose(ours[1].numpy(), theirs[1].numpy(), atol=1e-12)
    compare(lambda m, x: m.linalg.svd(x, full_matrices=False)[1], a)
    compare(lambda m, x: m.linalg.svd(x, full_matrices=False)[0] ** 2, a)
    compare(lambda m, x: m.linalg.svd(x, full_matrices=False)[2] ** 2, a)
    compare(lambda m, x: m.linalg.svd(x, full_matrices=full)[0][..., :k]
            @ m.linalg.svd(x, full_matrices=full)[2][..., :k, :], a)
    u, s, vh = rb.linalg.svd(rb.tensor(a), full_matrices=full)
    np.testing.assert_allclose((u[..., :k] * s.unsqueeze(-2) @ vh[..., :k, :]).numpy(), a,
                               atol=1e-12)
    with pytest.raises(RuntimeError, match="at least 2 dimensions"):
        rb.linalg.svd(rb.tensor([1.0, 2.0]))


@pytest.mark.parametrize("shape", [(4, 4), (5, 3), (3, 5), (2, 4, 3)])
def test_pinv(shape):
    compare(lambda m, x: m.linalg.pinv(x), RNG.standard_normal(shape))


def test_pinv_drops_small_singular_values_like_pytorch():
    a = RNG.standard_normal((5, 2)) @ RNG.standard_normal((2, 4))  # rank 2
    for kwargs in ({}, {"atol": 0.5}, {"rtol": 0.3}, {"atol": 1e-3, "rtol": 1e-3}):
        ours = rb.linalg.pinv(rb.tensor(a), **kwargs).numpy()
        theirs = torch.linalg.pinv(torch.tensor(a), **kwargs).numpy()
        np.testing.assert_allclose(ours, theirs, atol=1e-10)


@pytest.mark.parametrize("a_shape, b_shape", [((6, 3), (6, 2)), ((3, 5), (3, 2)),
                                              ((2, 5, 3), (2, 5, 4)), ((4, 4), (4,))])
def test_lstsq_solution(a_shape, b_shape):
    compare(lambda m, x, y: m.linalg.lstsq(x, y).solution,
            RNG.standard_normal(a_shape), RNG.standard_normal(b_shape))


@pytest.mark.parametrize("driver", [None, "gels", "gelsy", "gelsd", "gelss"])
def test_lstsq_fills_what_each_driver_fills(driver):
    a, b = RNG.standard_normal((2, 6, 3)), RNG.standard_normal((2, 6, 2))
    ours = rb.linalg.lstsq(rb.tensor(a), rb.tensor(b), driver=driver)
    theirs = torch.linalg.lstsq(torch.tensor(a), torch.tensor(b), driver=driver)
    for name in ("solution", "residuals", "rank", "singular_values"):
        o, t = getattr(ours, name), getattr(theirs, name)
        assert tuple(o.shape) == tuple(t.shape), name
        np.testing.assert_allclose(o.numpy(), t.numpy(), atol=1e-10)
    assert ours.rank.dtype is rb.int64
    with pytest.raises(RuntimeError, match="driver"):
        rb.linalg.lstsq(rb.tensor(a), rb.tensor(b), driver="gesv")
    with pytest.raises(RuntimeError, match="should match"):
        rb.linalg.lstsq(rb.tensor(a), rb.tensor(b[:, :5]))


@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("unit", [False, True])
def test_solve_triangular(upper, left, unit):
    """Only A's triangle is read (the other holds noise); batch dimensions broadcast."""
    a = RNG.standard_normal((2, 1, 4, 4)) * 0.3 + 2 * np.eye(4)
    b = RNG.standard_normal((3, 4, 2) if left else (3, 2, 4))
    compare(lambda m, x, y: m.linalg.solve_triangular(x, y, upper=upper, left=left,
                                                      unitriangular=unit), a, b)


def test_solve_triangular_errors():
    a, b = rb.tensor(np.eye(3)), rb.tensor(np.ones((4, 2)))
    with pytest.raises(RuntimeError, match="Incompatible shapes"):
        rb.linalg.solve_triangular(a, b, upper=True)
    with pytest.raises(TypeError):
        rb.linalg.solve_triangular(a, rb.tensor(np.ones((3, 2))))  # upper is required


@pytest.mark.parametrize("shape, scale", [((3, 3), 0.1), ((4, 4), 1.0), ((2, 3, 3), 3.0),
                                          ((1, 1), 8.0)])
def test_matrix_exp(shape, scale):
    """Small and large norms (scaling and squaring), batches; exp(0) = I, exp(A) exp(-A) = I."""
    a = RNG.standard_normal(shape) * scale
    compare(lambda m, x: m.linalg.matrix_exp(x), a, atol=1e-9 * max(1.0, np.exp(scale * 3)))
    eye = np.broadcast_to(np.eye(shape[-1]), shape)
    np.testing.assert_allclose(rb.linalg.matrix_exp(rb.tensor(np.zeros(shape))).numpy(), eye)
    prod = rb.linalg.matrix_exp(rb.tensor(a)) @ rb.linalg.matrix_exp(rb.tensor(-a))
    np.testing.assert_allclose(prod.numpy(), eye, atol=1e-9 * max(1.0, np.exp(scale * 3)))


def test_top_level_matrix_exp_and_pinverse_and_their_methods():
    a = RNG.standard_normal((4, 3))
    np.testing.assert_allclose(rb.pinverse(rb.tensor(a)).numpy(),
                               torch.pinverse(torch.tensor(a)).numpy(), atol=1e-12)
    np.testing.assert_allclose(rb.tensor(a).pinverse(rcond=0.5).numpy(),
                               torch.tensor(a).pinverse(rcond=0.5).numpy(), atol=1e-12)
    b = RNG.standard_normal((2, 3, 3))
    np.testing.assert_allclose(rb.matrix_exp(rb.tensor(b)).numpy(),
                               torch.matrix_exp(torch.tensor(b)).numpy(), atol=1e-12)
    np.testing.assert_allclose(rb.tensor(b).matrix_exp().numpy(),
                               torch.tensor(b).matrix_exp().numpy(), atol=1e-12)
    with pytest.raises(RuntimeError, match="square"):
        rb.linalg.matrix_exp(rb.tensor(a))
