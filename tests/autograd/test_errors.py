"""Every error the engine promises, asserted with its wording (op name and shapes)."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

import rosenblatt as rb


def test_matmul_error_names_both_shapes():
    message = re.escape("matmul: cannot multiply (32x784) by (512x10)")
    with pytest.raises(RuntimeError, match=message):
        rb.randn(32, 784) @ rb.randn(512, 10)
    with pytest.raises(RuntimeError, match=re.escape("matmul: cannot multiply (2x3x4) by (5)")):
        rb.matmul(rb.randn(2, 3, 4), rb.randn(5))


def test_backward_on_non_scalar_needs_gradient():
    y = rb.ones(2, 3, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=r"grad can be implicitly created only for scalar "
                                          r"outputs.*\[2, 3\]"):
        y.backward()


def test_gradient_shape_must_match():
    y = rb.ones(2, 3, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=r"Mismatch in shape"):
        y.backward(rb.ones(3, 2))


def test_second_backward_through_freed_graph():
    x = rb.ones(3, requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time.*"
                                           "retain_graph=True"):
        y.backward()


def test_backward_of_tensor_without_graph():
    with pytest.raises(RuntimeError, match="does not require grad"):
        rb.ones(2).sum().backward()


def test_inplace_change_of_saved_tensor_is_detected():
    x = rb.randn(3, requires_grad=True)
    h = x * 2
    y = h.exp()  # saves its output
    with rb.no_grad():
        y.add_(1)
    with pytest.raises(RuntimeError, match=r"modified by an inplace operation.*ExpBackward.*"
                                           r"version 1; expected version 0"):
        y.sum().backward()


def test_a_recorded_inplace_op_on_what_backward_saved_is_refused_as_in_pytorch():
    # Recording, an in-place op writes into the tensor's memory (views of it see the new
    # values), so a backward that saved the old values must refuse to run.
    for lib in (rb, torch):
        x = lib.randn(3, requires_grad=True, dtype=lib.float64)
        h = x * 1
        y = h * h  # saves h
        h.mul_(2)
        assert h._version == 1
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            (y.sum() + h.sum()).backward()


def test_a_recorded_inplace_op_keeps_what_its_own_backward_needs():
    x = rb.tensor([0.5, 1.5, -2.0], requires_grad=True, dtype=rb.float64)
    h = x * 1
    h.pow_(3)  # its backward needs the values before the op
    h.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 * x.detach().numpy() ** 2)


def test_inplace_change_through_a_view_is_detected():
    x = rb.randn(2, 3, requires_grad=True)
    h = x.exp()  # saves its output h
    view = h[0]
    with rb.no_grad():
        view.mul_(2)  # changes h's memory
    assert h._version == view._version == 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        h.sum().backward()
    base = rb.zeros(4)
    reshaped = base.view(2, 2)
    reshaped[0, 0] = 1.0
    assert base._version == 1 and base[0].item() == 1.0


def test_inplace_change_of_unsaved_input_is_fine():
    x = rb.randn(3, requires_grad=True)
    h = x * 1
    y = h + 1  # Add saves nothing
    with rb.no_grad():
        h.add_(5)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [1, 1, 1])


def test_inplace_on_leaf_that_requires_grad():
    x = rb.ones(3, requires_grad=True)
    for op in (lambda: x.add_(1), lambda: x.mul_(2), lambda: x.zero_(), lambda: x.fill_(1),
               lambda: x.clamp_(0, 1), lambda: x.normal_(), lambda: x.uniform_(),
               lambda: x.copy_(rb.zeros(3)), lambda: x.sub_(1), lambda: x.div_(2)):
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            op()


def test_inplace_on_leaf_allowed_under_no_grad():
    x = rb.ones(3, requires_grad=True)
    with rb.no_grad():
        x.add_(1).mul_(3).sub_(1).div_(5)
        np.testing.assert_allclose(x.numpy(force=True), [1, 1, 1])
        x.zero_()
        assert x.sum().item() == 0
        x.fill_(2.5)
        x.clamp_(max=2)
        np.testing.assert_allclose(x.numpy(force=True), [2, 2, 2])
        x.copy_(rb.tensor([1.0, 2.0, 3.0]))
        x.normal_(0, 1)
        x.uniform_(-1, 1)
        assert ((x >= -1) & (x < 1)).all()
        x[0] = 7.0
        assert x[0].item() == 7.0
    assert x.is_leaf and x.requires_grad and x._version >= 10


def test_inplace_type_and_shape_errors():
    with pytest.raises(RuntimeError, match="can't be cast to the desired output type int64"):
        rb.tensor([1, 2]).add_(0.5)
    with pytest.raises(RuntimeError, match="can't be cast"):
        rb.tensor([1, 2]).div_(2)
    with pytest.raises(RuntimeError, match=r"doesn't match the broadcast shape"):
        rb.ones(3).add_(rb.ones(2, 3))
    x = rb.ones(2, 3)
    x.mul_(rb.tensor([1.0, 2.0, 3.0])).sub_(1, alpha=2)
    np.testing.assert_allclose(x.numpy(), [[-1, 0, 1]] * 2)


def test_setitem_under_no_grad_bumps_version():
    x = rb.zeros(2, 3)
    v = x._version
    x[0, 1:] = 5.0
    x[x > 1] = 2.0
    x[rb.tensor([1])] = rb.tensor([7.0, 8.0, 9.0])
    np.testing.assert_allclose(x.numpy(), [[0, 2, 2], [7, 8, 9]])
    assert x._version == v + 3


def test_higher_order_gradients_are_out_of_scope():
    x = rb.ones(2, requires_grad=True)
    with pytest.raises(NotImplementedError, match="higher-order"):
        (x * x).sum().backward(create_graph=True)


def test_shape_errors_name_op_and_shapes():
    with pytest.raises(RuntimeError, match=r"shape '\[4, 4\]' is invalid for input of size 6"):
        rb.ones(2, 3).reshape(4, 4)
    with pytest.raises(RuntimeError, match=r"cat\(\): sizes of tensors must match"):
        rb.cat([rb.ones(2, 3), rb.ones(3, 2)], 0)
    with pytest.raises(RuntimeError, match=r"stack expects each tensor to be equal size"):
        rb.stack([rb.ones(2), rb.ones(3)])
    with pytest.raises(RuntimeError, match=r"expanded size of the tensor \(4\) must match"):
        rb.ones(3).expand(2, 4)
    with pytest.raises(IndexError, match=r"Dimension out of range"):
        rb.ones(2, 3).sum(2)
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        rb.ones(2, 3).t().view(6)


def test_broadcast_error_names_shapes():
    with pytest.raises(RuntimeError, match=r"add: The size of tensor a \(3\) must match the size "
                                           r"of tensor b \(4\) at non-singleton dimension 1.*"
                                           r"2x3 float32, 4 float32"):
        rb.ones(2, 3) + rb.ones(4)


def test_index_errors():
    with pytest.raises(IndexError, match="out of range|out of bounds"):
        rb.ones(3)[5]
    with pytest.raises(RuntimeError, match="out of bounds"):
        rb.ones(2, 3).gather(1, rb.tensor([[3], [0]]))


def test_anomaly_mode_names_forward_op_and_shapes():
    x = rb.tensor([[0.0, 1.0]], requires_grad=True)
    with rb.autograd.detect_anomaly():
        with pytest.raises(RuntimeError, match=r"Log.*produced -?inf.*forward.*\(1x2 float32\)"):
            x.log()
    assert not rb.autograd.is_anomaly_enabled()


def test_anomaly_mode_names_backward_node_and_its_forward_op():
    x = rb.tensor([0.0, 4.0], requires_grad=True)
    rb.autograd.set_detect_anomaly(True)
    try:
        y = x.sqrt()  # finite forward, inf gradient at 0
        with pytest.raises(RuntimeError, match=r"SqrtBackward returned inf.*forward op was "
                                               r"Sqrt on inputs \(2 float32\)"):
            y.sum().backward()
    finally:
        rb.autograd.set_detect_anomaly(False)


def test_without_anomaly_mode_nan_passes_silently():
    x = rb.tensor([-1.0, 4.0], requires_grad=True)
    y = x.sqrt()
    assert np.isnan(y.detach().numpy()[0])
    y.sum().backward()


def test_gradcheck_catches_a_wrong_gradient():
    class BadSquare(rb.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x  # should be 2x

    x = rb.randn(4, dtype=rb.float64, requires_grad=True)
    with pytest.raises(rb.autograd.GradcheckError,
                       match=r"Jacobian mismatch for input 0 of shape \[4\]: at \(\d,\) numerical"):
        rb.autograd.gradcheck(BadSquare.apply, (x,))
    assert not rb.autograd.gradcheck(BadSquare.apply, (x,), raise_exception=False)
    assert not rb.autograd.gradcheck(BadSquare.apply, (x,), raise_exception=False,
                                     fast_mode=True)
    assert rb.autograd.gradcheck(lambda t: t * t, (x,))


def test_gradcheck_needs_float64():
    with pytest.raises(ValueError, match="float64"):
        rb.autograd.gradcheck(lambda t: t * 2, (rb.randn(3, requires_grad=True),))


def test_item_and_bool_errors():
    with pytest.raises(RuntimeError, match="cannot be converted to Scalar"):
        rb.ones(2).item()
    with pytest.raises(RuntimeError, match="ambiguous"):
        bool(rb.ones(2))
    with pytest.raises(RuntimeError, match="requires grad"):
        rb.ones(2, requires_grad=True).numpy()
