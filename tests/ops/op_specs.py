"""The op table: one spec per op drives every op test (gradcheck, PyTorch parity, dtypes,
broadcasting, non-contiguous inputs, size-1 and empty dimensions).

A spec's `fn(m, *tensors)` is written once against the shared API and called with
`m = rosenblatt` or `m = torch`, so the two libraries run the very same expression.
`inputs` lists one entry per tensor argument: a shape (a float tensor that requires grad)
or a `Const` (an index or mask tensor, built identically for both libraries).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np


@dataclass(frozen=True)
class Const:
    """A non-differentiable input: `make(rng)` returns the NumPy array for both libraries."""

    make: Callable[[np.random.Generator], np.ndarray]
    label: str = "const"


def index(shape: tuple, high: int) -> Const:
    """int64 indices in [0, high) (repeats allowed, so gradients must accumulate)."""
    return Const(lambda rng: rng.integers(0, high, shape), f"index{shape}<{high}")


def mask(shape: tuple) -> Const:
    """A random boolean mask."""
    return Const(lambda rng: rng.random(shape) < 0.5, f"mask{shape}")


@dataclass(frozen=True)
class OpSpec:
    """One op: how to call it, on what, and which variants are legal."""

    name: str
    fn: Callable[..., Any]
    inputs: tuple
    domain: str = "real"  # real | positive | nonzero | unit (open interval (-1, 1))
    grad: bool = True  # False: forward parity only (argmax, comparisons)
    variants: tuple = ()  # more input lists: broadcasting, size-1 and empty dims
    noncontiguous: bool = True
    float32_grad: bool = True
    atol: float = 1e-10
    extra: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        return self.name


def sample(rng: np.random.Generator, shape: tuple, domain: str, dtype: Any) -> np.ndarray:
    """Values of `domain`, kept away from kinks (0 for abs/relu) and ties."""
    if domain == "positive":
        x = rng.uniform(0.5, 2.0, shape)
    elif domain == "nonzero":
        x = rng.uniform(0.3, 1.5, shape) * rng.choice([-1.0, 1.0], shape)
    elif domain == "unit":
        x = rng.uniform(-0.9, 0.9, shape)
    elif domain == "with_zero":  # nonzero values and one exact zero (prod's special case)
        x = rng.uniform(0.3, 1.5, shape) * rng.choice([-1.0, 1.0], shape)
        if x.size:
            x.reshape(-1)[x.size // 2] = 0.0
    else:
        x = rng.standard_normal(shape)
    return np.asarray(x, dtype=dtype)


S = OpSpec


def _assign(target: Any, key: Any, value: Any) -> Any:
    """`target[key] = value` as an expression (recorded by autograd in both libraries)."""
    target[key] = value
    return target

BINARY_VARIANTS = (
    [(3, 4), (4,)],
    [(4,), (3, 4)],
    [(2, 1, 4), (3, 1)],
    [(1,), (2, 3)],
    [(), (2, 3)],
    [(2, 3), ()],
    [(0, 3), (3,)],
    [(1, 1), (1, 1)],
)
UNARY_VARIANTS = ([()], [(1,)], [(0, 3)], [(2, 1, 3)], [(7,)])
REDUCE_VARIANTS = ([(1, 5)], [(4, 1)], [(2, 3, 4)])


def _binary(name: str, fn: Callable, domain: str = "real") -> OpSpec:
    return S(name, fn, ((3, 4), (3, 4)), domain, variants=BINARY_VARIANTS)


def _unary(name: str, fn: Callable, domain: str = "real", **kw: Any) -> OpSpec:
    return S(name, fn, ((3, 4),), domain, variants=UNARY_VARIANTS, **kw)


SPECS: list[OpSpec] = [
    # ---------------------------------------------------------------- arithmetic
    _binary("add", lambda m, a, b: a + b),
    _binary("add_alpha", lambda m, a, b: m.add(a, b, alpha=2.5)),
    _binary("sub", lambda m, a, b: a - b),
    _binary("mul", lambda m, a, b: a * b),
    _binary("div", lambda m, a, b: a / b, "nonzero"),
    _binary("pow", lambda m, a, b: a**b, "positive"),
    _binary("maximum", lambda m, a, b: m.maximum(a, b)),
    _binary("minimum", lambda m, a, b: m.minimum(a, b)),
    _unary("add_scalar", lambda m, a: a + 2.5),
    _unary("radd_scalar", lambda m, a: 2 + a),
    _unary("rsub_scalar", lambda m, a: 1.5 - a),
    _unary("mul_scalar", lambda m, a: a * 3),
    _unary("rmul_scalar", lambda m, a: -0.5 * a),
    _unary("div_scalar", lambda m, a: a / 4),
    _unary("rdiv_scalar", lambda m, a: 2.0 / a, "nonzero"),
    _unary("pow_2", lambda m, a: a**2),
    _unary("pow_3", lambda m, a: a**3),
    _unary("pow_half", lambda m, a: a**0.5, "positive"),
    _unary("pow_neg", lambda m, a: a**-1.5, "positive"),
    _unary("rpow", lambda m, a: 2.0**a),
    _unary("neg", lambda m, a: -a),
    # ------------------------------------------------------------ math functions
    _unary("exp", lambda m, a: m.exp(a)),
    _unary("log", lambda m, a: m.log(a), "positive"),
    _unary("sqrt", lambda m, a: m.sqrt(a), "positive"),
    _unary("rsqrt", lambda m, a: m.rsqrt(a), "positive"),
    _unary("abs", lambda m, a: m.abs(a), "nonzero"),
    _unary("sign", lambda m, a: m.sign(a), "nonzero"),
    _unary("sin", lambda m, a: m.sin(a)),
    _unary("cos", lambda m, a: m.cos(a)),
    _unary("tanh", lambda m, a: m.tanh(a)),
    _unary("sigmoid", lambda m, a: m.sigmoid(a)),
    _unary("relu", lambda m, a: m.relu(a), "nonzero"),
    _unary("clamp", lambda m, a: m.clamp(a, -0.5, 0.7)),
    _unary("clamp_min", lambda m, a: a.clamp(min=0.1)),
    _unary("clamp_max", lambda m, a: a.clamp(max=-0.1)),
    S("clamp_tensor", lambda m, a, lo: m.clamp(a, min=lo), ((3, 4), (4,))),
    S("where", lambda m, c, a, b: m.where(c, a, b), (mask((3, 4)), (3, 4), (3, 4)),
      variants=([mask((3, 4)), (4,), (3, 1)], [mask((4,)), (3, 4), ()])),
    # -------------------------------------------------------------- reductions
    S("sum", lambda m, a: a.sum(), ((3, 4),), variants=([()], [(0, 3)], [(2, 3, 4)])),
    S("sum_dim", lambda m, a: a.sum(1), ((3, 4),), variants=REDUCE_VARIANTS + ([(3, 0)],)),
    S("sum_dims_keepdim", lambda m, a: m.sum(a, (0, -1), keepdim=True), ((2, 3, 4),),
      variants=([(1, 3, 1)], [(2, 0, 3)])),
    S("mean", lambda m, a: a.mean(), ((3, 4),), variants=([()], [(2, 3, 4)])),
    S("mean_dim", lambda m, a: a.mean(dim=-1, keepdim=True), ((3, 4),),
      variants=REDUCE_VARIANTS),
    S("mean_dims", lambda m, a: a.mean((0, 2)), ((2, 3, 4),)),
    S("prod", lambda m, a: a.prod(), ((3, 4),), "nonzero", variants=([(5,)], [()])),
    S("prod_dim", lambda m, a: a.prod(1), ((3, 4),), "nonzero", variants=REDUCE_VARIANTS),
    S("prod_keepdim", lambda m, a: m.prod(a, 0, keepdim=True), ((3, 4),), "nonzero"),
    S("prod_with_zero", lambda m, a: a.prod(), ((3, 4),), "with_zero"),
    S("prod_dim_with_zero", lambda m, a: a.prod(1), ((3, 4),), "with_zero"),
    S("max_all", lambda m, a: a.max(), ((3, 4),), variants=([(5,)],)),
    S("min_all", lambda m, a: a.min(), ((3, 4),)),
    S("max_dim", lambda m, a: a.max(1), ((3, 4),), variants=REDUCE_VARIANTS),
    S("min_dim_keepdim", lambda m, a: m.min(a, 0, keepdim=True), ((3, 4),),
      variants=REDUCE_VARIANTS),
    S("max_binary", lambda m, a, b: m.max(a, b), ((3, 4), (4,))),
    S("amax", lambda m, a: m.amax(a, (0, 2)), ((2, 3, 4),)),
    S("amin_keepdim", lambda m, a: a.amin(1, keepdim=True), ((3, 4),), variants=REDUCE_VARIANTS),
    S("var", lambda m, a: a.var(), ((3, 4),)),
    S("var_dim", lambda m, a: a.var(1), ((3, 4),), variants=([(1, 5)], [(2, 3, 4)])),
    S("var_unbiased_false", lambda m, a: m.var(a, 0, unbiased=False, keepdim=True), ((3, 4),)),
    S("var_correction", lambda m, a: m.var(a, (0, 2), correction=0), ((2, 3, 4),)),
    S("std", lambda m, a: a.std(), ((3, 4),)),
    S("std_dim", lambda m, a: m.std(a, dim=1, keepdim=True), ((3, 4),),
      variants=([(1, 5)], [(2, 3, 4)])),
    S("logsumexp", lambda m, a: m.logsumexp(a, 1), ((3, 4),), variants=REDUCE_VARIANTS),
    S("logsumexp_dims", lambda m, a: a.logsumexp((0, 1), keepdim=True), ((3, 4),)),
    S("norm", lambda m, a: a.norm(), ((3, 4),), variants=([(5,)], [(2, 3, 4)])),
    S("norm_dim", lambda m, a: m.norm(a, dim=1), ((3, 4),), variants=REDUCE_VARIANTS),
    S("norm_p1", lambda m, a: m.norm(a, p=1, dim=0), ((3, 4),), "nonzero"),
    S("norm_p3", lambda m, a: m.norm(a, p=3, dim=-1, keepdim=True), ((3, 4),), "nonzero"),
    S("norm_inf", lambda m, a: m.norm(a, p=float("inf")), ((3, 4),), "nonzero"),
    S("cumsum", lambda m, a: a.cumsum(1), ((3, 4),), variants=REDUCE_VARIANTS + ([(0, 2)],)),
    S("cumsum_0", lambda m, a: m.cumsum(a, 0), ((3, 4),)),
    S("softmax", lambda m, a: m.softmax(a, 1), ((3, 4),), variants=REDUCE_VARIANTS),
    S("log_softmax", lambda m, a: m.log_softmax(a, -1), ((3, 4),), variants=REDUCE_VARIANTS),
    S("argmax", lambda m, a: a.argmax(1), ((3, 4),), grad=False),
    S("argmax_all", lambda m, a: m.argmax(a), ((3, 4),), grad=False),
    S("argmin_keepdim", lambda m, a: m.argmin(a, 0, keepdim=True), ((3, 4),), grad=False),
    # ----------------------------------------------------------------- matmul
    S("matmul", lambda m, a, b: a @ b, ((3, 4), (4, 5)),
      variants=([(1, 4), (4, 1)], [(3, 0), (0, 2)], [(0, 4), (4, 2)])),
    S("matmul_vv", lambda m, a, b: m.matmul(a, b), ((4,), (4,))),
    S("matmul_mv", lambda m, a, b: a @ b, ((3, 4), (4,))),
    S("matmul_vm", lambda m, a, b: a @ b, ((4,), (4, 5))),
    S("matmul_batched", lambda m, a, b: a @ b, ((2, 3, 4), (2, 4, 5))),
    S("matmul_batched_broadcast", lambda m, a, b: a @ b, ((2, 1, 3, 4), (5, 4, 2)),
      variants=([(3, 4), (2, 4, 5)], [(2, 3, 4), (4,)], [(4,), (2, 4, 3)])),
    S("mm", lambda m, a, b: m.mm(a, b), ((3, 4), (4, 2))),
    S("bmm", lambda m, a, b: m.bmm(a, b), ((2, 3, 4), (2, 4, 2))),
    S("outer", lambda m, a, b: m.outer(a, b), ((3,), (4,))),
    # -------------------------------------------------------------- shape ops
    S("reshape", lambda m, a: a.reshape(4, -1), ((3, 4),)),
    S("view", lambda m, a: a.view(2, 6), ((3, 4),), noncontiguous=False),
    S("transpose", lambda m, a: a.transpose(0, 2), ((2, 3, 4),)),
    S("T", lambda m, a: a.T, ((3, 4),)),
    S("permute", lambda m, a: a.permute(2, 0, 1), ((2, 3, 4),)),
    S("squeeze", lambda m, a: a.squeeze(), ((3, 1, 4, 1),)),
    S("squeeze_dim", lambda m, a: a.squeeze(1), ((3, 1, 4),)),
    S("unsqueeze", lambda m, a: a.unsqueeze(-1), ((3, 4),), variants=([()], [(0,)])),
    S("expand", lambda m, a: a.expand(2, 3, 4), ((3, 1),)),
    S("flatten", lambda m, a: a.flatten(1), ((2, 3, 4),), variants=([(2, 0, 3)], [(2, 1, 1)])),
    S("unflatten", lambda m, a: a.unflatten(1, (2, 3)), ((4, 6),)),
    S("cat", lambda m, a, b: m.cat([a, b], 1), ((3, 4), (3, 2)),
      variants=([(3, 0), (3, 2)],)),
    S("cat_neg_dim", lambda m, a, b, c: m.cat((a, b, c), -3), ((1, 2, 3), (2, 2, 3), (1, 2, 3))),
    S("stack", lambda m, a, b: m.stack([a, b], 1), ((3, 4), (3, 4))),
    S("split", lambda m, a: a.split(2, 1), ((3, 5),)),
    S("split_sizes", lambda m, a: m.split(a, [1, 3, 1], 1), ((3, 5),)),
    S("chunk", lambda m, a: a.chunk(3, 0), ((7, 2),)),
    S("repeat", lambda m, a: a.repeat(2, 1, 3), ((3, 4),)),
    S("flip", lambda m, a: a.flip(0, -1), ((3, 4),)),
    S("flip_list", lambda m, a: m.flip(a, [1]), ((3, 4),)),
    # -------------------------------------------------------------- indexing
    S("getitem_slices", lambda m, a: a[1:, ::2], ((3, 5),)),
    S("getitem_int", lambda m, a: a[1, -1], ((3, 5),)),
    S("getitem_none_ellipsis", lambda m, a: a[None, ..., 1], ((2, 3, 4),)),
    S("getitem_negative_slice", lambda m, a: a[:, -3:-1], ((2, 5),)),
    S("getitem_int_tensor", lambda m, a, i: a[i], ((5, 3), index((7,), 5))),
    S("getitem_int_tensor_dim1", lambda m, a, i: a[:, i], ((3, 5), index((2, 3), 5))),
    S("getitem_two_int_tensors", lambda m, a, i, j: a[i, j],
      ((4, 5), index((6,), 4), index((6,), 5))),
    S("getitem_mask", lambda m, a, k: a[k], ((3, 4), mask((3, 4)))),
    S("getitem_row_mask", lambda m, a, k: a[k], ((3, 4), mask((3,)))),
    S("masked_fill", lambda m, a, k: a.masked_fill(k, -2.0), ((3, 4), mask((3, 4))),
      variants=([(3, 4), mask((4,))],)),
    S("gather", lambda m, a, i: m.gather(a, 1, i), ((3, 5), index((3, 4), 5))),
    S("gather_dim0", lambda m, a, i: a.gather(0, i), ((3, 5), index((2, 5), 3))),
    S("scatter_add", lambda m, a, i, s: a.scatter_add(1, i, s),
      ((3, 5), index((3, 4), 5), (3, 4))),
    S("scatter_add_dim0", lambda m, a, i, s: m.scatter_add(a, 0, i, s),
      ((3, 5), index((2, 5), 3), (2, 5))),
    S("index_select", lambda m, a, i: m.index_select(a, 1, i), ((3, 5), index((6,), 5))),
    S("index_select_dim0", lambda m, a, i: a.index_select(0, i), ((3, 5), index((2,), 3))),
    S("tril", lambda m, a: m.tril(a), ((4, 4),), variants=([(2, 3, 5)],)),
    S("triu_offset", lambda m, a: a.triu(1), ((4, 5),), variants=([(2, 4, 3)],)),
    S("setitem_tracked", lambda m, a, b: _assign(a * 1, (slice(1, None), 0), b),
      ((3, 4), (2,))),
    S("setitem_mask_value", lambda m, a, k: _assign(a * 1, k, 0.5), ((3, 4), mask((3, 4)))),
    S("where_scalar", lambda m, c, a: m.where(c, a, 0.0), (mask((3, 4)), (3, 4))),
    S("clone", lambda m, a: a.clone() * a, ((3, 4),)),
    S("contiguous", lambda m, a: a.T.contiguous(), ((3, 4),)),
    S("view_flat", lambda m, a: a.view(-1), ((3, 4),), noncontiguous=False),
    S("squeeze_dims", lambda m, a: a.squeeze((0, 2)), ((1, 3, 1, 4),)),
    S("expand_keep", lambda m, a: a.expand(-1, 4), ((3, 1),)),
    S("repeat_new_dims", lambda m, a: a.repeat(2, 1, 1, 2), ((2, 3),)),
    S("stack_three_neg", lambda m, a, b, c: m.stack((a, b, c), -1), ((2, 3), (2, 3), (2, 3))),
    S("unbind", lambda m, a: a.unbind(1), ((3, 4),)),
    S("split_uneven", lambda m, a: a.split(3), ((7, 2),)),
    S("movedim", lambda m, a: a.movedim(0, -1), ((2, 3, 4),)),
    S("sum_int_dtype", lambda m, a: m.sum(a, 1, dtype=m.float64), ((3, 4),)),
    S("remainder", lambda m, a: a % 0.7, ((3, 4),)),
    S("floor", lambda m, a: m.floor(a * 3) + a, ((3, 4),)),
    S("round", lambda m, a: m.round(a * 3), ((3, 4),)),
    S("sort_values", lambda m, a: a.sort(1)[0], ((3, 4),)),
    S("topk", lambda m, a: a.topk(2, 1), ((3, 4),)),
    S("masked_select", lambda m, a, k: a.masked_select(k), ((3, 4), mask((3, 4)))),
    S("var_mean", lambda m, a: m.var_mean(a, 1), ((3, 4),)),
    S("abs_pow", lambda m, a: a.abs() ** 1.5, ((3, 4),), "nonzero"),
    # ------------------------------------------------- einsum and matrix products
    S("einsum_matmul", lambda m, a, b: m.einsum("ij,jk->ik", a, b), ((3, 4), (4, 5)),
      variants=([(0, 4), (4, 2)], [(1, 1), (1, 1)], [(3, 0), (0, 2)])),
    S("einsum_implicit", lambda m, a, b: m.einsum("ij,jk", a, b), ((3, 4), (4, 5))),
    S("einsum_implicit_transpose", lambda m, a: m.einsum("ji", a), ((3, 4),)),
    S("einsum_ellipsis", lambda m, a, b: m.einsum("...ij,...jk->...ik", a, b),
      ((2, 3, 4), (4, 5)), variants=([(2, 1, 3, 4), (5, 4, 2)], [(3, 4), (4, 2)])),
    S("einsum_ellipsis_implicit", lambda m, a: m.einsum("i...->...", a), ((3, 2, 4),)),
    S("einsum_trace", lambda m, a: m.einsum("ii", a), ((4, 4),), variants=([(1, 1)],)),
    S("einsum_diagonal", lambda m, a: m.einsum("ii->i", a), ((4, 4),)),
    S("einsum_diagonal_3", lambda m, a, b: m.einsum("iji,j->ij", a, b), ((3, 2, 3), (2,))),
    S("einsum_three", lambda m, a, b, c: m.einsum("bi,bj,bk->ijk", a, b, c),
      ((2, 3), (2, 4), (2, 5))),
    S("einsum_summed_only", lambda m, a, b: m.einsum("ij,k->i", a, b), ((3, 4), (5,))),
    S("einsum_list_spaces", lambda m, a, b: m.einsum("i, i ->", [a, b]), ((4,), (4,)),
      variants=([(0,), (0,)],)),
    S("einsum_broadcast_label", lambda m, a, b: m.einsum("ij,ij->i", a, b), ((3, 4), (1, 4))),
    S("tensordot", lambda m, a, b: m.tensordot(a, b), ((2, 3, 4), (3, 4, 5))),
    S("tensordot_lists", lambda m, a, b: m.tensordot(a, b, ([1, 0], [0, -2])),
      ((3, 2, 4), (2, 3, 5))),
    S("tensordot_0", lambda m, a, b: m.tensordot(a, b, 0), ((2,), (3,))),
    S("addmm", lambda m, c, a, b: m.addmm(c, a, b), ((3, 5), (3, 4), (4, 5)),
      variants=([(5,), (3, 4), (4, 5)], [(), (3, 4), (4, 5)], [(3, 5), (3, 0), (0, 5)])),
    S("addmm_beta_alpha", lambda m, c, a, b: c.addmm(a, b, beta=0.5, alpha=2),
      ((3, 5), (3, 4), (4, 5))),
    S("addmm_beta0", lambda m, c, a, b: m.addmm(c, a, b, beta=0), ((3, 5), (3, 4), (4, 5))),
    S("baddbmm", lambda m, c, a, b: m.baddbmm(c, a, b, beta=0.5, alpha=-1),
      ((2, 3, 5), (2, 3, 4), (2, 4, 5)), variants=([(3, 1), (2, 3, 4), (2, 4, 5)],)),
    S("addbmm", lambda m, c, a, b: c.addbmm(a, b, alpha=2), ((3, 5), (2, 3, 4), (2, 4, 5)),
      variants=([(5,), (0, 3, 4), (0, 4, 5)],)),
    S("kron", lambda m, a, b: m.kron(a, b), ((2, 3), (3, 2)),
      variants=([(2,), (3,)], [(2, 1, 3), (2, 2)], [(0, 2), (2, 2)])),
    S("cross", lambda m, a, b: m.cross(a, b, dim=1), ((4, 3), (4, 3)),
      variants=([(3, 3), (1, 3)], [(0, 3), (0, 3)])),
    S("cross_neg_dim_broadcast", lambda m, a, b: a.cross(b, dim=-1), ((2, 4, 3), (1, 4, 3))),
    # ------------------------------------------------ elementary functions (ops.elementary)
    _unary("tan", lambda m, a: m.tan(a * 0.7)),
    _unary("asin", lambda m, a: m.asin(a), "unit"),
    _unary("acos", lambda m, a: a.acos(), "unit"),
    _unary("atan", lambda m, a: m.atan(a)),
    _unary("arcsin_alias", lambda m, a: m.arcsin(a), "unit"),
    _unary("sinh", lambda m, a: m.sinh(a)),
    _unary("cosh", lambda m, a: a.cosh()),
    _unary("asinh", lambda m, a: m.asinh(a)),
    _unary("acosh", lambda m, a: m.acosh(a + 1), "positive"),
    _unary("atanh", lambda m, a: a.atanh(), "unit"),
    _unary("log2", lambda m, a: m.log2(a), "positive"),
    _unary("log10", lambda m, a: a.log10(), "positive"),
    _unary("log1p", lambda m, a: m.log1p(a), "unit"),
    _unary("expm1", lambda m, a: m.expm1(a)),
    _unary("exp2", lambda m, a: a.exp2()),
    _unary("reciprocal", lambda m, a: m.reciprocal(a), "nonzero"),
    _unary("square", lambda m, a: m.square(a)),
    _unary("sinc", lambda m, a: m.sinc(a)),
    _unary("deg2rad", lambda m, a: m.deg2rad(a)),
    _unary("rad2deg", lambda m, a: a.rad2deg()),
    _unary("frac", lambda m, a: m.frac(a * 3)),
    _unary("logit", lambda m, a: m.logit(a * 0.4 + 0.5), "unit"),
    _unary("logit_eps", lambda m, a: a.logit(eps=0.2), "unit"),
    _unary("clamp_min_fn", lambda m, a: m.clamp_min(a, 0.1)),
    _unary("clamp_max_method", lambda m, a: a.clamp_max(-0.1)),
    _binary("atan2", lambda m, a, b: m.atan2(a, b)),
    _binary("arctan2", lambda m, a, b: a.arctan2(b)),
    _binary("hypot", lambda m, a, b: m.hypot(a, b)),
    _binary("logaddexp", lambda m, a, b: m.logaddexp(a * 30, b)),
    _binary("logaddexp2", lambda m, a, b: a.logaddexp2(b)),
    _binary("xlogy", lambda m, a, b: m.xlogy(a, b), "positive"),
    _binary("copysign", lambda m, a, b: m.copysign(a, b), "nonzero"),
    S("addcmul", lambda m, a, b, c: m.addcmul(a, b, c, value=0.5), ((3, 4), (3, 4), (3, 4)),
      variants=([(3, 4), (4,), (3, 1)], [(), (2, 3), (3,)], [(0, 4), (4,), (1, 4)])),
    S("addcdiv", lambda m, a, b, c: a.addcdiv(b, c, value=-2), ((3, 4), (3, 4), (3, 4)),
      "nonzero", variants=([(3, 4), (4,), (3, 1)], [(0, 4), (4,), (1, 4)])),
    # ------------------------------------------------ more elementwise and cumprod
    _binary("fmod", lambda m, a, b: m.fmod(a, b), "nonzero"),
    _unary("fmod_scalar", lambda m, a: a.fmod(0.7)),
    _unary("erf", lambda m, a: m.erf(a)),
    _unary("erfc", lambda m, a: m.erfc(a * 3)),
    S("lerp", lambda m, a, b: m.lerp(a, b, 0.3), ((3, 4), (3, 4)),
      variants=([(3, 4), (4,)], [(1, 4), (3, 1)], [(0, 4), (4,)])),
    S("lerp_tensor_weight", lambda m, a, b, w: a.lerp(b, w), ((3, 4), (3, 4), (4,)),
      variants=([(3, 1), (4,), (3, 4)],)),
    S("nan_to_num", lambda m, a, k: m.nan_to_num(m.where(k, a, float("nan"))),
      ((3, 4), mask((3, 4)))),
    # the default +-inf replacements are the dtype's extremes: values only (sums overflow)
    S("nan_to_num_defaults", lambda m, a, k, c: m.nan_to_num(m.where(k, a, c)),
      ((3, 4), mask((3, 4)), Const(lambda rng: rng.choice([np.nan, np.inf, -np.inf], (3, 4)),
                                   "nonfinite")), grad=False),
    S("nan_to_num_values", lambda m, a, k, c: m.where(k, a, c).nan_to_num(1.5, 2.0, -3.0),
      ((3, 4), mask((3, 4)), Const(lambda rng: rng.choice([np.nan, np.inf, -np.inf], (3, 4)),
                                   "nonfinite"))),
    S("cumprod", lambda m, a: a.cumprod(1), ((3, 4),), "nonzero",
      variants=REDUCE_VARIANTS + ([(0, 2)], [(2, 0)])),
    S("cumprod_neg_dim", lambda m, a: m.cumprod(a, -2), ((3, 4),), "with_zero"),
    S("cumprod_with_zero", lambda m, a: m.cumprod(a, 1), ((3, 4),), "with_zero"),
    S("cumprod_many_zeros", lambda m, a, k: m.cumprod(a * k, 1), ((3, 5), mask((3, 5)))),
    S("cumprod_flat", lambda m, a: m.cumprod(a, 0), ((5,),), "with_zero",
      variants=([()],)),
    # ----------------------------------------------------- rolls, tiles, slices
    S("roll", lambda m, a: a.roll(1, 0), ((3, 4),), variants=([(1, 4)], [(0, 4)])),
    S("roll_dims", lambda m, a: m.roll(a, (2, -1), (0, -1)), ((3, 4),)),
    S("roll_flat", lambda m, a: a.roll(5), ((3, 4),), variants=([()],)),
    S("tile", lambda m, a: a.tile((2,)), ((3, 4),), variants=([(0, 2)],)),
    S("tile_more_dims", lambda m, a: m.tile(a, (2, 1, 2)), ((3, 4),), variants=([()],)),
    S("narrow", lambda m, a: a.narrow(1, 1, 2), ((3, 4),)),
    S("narrow_negative", lambda m, a: m.narrow(a, -1, -3, 2), ((3, 4),)),
    S("narrow_empty", lambda m, a: m.narrow(a, 0, 3, 0), ((3, 4),)),
    S("diff", lambda m, a: m.diff(a), ((3, 5),), variants=([(3, 1)], [(5,)], [(2, 0)])),
    S("diff_n2_dim0", lambda m, a: a.diff(2, 0), ((4, 3),)),
    S("diff_prepend_append", lambda m, a, p, q: m.diff(a, dim=1, prepend=p, append=q),
      ((3, 4), (3, 1), (3, 2))),
    S("diff_n_exceeds", lambda m, a: m.diff(a, n=5), ((2, 3),)),
    S("repeat_interleave", lambda m, a: a.repeat_interleave(2), ((3, 4),),
      variants=([()], [(0, 3)])),
    S("repeat_interleave_dim", lambda m, a: m.repeat_interleave(a, 3, dim=-1), ((3, 4),)),
    S("repeat_interleave_tensor", lambda m, a, r: m.repeat_interleave(a, r, dim=0),
      ((3, 4), Const(lambda rng: np.array([2, 0, 1]), "counts"))),
    S("diag_vector", lambda m, a: m.diag(a), ((4,),), variants=([(1,)], [(0,)])),
    S("diag_vector_offset", lambda m, a: a.diag(-2), ((3,),)),
    S("diag_matrix", lambda m, a: m.diag(a, 1), ((3, 4),), variants=([(4, 3)], [(1, 1)])),
    S("diag_matrix_negative", lambda m, a: a.diag(-1), ((4, 3),)),
    # ------------------------------------------------------ index additions
    S("index_add", lambda m, a, i, s: m.index_add(a, 1, i, s),
      ((3, 5), index((4,), 5), (3, 4)),
      variants=([(3, 5), index((0,), 5), (3, 0)], [(0, 5), index((2,), 5), (0, 2)],
                [(1, 1), index((3,), 1), (1, 3)])),
    S("index_add_scalar", lambda m, a, i, s: m.index_add(a, 0, i, s, alpha=2),
      ((), index((1,), 1), ())),
    S("index_add_alpha_neg_dim", lambda m, a, i, s: a.index_add(-2, i, s, alpha=-1.5),
      ((4, 2, 3), index((6,), 2), (4, 6, 3))),
    S("index_add_dim0_scalar_index", lambda m, a, i, s: a.index_add(0, i, s),
      ((3, 4), index((), 3), (1, 4))),
    S("index_copy", lambda m, a, i, s: m.index_copy(a, 1, i, s),
      ((3, 5), Const(lambda rng: rng.permutation(5)[:3], "perm3<5"), (3, 3)),
      variants=([(3, 5), index((0,), 5), (3, 0)],
                [(0, 5), Const(lambda rng: rng.permutation(5)[:2], "perm2<5"), (0, 2)])),
    S("index_copy_scalar", lambda m, a, i, s: m.index_copy(a, 0, i, s), ((), index((1,), 1), ()),
      variants=([(), index((), 1), (1,)],)),
    S("index_copy_neg_dim", lambda m, a, i, s: a.index_copy(-1, i, s),
      ((2, 3, 4), Const(lambda rng: rng.permutation(4)[:4], "perm4<4"), (2, 3, 4))),
    S("index_fill", lambda m, a, i: m.index_fill(a, 1, i, -2.5),
      ((3, 5), index((4,), 5)),
      variants=([(3, 5), index((0,), 5)], [(0, 5), index((2,), 5)])),
    S("index_fill_scalar", lambda m, a, i: a.index_fill(0, i, 3), ((), index((2,), 1)),
      variants=([(), index((), 1)],)),
    S("index_fill_negative_index", lambda m, a, i: a.index_fill(-2, i - 3, 1.0),
      ((3, 4), index((3,), 3))),
    S("index_fill_tensor_value", lambda m, a, i, v: a.index_fill(1, i, v),
      ((3, 5), index((4,), 5), ())),
    S("take", lambda m, a, i: m.take(a, i), ((3, 4), index((2, 5), 12)),
      variants=([(3, 4), index((0,), 12)], [(), index((3,), 1)], [(2, 3), index((), 6)])),
    S("take_negative", lambda m, a, i: a.take(i - 12), ((3, 4), index((7,), 12))),
    S("take_along_dim", lambda m, a, i: m.take_along_dim(a, i, 1), ((3, 5), index((3, 4), 5)),
      variants=([(3, 5), index((1, 6), 5)], [(3, 1), index((3, 2), 1)],
                [(3, 5), index((3, 0), 5)])),
    S("take_along_dim_broadcast", lambda m, a, i: a.take_along_dim(i, dim=-1),
      ((3, 1, 4), index((1, 2, 5), 4))),
    S("take_along_dim_negative_index", lambda m, a, i: m.take_along_dim(a, i - 3, 0),
      ((3, 4), index((5, 4), 3))),
    # (the flat path views its input, as PyTorch's: a non-contiguous one raises in both)
    S("take_along_dim_flat", lambda m, a, i: m.take_along_dim(a, i), ((3, 4), index((2, 5), 12)),
      variants=([(), index((3,), 1)],), noncontiguous=False),
    S("diagonal", lambda m, a: m.diagonal(a), ((3, 4),),
      variants=([(4, 3)], [(1, 1)], [(0, 3)], [(2, 3, 4)])),
    S("diagonal_offset_dims", lambda m, a: m.diagonal(a, 1, 0, 2), ((2, 3, 4),)),
    S("diagonal_negative", lambda m, a: a.diagonal(offset=-1, dim1=-1, dim2=0), ((3, 2, 4),)),
    S("diagonal_offset_past_end", lambda m, a: a.diagonal(5), ((3, 4),)),
    S("diag_embed", lambda m, a: m.diag_embed(a), ((2, 3),),
      variants=([(3,)], [(1,)], [(0,)], [(2, 0)], [(2, 1, 3)])),
    S("diag_embed_offset_dims", lambda m, a: m.diag_embed(a, 1, 0, 2), ((2, 3),)),
    S("diag_embed_negative", lambda m, a: a.diag_embed(offset=-2, dim1=-1, dim2=0), ((2, 3),)),
    S("select", lambda m, a: m.select(a, 0, 2), ((3, 4),), variants=([(3,)], [(3, 0)])),
    S("select_negative", lambda m, a: a.select(-1, -1), ((2, 3, 4),), variants=([(1,)],)),
    S("masked_scatter", lambda m, a, k, s: m.masked_scatter(a, k, s),
      ((3, 4), mask((3, 4)), (12,)),
      variants=([(3, 1), mask((3, 4)), (3, 4)], [(3, 4), mask((4,)), (20,)],
                [(), Const(lambda rng: np.asarray(True), "true"), (2,)],
                [(0, 4), mask((0, 4)), (0,)])),
    S("masked_scatter_method", lambda m, a, k, s: a.masked_scatter(k, s),
      ((2, 3, 4), mask((2, 3, 4)), (5, 6))),
    S("argwhere", lambda m, a: m.argwhere(a > 0), ((3, 4),), grad=False,
      variants=([()], [(0, 3)], [(2, 3, 4)])),
    S("argwhere_method", lambda m, a: (a > 0).argwhere(), ((5,),), grad=False),
    S("isin", lambda m, a, b: m.isin(a, b), (index((3, 4), 6), index((5,), 6)), grad=False,
      variants=([index((3, 4), 6), index((0,), 6)], [index((), 6), index((2, 2), 6)])),
    S("isin_invert_number", lambda m, a: m.isin(a, 2, invert=True), (index((3, 4), 4),),
      grad=False),
    S("isin_number_elements", lambda m, b: m.isin(3, b), (index((5,), 6),), grad=False),
    # ------------------------------------------------------ reduce additions
    S("nansum", lambda m, a, k: m.nansum(m.where(k, a, float("nan"))), ((3, 4), mask((3, 4))),
      variants=([(2, 3, 4), mask((2, 3, 4))], [(0, 3), mask((0, 3))])),
    S("nansum_dim_keepdim", lambda m, a, k: m.where(k, a, float("nan")).nansum(1, keepdim=True),
      ((3, 4), mask((3, 4)))),
    S("nansum_no_nan", lambda m, a: a.nansum(-1), ((3, 4),), variants=REDUCE_VARIANTS),
    S("nanmean", lambda m, a, k: m.nanmean(m.where(k, a, float("nan"))), ((3, 4), mask((3, 4)))),
    S("nanmean_dims", lambda m, a, k: m.where(k, a, float("nan")).nanmean((0, 2)),
      ((2, 5, 4), mask((2, 5, 4)))),
    S("nanmean_no_nan", lambda m, a: m.nanmean(a, 1, keepdim=True), ((3, 4),),
      variants=REDUCE_VARIANTS),
    S("median_all", lambda m, a: a.median(), ((3, 4),), variants=([(5,)], [()], [(2, 3, 1)])),
    S("median_dim", lambda m, a: m.median(a, 1), ((3, 4),), variants=REDUCE_VARIANTS),
    S("median_odd_keepdim", lambda m, a: a.median(0, keepdim=True), ((5, 2),),
      variants=([()],)),
    S("nanmedian_all", lambda m, a, k: m.nanmedian(m.where(k, a, float("nan"))),
      ((3, 4), mask((3, 4)))),
    S("nanmedian_dim", lambda m, a, k: m.where(k, a, float("nan")).nanmedian(-1),
      ((4, 6), mask((4, 6)))),
    S("nanmedian_no_nan", lambda m, a: m.nanmedian(a, 0, keepdim=True), ((3, 4),),
      variants=REDUCE_VARIANTS),
    S("mode", lambda m, a: a.mode(), ((3, 4),), variants=REDUCE_VARIANTS),
    S("mode_dim0_keepdim", lambda m, a: m.mode(a, 0, keepdim=True), ((3, 4),)),
    S("mode_ints", lambda m, i: m.mode(i, 0), (index((7, 4), 3),), grad=False),
    S("kthvalue", lambda m, a: a.kthvalue(2, 1), ((3, 4),), variants=([(2, 3, 4)], [(1, 5)])),
    S("kthvalue_keepdim", lambda m, a: m.kthvalue(a, 3, 0, keepdim=True), ((3, 4),)),
    S("kthvalue_ints", lambda m, i: m.kthvalue(i, 4), (index((3, 8), 3),), grad=False),
    S("cummax", lambda m, a: a.cummax(1), ((3, 4),), variants=REDUCE_VARIANTS + ([(0, 2)],)),
    S("cummin_dim0", lambda m, a: m.cummin(a, 0), ((3, 4),), variants=REDUCE_VARIANTS),
    S("cummax_ints", lambda m, i: m.cummax(i, -1), (index((3, 8), 3),), grad=False),
    S("logcumsumexp", lambda m, a: a.logcumsumexp(1), ((3, 4),),
      variants=REDUCE_VARIANTS + ([(0, 2)],)),
    S("logcumsumexp_large", lambda m, a: m.logcumsumexp(a * 300, 0), ((5, 3),)),
    S("aminmax", lambda m, a: m.aminmax(a), ((3, 4),), variants=([()], [(2, 3, 4)])),
    S("aminmax_dim", lambda m, a: a.aminmax(dim=1, keepdim=True), ((3, 4),),
      variants=REDUCE_VARIANTS),
    S("aminmax_dim_neg", lambda m, a: m.aminmax(a, dim=-1), ((3, 4),)),
    S("quantile", lambda m, a: m.quantile(a, 0.3), ((3, 4),), variants=([(1,)], [()], [(7,)])),
    S("quantile_q_tensor_dim", lambda m, a: a.quantile(m.tensor([0.0, 0.3, 0.5, 1.0],
                                                              dtype=a.dtype), dim=1, keepdim=True),
      ((3, 4),), variants=REDUCE_VARIANTS),
    S("quantile_dim0", lambda m, a: m.quantile(a, 0.75, 0), ((5, 3),)),
    *(S(f"quantile_{how}", lambda m, a, how=how: m.quantile(
        a, m.tensor([0.1, 0.375, 0.5, 0.9], dtype=a.dtype), -1, interpolation=how), ((3, 5),))
      for how in ("lower", "higher", "midpoint", "nearest")),
    S("nanquantile", lambda m, a, k: m.nanquantile(m.where(k, a, float("nan")), 0.4),
      ((3, 4), mask((3, 4)))),
    *(S(f"nanquantile_{how}", lambda m, a, k, how=how: m.where(k, a, float("nan")).nanquantile(
        m.tensor([0.2, 0.5, 0.8], dtype=a.dtype), 1, interpolation=how), ((4, 6), mask((4, 6))))
      for how in ("linear", "lower", "higher", "midpoint", "nearest")),
    S("std_mean", lambda m, a: m.std_mean(a, 1), ((3, 4),)),
    S("std_mean_all", lambda m, a: m.std_mean(a), ((3, 4),)),
    S("std_mean_correction", lambda m, a: m.std_mean(a, (0, 2), correction=0, keepdim=True),
      ((2, 3, 4),)),
    S("std_mean_unbiased", lambda m, a: m.std_mean(a, 0, False), ((3, 4),)),
    S("bincount", lambda m, i: m.bincount(i), (index((10,), 5),), grad=False),
    S("bincount_weights", lambda m, i, w: i.bincount(w, minlength=7), (index((10,), 5), (10,)),
      grad=False),
    S("dist", lambda m, a, b: m.dist(a, b), ((3, 4), (3, 4)), variants=BINARY_VARIANTS),
    S("dist_p1", lambda m, a, b: a.dist(b, 1), ((3, 4), (4,))),
    S("dist_p3", lambda m, a, b: m.dist(a, b, p=3), ((3, 4), (3, 4))),
    S("dist_inf", lambda m, a, b: m.dist(a, b, float("inf")), ((3, 4), (3, 1))),
    S("cdist", lambda m, a, b: m.cdist(a, b), ((2, 3, 4), (2, 5, 4)),
      variants=([(3, 4), (5, 4)], [(2, 1, 3, 4), (3, 5, 4)], [(0, 4), (2, 4)], [(3, 0), (2, 0)])),
    *(S(f"cdist_p{name}", lambda m, a, b, p=p: m.cdist(a, b, p=p), ((2, 3, 4), (1, 5, 4)))
      for name, p in (("0", 0.0), ("half", 0.5), ("1", 1.0), ("1_5", 1.5), ("3", 3.0),
                      ("inf", float("inf")))),
    # ------------------------------------------------------ shape additions
    S("hstack", lambda m, a, b: m.hstack([a, b]), ((3, 4), (3, 2)),
      variants=([(3,), (4,)], [(), (2,)], [(3, 0), (3, 2)], [(2, 3, 4), (2, 1, 4)])),
    S("vstack", lambda m, a, b: m.vstack((a, b)), ((3, 4), (4,)),
      variants=([(), ()], [(0, 4), (2, 4)], [(2, 3, 4), (1, 3, 4)])),
    S("row_stack", lambda m, a, b: m.row_stack([a, b]), ((3,), (3,))),
    S("dstack", lambda m, a, b: m.dstack([a, b]), ((3, 4), (3, 4)),
      variants=([(4,), (4,)], [(), ()], [(2, 3, 1, 2), (2, 3, 2, 2)], [(0, 2), (0, 2)])),
    S("column_stack", lambda m, a, b, c: m.column_stack([a, b, c]), ((3,), (3, 2), (3,)),
      variants=([(), (1, 2), ()], [(0,), (0, 2), (0, 1)], [(2, 3, 4), (2, 1, 4), (2, 3, 4)])),
    S("atleast_1d", lambda m, a: m.atleast_1d(a), ((3, 4),), variants=([()], [(0,)])),
    S("atleast_2d_several", lambda m, a, b: m.atleast_2d(a, b), ((4,), ()),
      variants=([(2, 3, 4), (1,)],)),
    S("atleast_3d_list", lambda m, a, b, c: m.atleast_3d([a, b, c]), ((), (4,), (2, 3)),
      variants=([(2, 3, 4, 5), (0,), (0, 2)],)),
    S("rot90", lambda m, a: m.rot90(a), ((3, 4),), variants=([(1, 5)], [(2, 3, 4)], [(0, 2)])),
    S("rot90_k2_dims", lambda m, a: a.rot90(2, [2, 0]), ((2, 3, 4),)),
    S("rot90_negative_k", lambda m, a: m.rot90(a, -1, (-1, 1)), ((2, 3, 4),)),
    S("rot90_k3", lambda m, a: m.rot90(a, k=3, dims=[1, 0]), ((3, 4),)),
    S("rot90_k4_copy", lambda m, a: m.rot90(a, 4) * a, ((3, 4),)),
    S("rot90_k_minus_6", lambda m, a: a.rot90(-6, (0, 1)), ((3, 4),)),
    S("fliplr", lambda m, a: m.fliplr(a), ((3, 4),), variants=([(2, 3, 4)], [(3, 0)])),
    S("flipud", lambda m, a: a.flipud(), ((3, 4),), variants=([(5,)], [(0, 2)])),
    S("block_diag", lambda m, a, b, c: m.block_diag(a, b, c), ((2, 3), (4,), ()),
      variants=([(0, 2), (2, 0), (1, 1)], [(3, 3), (1, 2), (2, 1)])),
    S("block_diag_one", lambda m, a: m.block_diag(a), ((3, 2),), variants=([()], [(4,)])),
    S("cartesian_prod", lambda m, a, b, c: m.cartesian_prod(a, b, c), ((3,), (2,), (4,)),
      variants=([(1,), (1,), (1,)], [(3,), (0,), (2,)])),
    S("cartesian_prod_two", lambda m, a, b: m.cartesian_prod(a, b), ((4,), (3,))),
    S("cartesian_prod_one", lambda m, a: m.cartesian_prod(a), ((4,),)),
    S("combinations", lambda m, a: m.combinations(a), ((5,),), variants=([(2,)], [(1,)], [(0,)])),
    S("combinations_r3_replacement", lambda m, a: m.combinations(a, 3, with_replacement=True),
      ((4,),), variants=([(1,)],)),
    S("combinations_r_exceeds", lambda m, a: m.combinations(a, r=4), ((3,),)),
    S("combinations_r1", lambda m, a: m.combinations(a, 1), ((4,),)),
    S("trace", lambda m, a: a.trace(), ((3, 5),), variants=([(4, 2)], [(1, 1)], [(0, 3)])),
    S("clone_function", lambda m, a: m.clone(a) * a, ((3, 4),), variants=([()], [(0, 2)])),
    # detach(a) * a would fail gradcheck by design (finite differences move the detached a)
    S("detach_function", lambda m, a: m.detach(a), ((3, 4),), grad=False),
    S("pixel_shuffle", lambda m, a: m.nn.functional.pixel_shuffle(a, 2), ((2, 8, 3, 2),),
      variants=([(8, 1, 1)], [(2, 3, 4, 2, 1)])),
    S("pixel_shuffle_3", lambda m, a: m.nn.functional.pixel_shuffle(a, 3), ((1, 9, 2, 3),)),
    S("pixel_unshuffle", lambda m, a: m.nn.functional.pixel_unshuffle(a, 2), ((2, 2, 4, 6),),
      variants=([(3, 2, 2)], [(2, 1, 1, 4, 2)])),
    S("pixel_unshuffle_3", lambda m, a: m.nn.functional.pixel_unshuffle(a, 3), ((1, 2, 3, 6),)),
    S("channel_shuffle", lambda m, a: m.nn.functional.channel_shuffle(a, 3), ((2, 6, 3),),
      variants=([(1, 6, 2, 2)], [(0, 6, 1)], [(2, 3, 1)])),
    # ------------------------------------------------------ non-differentiable
    S("one_hot", lambda m, i: m.nn.functional.one_hot(i, 5), (index((2, 3), 5),), grad=False),
    S("one_hot_inferred", lambda m, i: m.nn.functional.one_hot(i), (index((6,), 4),),
      grad=False),
    S("argsort", lambda m, a: a.argsort(1, descending=True), ((3, 4),), grad=False),
    S("eq", lambda m, a, b: a == b.round(), ((3, 4), (3, 4)), grad=False),
    S("lt", lambda m, a, b: a < b, ((3, 4), (4,)), grad=False),
    S("ge_scalar", lambda m, a: a >= 0.1, ((3, 4),), grad=False),
    S("ne", lambda m, a, b: m.ne(a, b), ((3, 4), (3, 4)), grad=False),
    S("isfinite", lambda m, a: m.isfinite(a / a.round()), ((3, 4),), grad=False),
]

BY_NAME = {spec.name: spec for spec in SPECS}
assert len(BY_NAME) == len(SPECS), "spec names must be unique"
