"""Regression programs for differential-fuzzer findings (issue 19) in the shape, index, reduce,
linalg, search and creation ops. Each program runs under PyTorch and under Rosenblatt through
the fuzzer's own comparison: errors, values, dtypes, shapes, requires_grad and gradients of
every name it leaves behind must agree."""

from __future__ import annotations

import ast

import pytest

from tests.fuzz.compare import compare
from tests.fuzz.generate import Stmt

F64 = "dtype=T.float64, requires_grad=True"
M = f"T.tensor([[1.7, -0.2, 0.4], [-1.2, 0.1, 0.8], [0.8, 1.3, -0.6]], {F64})"

PROGRAMS = {
    # flip and rot90 copy; diagonal and a one-operand einsum are views (writes reach the base)
    "flip_copies": f"x = T.tensor([0.5, 1.5], {F64}); y = x.flip(0); y.fill_(2.)",
    "rot90_of_expanded_writable": "x = T.tensor([[1.], [2.]], dtype=T.float64).expand(2, 3)"
                                  ".requires_grad_(); y = x.rot90(-6, (0, 1)); y.add_(x)",
    "diagonal_is_a_view": f"y = {M} * 1; d = y.diagonal(); d.neg_(); s = y.sum(); s.backward()",
    "diagonal_of_leaf_inplace": f"x = {M}; d = x.diagonal(1); d.mul_(2)",
    "einsum_diagonal_view": f"y = {M} * 1; d = T.einsum('ii->i', y); d[...] = d; d.add_(1.)",
    "einsum_transpose_no_saved": f"y = {M} * 1; t = T.einsum('ji', y); y.pow_(2); "
                                 "t.sum().backward()",
    "einsum_trace_twice": f"x = {M}; t = T.einsum('ii', x); t.backward(); t.backward()",
    # diff: at most size differences; an empty dimension gives the input itself
    "diff_empty_is_input": f"x = T.zeros((2, 0), {F64}); y = T.diff(x); leaf = y.is_leaf",
    "diff_n_past_size": f"x = T.tensor([1., 4., 2.], {F64}); y = T.diff(x, n=5)",
    "diff_n0_copies": f"x = T.tensor([1., 4., 2.], {F64}); y = T.diff(x, n=0, prepend=x)",
    # bincount with weights is in the graph without a derivative
    "bincount_weights_require_grad": f"w = T.tensor([.5, 1., 2.], {F64}); "
                                     "y = T.tensor([0, 2, 2]).bincount(w, minlength=4); "
                                     "rg = y.requires_grad",
    # einsum's dtypes: sums promote bool/int to int64, contractions need one dtype (not bool)
    "einsum_bool_trace": "y = T.einsum('ii', T.tensor([[True, False], [True, True]]))",
    "einsum_bool_contraction": "b = T.tensor([[True, False], [True, True]]); "
                               "y = T.einsum('ij,jk->ik', b, b)",
    "einsum_bool_elementwise": "b = T.tensor([[True, False], [True, True]]); "
                               "y = T.einsum('ij,j->ij', b, b[0]); "
                               "z = T.einsum('ij,j->j', b, b[0])",
    "einsum_mixed_contraction": f"y = T.einsum('ij,jk', {M}, T.ones(3, 2))",
    "einsum_mixed_elementwise": f"y = T.einsum('ij,ij->ij', {M}, T.ones(3, 3))",
    "einsum_mixed_size1": "y = T.einsum('ij,jk', T.ones(3, 1, dtype=T.float64), T.ones(1, 2))",
    "einsum_empty_takes_right": "y = T.einsum('i,i->', T.zeros(0, dtype=T.float64), T.zeros(0))",
    "einsum_repeated_sizes": f"y = T.einsum('ii', {M}[:1])",
    "einsum_own_letters_first": "x = T.tensor([[1., 0.], [2., 3.]], dtype=T.float64); "
                                "v = T.tensor([1., -float('inf')], dtype=T.float64); "
                                "y = T.einsum('ij,k->i', x, v)",
}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_same_as_pytorch(name: str) -> None:
    stmts = [Stmt(ast.unparse(node)) for node in ast.parse(PROGRAMS[name]).body]
    assert compare(stmts) == []
