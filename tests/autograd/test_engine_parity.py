"""Regression lines from the fuzzer (issue 19), mostly engine-level: autograd.grad's pruning,
root hooks and the nodes of multi-output ops (var_mean, std_mean, aminmax, split, chunk,
unbind); each run under PyTorch and Rosenblatt and compared as in test_edge_parity."""

from __future__ import annotations

import pytest
from test_edge_parity import F64, assert_same, normalise, run, torch

import rosenblatt

X2 = f"x = T.tensor([[-0.37, -0.07, -0.45, -0.5], [1.1, 2.16, 1.68, 0.78]], {F64}); "

CASES = {
    # a single root's node always gets its gradient in PyTorch's engine, even where
    # autograd.grad does not need it: its retain_grad and hooks see it
    "grad_retained_root": f"y = T.tensor(1.91, {F64}) * 1; v = T.tensor(0., {F64}); "
                          "y.retain_grad(); g = T.autograd.grad(y, [v], allow_unused=True); "
                          "R = (g[0], y.grad)",
    "grad_retained_root_view": f"x_ = T.tensor(-0.51, {F64}); x = x_.view(()); "
                               f"v = T.tensor(0., {F64}); x.retain_grad(); "
                               "T.autograd.grad(x, [v], allow_unused=True); R = x.grad",
    "grad_root_hook": f"y = T.tensor(1.5, {F64}) * 2; v = T.tensor(0., {F64}); h = []; "
                      "y.register_hook(lambda g: h.append(g * 1)); "
                      "T.autograd.grad(y, [v], allow_unused=True); R = tuple(h)",
    # ... but with two roots, neither unneeded root does
    "grad_two_roots_not_retained": f"a = T.tensor(1., {F64}) * 2; b = T.tensor(1., {F64}) * 3; "
                                   f"v = T.tensor(0., {F64}); a.retain_grad(); b.retain_grad(); "
                                   "T.autograd.grad([a, b], [v], allow_unused=True); "
                                   "R = (a.grad, b.grad)",
    "grad_unneeded_intermediate": f"x = T.tensor(1., {F64}); w = T.tensor(2., {F64}); "
                                  "h = x * 3; h.retain_grad(); g = T.autograd.grad(h * w, [w]); "
                                  "R = (g[0], h.grad)",
    # autograd.grad captures a node's gradient before its hooks where the node runs on, after
    # them where it does not (PyTorch's evaluate_function)
    "grad_capture_before_hooks": f"x = T.tensor([1., 2.], {F64}); y = x * 2; "
                                 "y.register_hook(lambda g: g * 3); "
                                 "R = T.autograd.grad((y * y).sum(), [x, y])",
    "grad_capture_after_hooks": f"x = T.tensor([1., 2.], {F64}); y = x * 2; "
                                "y.register_hook(lambda g: g * 3); "
                                "R = T.autograd.grad((y * y).sum(), [y])",
    "grad_capture_retained_hooked": f"x = T.tensor([1., 2.], {F64}); y = x * 2; y.retain_grad(); "
                                    "y.register_hook(lambda g: g * 3); "
                                    "g = T.autograd.grad((y * y).sum(), [x, y]); R = (g, y.grad)",
    "cummin_hook_capture": "x = T.tensor([[0.7], [-0.96], [-0.35], [0.9]], " + F64 + "); "
                           "y = T.cummin(x, 0); y[0].register_hook(lambda g: g * 2); "
                           "R = T.autograd.grad(y[0].sum(), [x, y[0]])",
    # the hooks of a multi-output op's outputs all run when its node does: None where an
    # output got no gradient (a hook that then returns a tensor is an error)
    "var_mean_hook_sees_none": X2 + "y = T.var_mean(x, 1); "
                               "y[1].register_hook(lambda g: g.clamp(-1, 1)); "
                               "(y[0] * y[0]).sum().backward()",
    "split_hook_sees_none": X2 + "a, b = (x * 1).split(1); h = []; "
                            "b.register_hook(lambda g: h.append(g is None)); "
                            "a.sum().backward(); R = (tuple(h), x.grad)",
    "aminmax_hook_replaces_none": X2 + "mn, mx = T.aminmax(x); "
                                  "mx.register_hook(lambda g: T.ones(())); mn.backward()",
    "split_hook_with_gradient": X2 + "a, b = (x * 1).split(1); h = []; "
                                "b.register_hook(lambda g: h.append(g * 1)); "
                                "(a.sum() + b.sum()).backward(); R = tuple(h)",
    # one PyTorch node for both outputs: asking for one output's gradient does not run it
    "var_mean_grad_of_var_after_backward": X2 + "y = T.var_mean(x, 1); v = y[1].clone(); "
                                           "y[1].sum().backward(); "
                                           "R = T.autograd.grad((v * v).sum(), [y[0]], "
                                           "allow_unused=True)",
    "std_mean_grad_then_backward": X2 + "y = T.std_mean(x, 1, correction=0, keepdim=True); "
                                   "g = T.autograd.grad((y[1] * y[1]).sum(), [y[0]], "
                                   "allow_unused=True); y[0].sum().backward(); R = (g, x.grad)",
    "std_mean_grad_of_mean_then_backward": X2 + "y = T.std_mean(x, 1); "
                                           "g = T.autograd.grad((y[1] * y[1]).sum(), [y[1]]); "
                                           "y[0].sum().backward(); R = (g, x.grad)",
    "var_mean_backward_twice": X2 + "v, m = T.var_mean(x, 0); v.sum().backward(); "
                               "m.sum().backward(); R = x.grad",
    "var_mean_inplace_outputs": X2 + "v, m = T.var_mean(x, 0); v.mul_(2); m.add_(1); "
                                "(v.sum() + m.sum()).backward(); R = x.grad",
    "aminmax_retain_grad": X2 + "mn, mx = T.aminmax(x); mn.retain_grad(); "
                           "(mx * 2 + mn * 3).backward(); R = (mn.grad, x.grad)",
    # PyTorch's aminmax node saves both outputs: changing either in place fails both
    "aminmax_inplace_other_output": X2 + "mn, mx = T.aminmax(x, dim=1, keepdim=True); "
                                    "mx[0].mul_(2); (mn - x).sum().backward(); R = x.grad",
    "aminmax_inplace_own_output": X2 + "mn, mx = T.aminmax(x, dim=1); mn.mul_(2); "
                                  "mn.sum().backward(); R = x.grad",
    "split_grad_of_unused_piece": "x = T.tensor([1., 2., 3., 4.], " + F64 + "); "
                                  "a, b = (x * 1).split(2); R = T.autograd.grad((a * a).sum(), "
                                  "[b], allow_unused=True, materialize_grads=True)",
    "chunk_grad_of_piece_and_leaf": "x = T.tensor([1., 2., 3., 4.], " + F64 + "); "
                                    "a, b = (x * 2).chunk(2); "
                                    "R = T.autograd.grad(a.sum() + b.sum() * 3, [a, x])",
    "unbind_retain_grads": "x = T.tensor([[1., 2.], [3., 4.]], " + F64 + "); "
                           "a, b = x.unbind(0); a.retain_grad(); b.retain_grad(); "
                           "(a * b).sum().backward(); R = (a.grad, b.grad, x.grad)",
    # PyTorch's CopySlices (x[key] = v, an in-place op on a view) runs once: a second backward
    # raises even where nothing was saved; a whole-tensor in-place op keeps nothing
    "setitem_backward_twice": f"w = T.tensor([1.], {F64}); z = T.zeros(3, dtype=T.float64); "
                              "z[:1] = w; L = z.sum(); L.backward(); L.backward()",
    "setitem_retain_graph": f"w = T.tensor([1.], {F64}); z = T.zeros(3, dtype=T.float64); "
                            "z[:1] = w; L = z.sum(); L.backward(retain_graph=True); "
                            "L.backward(); R = w.grad",
    "view_fill_backward_twice": f"x = T.tensor([1., 2.], {F64}); y = x + 2; y[:1].fill_(.5); "
                                "L = y.sum(); L.backward(); L.backward()",
    "view_flat_fill_backward_twice": f"x = T.tensor([1.], {F64}); y = T.diag(x); "
                                     "y.view(-1)[:1].fill_(.5); L = y.sum(); L.backward(); "
                                     "L.backward()",
    "whole_fill_backward_twice": f"x = T.tensor([1., 2.], {F64}); y = x + 2; y.fill_(.5); "
                                 "L = y.sum(); L.backward(); L.backward(); R = x.grad",
    # rot90 by a quarter turn is a new tensor (PyTorch transposes its flipped copy in place),
    # not a view: an in-place op on it is no CopySlices
    "rot90_inplace_backward_twice": f"x = T.tensor([[.4, -.54, -.12], [2.15, .91, -1.12]], {F64}); "
                                    "y = T.rot90(x); y.neg_(); L = y.sum(); L.backward(); "
                                    "L.backward(); R = (x.grad, y.stride())",
    "rot90_k3_layout": f"x = T.tensor([[.4, -.54, -.12], [2.15, .91, -1.12]], {F64}); "
                       "y = T.rot90(x, 3, (1, 0)); (y * y).sum().backward(); "
                       "R = (y, y.stride(), x.grad)",
    "copy_backward_twice": f"w = T.tensor([1., 2.], {F64}); z = T.zeros(2, dtype=T.float64); "
                           "z.copy_(w); L = z.sum(); L.backward(); L.backward(); R = w.grad",
    # a sum's gradient is an expanded view, as PyTorch's: writing into what autograd.grad
    # returns is refused; a leaf's .grad is a copy with the leaf's layout
    "sum_grad_is_expanded": f"x = T.tensor([[1., 2.], [3., 4.]], {F64}); "
                            "g = T.autograd.grad(x.sum(), [x])[0]; R = (g.stride(), g)",
    "sum_grad_inplace_raises": f"x = T.tensor([[1., 2.], [3., 4.]], {F64}); "
                               "g = T.autograd.grad(x.sum(), [x])[0]; g.neg_()",
    "sum_dim_grad_inplace_raises": f"x = T.tensor([[1., 2.], [3., 4.]], {F64}); "
                                   "g = T.autograd.grad(x.sum(1).sum(), [x])[0]; g.mul_(2)",
    "sum_leaf_grad_is_dense": f"x = T.tensor([[1., 2.], [3., 4.]], {F64}); x.sum().backward(); "
                              "x.grad.mul_(2); R = (x.grad.stride(), x.grad)",
    # ops: the sorting-based selections have no Bool kernel in PyTorch (mode has one)
    "median_bool_raises": "y = T.tensor(True).median(0, keepdim=True)",
    "median_all_bool_raises": "y = T.tensor([True, False]).median()",
    "nanmedian_bool_raises": "y = T.tensor([True, False]).nanmedian(0)",
    "kthvalue_bool_raises": "y = T.tensor([True, False]).kthvalue(1)",
    "mode_bool_works": "R = tuple(T.tensor([True, False, True]).mode(0))",
    # ops: addcdiv refuses two integral factors, and its backward an integral divisor when
    # tensor1 needs a gradient (PyTorch's rule divides into the divisor's dtype)
    "addcdiv_bool_divisor_backward": f"x = T.tensor([[-0.49, 1.21], [0.63, 0.61]], {F64}); "
                                     "b = T.tensor([[True, True], [True, False]]); "
                                     "y = x.addcdiv(x, b, value=-2); y.sum().backward()",
    "addcdiv_long_divisor_input_only": f"x = T.tensor([1., 2.], {F64}); "
                                       "y = T.addcdiv(x, T.ones(2, dtype=T.float64), "
                                       "T.tensor([1, 2])); y.sum().backward(); R = (y, x.grad)",
    "addcdiv_integral_factors": "y = T.addcdiv(T.ones(2), T.tensor([1, 2]), T.tensor([2, 2]))",
    "addcdiv_bool_dividend": f"x = T.tensor([1., 2.], {F64}); "
                             "y = T.addcdiv(x, T.tensor([True, False]), x); y.sum().backward(); "
                             "R = (y, x.grad)",
    # what autograd.grad returns can be written in place, even where a rule's gradient was a
    # read-only broadcast (einsum against a broadcast operand)
    "grad_result_writable": f"x = T.tensor([[-2.11, -2.92], [0.14, -1.]], {F64}); "
                            f"w = T.tensor([[-0.88, 0.76]], {F64}); "
                            "g = T.autograd.grad(T.einsum('ij,ij->i', x, w).sum(), [x])[0]; "
                            "g.exp_(); R = g",
    # nansum/nanmean keep their input itself: an in-place change of it fails backward
    "nanmean_input_changed": f"y = T.tensor([[-.6, 6.82], [-.46, -.07]], {F64}) * 1; "
                             "m = T.nanmean(y, 1, keepdim=True); y.t().relu_(); "
                             "m.sum().backward()",
    "nansum_gradient": f"x = T.tensor([1., float('nan'), 2.], {F64}); "
                       "T.nansum(x * 2).backward(); R = x.grad",
    # ops: each input's own size along cross's dim must be 3 (not the broadcast size)
    "cross_size_one_dim_raises": f"y = T.cross(T.tensor([[-0.62]], {F64}), "
                                 f"T.tensor([[0.18, 0.47, -0.4]], {F64}), dim=1)",
    "cross_broadcast_other_dim": f"a = T.tensor([[1., 2., 3.]], {F64}); "
                                 f"b = T.tensor([[0.5, -1., 2.], [1., 1., 0.]], {F64}); "
                                 "T.cross(a, b, dim=1).sum().backward(); R = (a.grad, b.grad)",
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_as_pytorch(name: str) -> None:
    code = CASES[name]
    assert_same(normalise(run(torch, code)), normalise(run(rosenblatt, code)))
