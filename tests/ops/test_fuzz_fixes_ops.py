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
    # dtype and rank rules of reductions, products and indexing
    "dist_int_with_float": f"y = T.dist(T.tensor([[1, 2], [0, 3]]), {M}[:2, :2])",
    "dist_ints_raise": "y = T.dist(T.tensor([1, 2]), T.tensor([0, 3]))",
    "norm_of_int_raises": "y = T.tensor([1, 2]).norm()",
    "norm_of_int_with_dtype_raises": "y = T.tensor([1, 2]).norm(p=3, dtype=T.float64)",
    "outer_needs_vectors": f"y = T.outer({M}, {M}[0])",
    "outer_of_0d_raises": f"y = T.outer({M}[0, 0], {M}[0])",
    "trace_of_bool_raises": "y = T.tensor([[True, False], [False, True]]).trace()",
    "scatter_add_needs_one_dtype": f"y = T.scatter_add({M}, 0, T.tensor([[0, 1, 2]]), "
                                   "T.ones(1, 3))",
    "scatter_needs_one_dtype": f"y = T.scatter({M}, 0, T.tensor([[0, 1, 2]]), T.tensor(2.))",
    "max_along_dim_of_bool": "y = T.tensor([[False, True], [True, True]]).max(0); "
                             "z = T.tensor([[False, True], [True, True]]).min(1, keepdim=True)",
    "topk_nan_is_largest": f"x = T.tensor([[1., float('nan'), 3.], [2., 0., -1.]], {F64}); "
                           "y = x.topk(2, 1); s = y[0].sum(); s.backward()",
    "argsort_descending_nan_first": "y = T.tensor([3., float('nan'), 1., 3.])"
                                    ".argsort(descending=True)",
    "topk_of_bool_raises": "y = T.tensor([True, False]).topk(1)",
    "movedim_of_0d": f"x = T.tensor(1.5, {F64}); y = x.movedim(0, -1)",
    "flatten_of_0d_checks_dims": f"x = T.tensor(1.5, {F64}); y = x.flatten(1)",
    "roll_of_0d_along_a_dim_raises": f"x = T.tensor(1.5, {F64}); y = x.roll(1, 0)",
    "roll_of_0d_flat": f"x = T.tensor(1.5, {F64}); y = x.roll(1)",
    "prod_of_0d_keepdim": f"x = T.tensor(1.5, {F64}); y = T.prod(x * 2, 0, keepdim=True); "
                          "y.backward()",
    "kthvalue_of_vector_keepdim": f"x = T.tensor([1., 3., 2.], {F64}); "
                                  "y = T.kthvalue(x, 3, 0, keepdim=True)",
    "linear_0d_bias": f"y = T.nn.functional.linear({M}[0], {M}, T.tensor(2., {F64})); "
                      "s = y.sum(); s.backward()",
    "linear_0d_int_bias": f"y = T.nn.functional.linear({M}[0], {M}, T.tensor(2))",
    "linear_no_in_features": f"x = T.zeros((2, 0), {F64}); w = T.zeros((3, 0), {F64}); "
                             f"b = T.ones(3, {F64}); y = T.nn.functional.linear(x, w, b); "
                             "s = (y * y).sum(); s.backward()",
    "addmm_mixed_dtypes_raise": f"y = T.addmm(T.ones(3, 3), {M}, {M})",
    "addmm_number_input_raises": f"y = T.addmm(2.5, {M}, {M})",
    "baddbmm_mixed_dtypes_raise": f"y = T.baddbmm(T.ones(1, 3, 3), {M}[None], {M}[None])",
    "addbmm_empty_keeps_input_dtype": "y = T.ones(3, 5).addbmm(T.zeros((0, 3, 4), {F64}), "
                                      "T.zeros((0, 4, 5), {F64}), alpha=2)".replace("{F64}", F64),
    "mm_of_bool_raises": "b = T.tensor([[True, False], [True, True]]); y = b @ b",
    "tensordot_size1_broadcasts": f"y = T.tensordot(T.ones((2, 1), {F64}), {M}, 1); "
                                  "s = y.sum(); s.backward()",
    # reductions, scans, cat, roll and tile return contiguous tensors whatever the input's
    # layout; var_mean's and std_mean's mean is nan after an inf (Welford's updates)
    "nansum_of_expanded_views": "x = T.tensor([[1., 2.], [3., 4.]], dtype=T.float64)"
                                ".expand(2, 2, 2).requires_grad_(); y = x.nansum(-1).view(-1)",
    "cumsum_of_transposed_views": f"x = {M}.t(); y = T.cumsum(x, 0).view(9)",
    "sum_of_transposed_views": "x = T.ones(4, 3, 5).transpose(0, 2); y = x.sum(-1).view(-1); "
                               "z = T.cat([x, x]).view(-1); w = x.roll(1, 0).view(-1)",
    "var_mean_after_inf": "x = T.tensor([[1., float('inf'), 2.], [1., 2., float('inf')]], "
                          f"{F64}); v, m = T.var_mean(x, 1); s = m.sum(); s.backward()",
    "std_mean_after_inf": "x = T.tensor([[float('inf'), 1.], [1., 2.]], "
                          f"{F64}); s, m = T.std_mean(x, 0, False)",
    # gradients of max, prod and cumprod meet nan, inf and zeros as PyTorch's formulas do
    "max_all_nan_gets_the_gradient": "x = T.tensor([[1., float('nan')], [3., 0.]], "
                                     f"{F64}); y = x.max(); s = y * y; s.backward()",
    "prod_with_inf": "x = T.tensor([[-0.5, float('inf')], [2., 1.5]], "
                     f"{F64}); y = T.prod(x, 0, keepdim=True) + T.prod(x); s = y.sum(); "
                     "s.backward()",
    "cumprod_with_nan": "x = T.tensor([[1., float('nan'), 2.], [1.5, 2., 3.]], "
                        f"{F64}); y = T.cumprod(x, 1); s = (y * y).sum(); s.backward()",
    "cumprod_with_zeros_and_nan": "x = T.tensor([[1., 0., 2., float('nan'), 0., 3.], "
                                  f"[0., 0., 2., 1., float('inf'), 3.]], {F64}); "
                                  "y = T.cumprod(x, 1); s = (y * T.arange(6.)).sum(); "
                                  "s.backward()",
    # more dtype and argument rules
    "cross_needs_one_dtype": f"y = T.cross({M}, T.ones(3, 3), dim=1)",
    "cross_of_bool_raises": "b = T.tensor([[True, False, True]]); y = T.cross(b, b, dim=1)",
    "dist_needs_tensors": f"y = T.dist({M}, 0.5)",
    "masked_fill_float_into_ints": "x = T.tensor([[1, 2], [3, 4]]); m = x > 2; "
                                   "y = x.masked_fill(m, -2.7); z = (x > 0).masked_fill(m, -2.)",
    "masked_fill_int_with_grad_value_raises": "x = T.tensor([1, 2]); "
                                              f"y = x.masked_fill(x > 1, T.tensor(2., {F64}))",
    "unflatten_checks_sizes": "y = T.zeros((0, 3), dtype=T.float64).unflatten(1, (2, 3))",
    "unflatten_of_empty_infers": "y = T.zeros((0, 6)).unflatten(1, (-1, 3)); "
                                 "z = T.zeros((0, 6)).unflatten(0, (2, -1))",
    "cdist_of_empty_mixed_dtypes": "y = T.cdist(T.zeros((3, 0)), T.zeros((2, 0), "
                                   "dtype=T.float64))",
    "repeat_interleave_backward_twice": f"x = {M}; y = T.repeat_interleave(x, 3, dim=-1); "
                                        "s = y.sum(); s.backward(); s.backward()",
    "index_fill_bool_with_grad_value_raises": "x = T.tensor([[True, False], [False, True]]); "
                                              f"y = x.index_fill(1, T.tensor([1]), "
                                              f"T.tensor(2., {F64}))",
    "cdist_p0_and_inf_with_nan": "x = T.tensor([[1., float('nan'), 2.], [0., 1., 2.]]); "
                                 "y = T.tensor([[1., 2., 3.], [0., 1., 2.]]); "
                                 "a = T.cdist(x, y, p=0); b = T.cdist(x, y, p=float('inf'))",
    "std_of_equal_values_has_zero_grad": "x = T.tensor([[0.05, 1.28, 0.61, 0.39]] * 3, "
                                         f"{F64}); s, m = T.std_mean(x, 0, False); "
                                         "t = s.sum() + m.sum(); t.backward()",
    "repeat_interleave_writable": f"x = T.tensor(0.81, {F64}); y = x.repeat_interleave(2); "
                                  "y.copy_(y); z = T.zeros((0, 3)).repeat_interleave(2); "
                                  "z.add_(1.5)",
    "addbmm_empty_int_batch": f"x = T.ones(5, {F64}); y = x.addbmm(T.zeros((0, 3, 4), {F64}), "
                              "T.zeros((0, 4, 5), dtype=T.int64), alpha=2)",
    "cummax_of_empty_any_dim": "y = T.zeros(0).cummax(5); z = T.zeros(2, 0).cummin(-7)",
    "einsum_expanded_inf": "y = T.einsum('i,i->', T.tensor([-1., 2.]), "
                           "T.tensor([float('inf')]).expand(2))",
    "einsum_and_cdist_contiguous": "x = T.ones(3, 4, 2).transpose(-1, -2); "
                                   "y = T.einsum('i...->...', x).view(-1); "
                                   "z = T.cdist(T.ones(2, 3, 4).transpose(-1, -2), "
                                   "T.ones(2, 5, 3), p=0.5).view(-1)",
    # indices: none is checked against an empty tensor
    "index_ops_of_empty_check_nothing": "z = T.zeros(0, 3); "
                                        "a = z.index_fill(1, T.tensor([4]), 1.); "
                                        "b = z[:, T.tensor([5])]; "
                                        "c = T.zeros(3, 0)[T.tensor([7])]; "
                                        "d = z.index_add(1, T.tensor([5]), T.zeros(0, 1)); "
                                        "e = z.index_copy(1, T.tensor([5]), T.zeros(0, 1))",
    "index_of_empty_dim_raises": "y = T.zeros(0, 3)[T.tensor([2])]",
    "take_along_dim_flat_is_a_view": f"y = T.take_along_dim({M}.t(), T.tensor([1]))",
    # inf-norms and median() share the gradient into zeros (a nan grad stays with the winner)
    "norm_inf_with_nan": "x = T.tensor([[1., float('nan'), 2.], [3., 1., -3.]], "
                         f"{F64}); y = T.norm(x, p=float('inf')) + T.linalg.vector_norm("
                         "x, ord=float('inf'), dim=1).sum(); y.backward()",
    "median_nan_grad_stays": "x = T.tensor([[1., float('nan'), 2.], [3., 1., 2.]], "
                             f"{F64}); m = x.median(); s = m * m; s.backward()",
    # var_mean/std_mean: the mean's node saves the spread, which gets no gradient from it
    "std_mean_spread_changed_in_place": f"x = {M}; s, m = T.std_mean(x, 1); s.clamp_(-.5, .5); "
                                        "t = m.sum(); t.backward()",
    "var_mean_var_changed_in_place_is_fine": f"x = {M}; v, m = T.var_mean(x, 1); v.sigmoid_(); "
                                             "t = m.sum(); t.backward()",
    "std_mean_spread_grad_none": f"x = {M}; s, m = T.std_mean(x, 1); s.retain_grad(); "
                                 "t = m.sum(); t.backward(); g = s.grad",
    "linear_0d_bias_separate_add": f"x = {M}[0]; b = T.tensor(.5, {F64}); "
                                   f"y = T.nn.functional.linear(x, {M}, b); t = y.sum(); "
                                   "g = T.autograd.grad(t, [b]); u = (t * t).sum(); u.backward()",
    "index_copy_scalar_into_vector": f"x = T.zeros(4, {F64}) * 1; s = T.tensor(2., {F64}); "
                                     "y = T.index_copy(x, 0, T.tensor([1]), s); t = y.sum(); "
                                     "t.backward()",
    "addmm_input_never_grows": "y = T.addmm(T.zeros(1, 3, 1), T.ones(3, 4), T.ones(4, 5), "
                               "beta=0)",
    "addbmm_empty_int_input_with_grad_raises": "y = T.addbmm(T.zeros(5, dtype=T.int64), "
                                               f"T.zeros((0, 3, 4), {F64}), "
                                               "T.zeros((0, 4, 5), dtype=T.float64))",
    # einsum: size-1 dims that only broadcast are dropped, products go pairwise from the left
    "einsum_broadcast_letter_inf": "x = T.tensor([[float('inf')]], "
                                   f"{F64}); y = T.tensor([[-1., -1.5, .5, -1.25]], {F64}); "
                                   "z = T.einsum('ij,ij->i', x, y); s = (z * z).sum(); "
                                   "s.backward()",
    "einsum_size1_contraction_inf": "y = T.einsum('ij,jk', T.tensor([[.5], [float('inf')]]), "
                                    "T.tensor([[-.35, 1.03]]))",
    "einsum_three_pairwise_inf": "a = T.tensor([[.93, -.91, float('inf')], [.01, .34, 1.21]], "
                                 f"{F64}); b = T.tensor([[1., 1., 0.], [0., 1., 1.]], {F64}); "
                                 f"c = T.tensor([[-.4, -1.9], [.01, .6]], {F64}); "
                                 "y = T.einsum('bi,bj,bk->ijk', a, b, c); "
                                 "y.backward(T.full_like(y, .5))",
    "std_input_changed_in_place_raises": f"y = {M} * 1; s = y.std(); y[y > 0] = 1.; "
                                         "s.backward()",
    "addbmm_empty_bool_batch_float_grad": "x = T.ones(5, dtype=T.float32, requires_grad=True); "
                                          "b = T.zeros((0, 4, 5), dtype=T.float64, "
                                          "requires_grad=True); y = x.addbmm(T.zeros((0, 3, 4), "
                                          "dtype=T.bool), b, alpha=2); y.backward(T.ones_like(y))",
    "cdist_and_dist_inf_grads_with_inf": "x = T.tensor([[.38, .99, -.4, float('inf')], "
                                         f"[1., 2., 3., 4.]], {F64}); y = T.tensor([[-.77, "
                                         f".1, -.11, 1.16], [0., 0., 0., 0.]], {F64}); "
                                         "d = T.cdist(x, y, p=float('inf')); "
                                         "e = T.dist(x, y, float('inf')); s = d.sum() + e * e; "
                                         "s.backward()",
    "prod_all_two_zeros_nan_grad": "x = T.tensor([[.78, float('nan')], [0., .42], [1.4, 0.]], "
                                   f"{F64}); y = x.prod(); s = y * y; s.backward()",
    "addmm_beta0_grad_times_zero": "x = T.tensor([[-.22, .16], [1.53, .78]], "
                                   f"{F64}); y = T.addmm(x, T.tensor([[1.48, 1.48], "
                                   f"[-.9, -.9]], {F64}), T.tensor([[.38, -.37], [.38, -.37]], "
                                   f"{F64}), beta=0); y.sqrt_(); s = y.sum(); s.backward()",
}


@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_same_as_pytorch(name: str) -> None:
    stmts = [Stmt(ast.unparse(node)) for node in ast.parse(PROGRAMS[name]).body]
    assert compare(stmts) == []
