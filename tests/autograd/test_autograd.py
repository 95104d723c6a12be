"""Autograd behaviour: leaves, accumulation, retain_grad, grad modes, autograd.grad, long graphs."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import rosenblatt as rb


def _pair(values, **kw):
    """The same data as a rosenblatt and a torch tensor."""
    array = np.asarray(values, dtype=np.float64)
    return rb.tensor(array, **kw), torch.tensor(array, **kw)


def test_leaf_and_non_leaf():
    x = rb.ones(3, requires_grad=True)
    y = x * 2
    assert x.is_leaf and x.grad_fn is None
    assert not y.is_leaf and y.grad_fn is not None and y.requires_grad
    assert rb.ones(3).is_leaf and not rb.ones(3).requires_grad
    assert y.detach().is_leaf and not y.detach().requires_grad


def test_grad_accumulates_across_backward_calls():
    x, tx = _pair([1.0, -2.0, 3.0], requires_grad=True)
    for lib_x in (x, tx):
        (lib_x * lib_x).sum().backward()
        (lib_x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())
    g = x.grad
    (x * 1).sum().backward()  # accumulates into the same .grad tensor, as PyTorch
    assert x.grad is g
    np.testing.assert_allclose(g.numpy(), tx.grad.numpy() + 1)


def test_diamond_graph_sums_gradients():
    x, tx = _pair([[0.5, -1.0], [2.0, 0.3]], requires_grad=True)
    outs = []
    for m, t in ((rb, x), (torch, tx)):
        a = t.exp()
        b = a * t + a.sin() - m.tanh(a)
        outs.append(b.sum())
        b.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-12)


def test_same_tensor_used_twice_in_one_op():
    x, tx = _pair([1.5, -0.5], requires_grad=True)
    (x * x).sum().backward()
    (tx * tx).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())


def test_leaf_grads_never_share_memory():
    a = rb.ones(3, requires_grad=True)
    b = rb.ones(3, requires_grad=True)
    (a + b).sum().backward()  # Add hands the same gradient array to both inputs
    assert not np.shares_memory(a.grad.numpy(), b.grad.numpy())
    a.grad.mul_(5)
    np.testing.assert_allclose(b.grad.numpy(), [1, 1, 1])


def test_leaf_accumulation_never_corrupts_a_pending_gradient():
    # Add hands one array to leaf `a` and to exp's pending input; a later in-place
    # accumulation into a.grad must not change what exp's backward receives.
    for order in (0, 1):
        grads = []
        for m in (rb, torch):
            a = m.tensor([0.5, 1.0], requires_grad=True)
            s, t = a + a.exp(), a * 3
            ((t + s) if order else (s + t)).sum().backward()
            grads.append(a.grad.numpy())
        np.testing.assert_allclose(grads[0], grads[1], rtol=1e-6)


def test_leaf_grad_from_broadcast_is_writable():
    a = rb.ones(2, 3, requires_grad=True)
    a.sum().backward()
    a.grad.add_(1)  # would fail on a read-only broadcast view
    np.testing.assert_allclose(a.grad.numpy(), np.full((2, 3), 2.0))


def test_gradient_argument_is_not_aliased():
    x = rb.ones(3, requires_grad=True)
    g = rb.tensor([1.0, 2.0, 3.0])
    (x + 0).backward(g)
    x.grad.mul_(0)
    np.testing.assert_allclose(g.numpy(), [1, 2, 3])


def test_retain_grad_keeps_non_leaf_gradient():
    x, tx = _pair([1.0, 2.0], requires_grad=True)
    results = []
    for t in (x, tx):
        y = t * 3
        y.retain_grad()
        z = (y * y).sum()
        z.backward()
        results.append(y)
    assert results[0].retains_grad
    np.testing.assert_allclose(results[0].grad.numpy(), results[1].grad.numpy())
    assert (x * 2).grad is None


def test_backward_with_gradient_on_non_scalar():
    x, tx = _pair([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    g = np.array([[1.0, -1.0], [0.5, 2.0]])
    (x**2).backward(rb.tensor(g, dtype=rb.float64))
    (tx**2).backward(torch.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())


def test_retain_graph_allows_second_backward():
    x, tx = _pair([1.0, 2.0], requires_grad=True)
    for t in (x, tx):
        y = (t.exp() * t).sum()
        y.backward(retain_graph=True)
        y.backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy())


def test_autograd_grad_returns_without_touching_dot_grad():
    x, tx = _pair([0.3, -0.7, 1.1], requires_grad=True)
    w, tw = _pair([2.0, 1.0, -1.0], requires_grad=True)
    (gx, gw) = rb.autograd.grad((x * w).sin().sum(), [x, w])
    (tgx, tgw) = torch.autograd.grad((tx * tw).sin().sum(), [tx, tw])
    np.testing.assert_allclose(gx.numpy(), tgx.numpy())
    np.testing.assert_allclose(gw.numpy(), tgw.numpy())
    assert x.grad is None and w.grad is None
    (g_single,) = rb.autograd.grad((x * x).sum(), x)
    np.testing.assert_allclose(g_single.numpy(), 2 * x.detach().numpy())


def test_autograd_grad_of_intermediate_and_unused():
    x = rb.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    z = (y * y).sum()
    (gy,) = rb.autograd.grad(z, y, retain_graph=True)
    np.testing.assert_allclose(gy.numpy(), 2 * y.detach().numpy())
    unused = rb.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="not have been used"):
        rb.autograd.grad(z, [x, unused], retain_graph=True)
    gx, gu = rb.autograd.grad(z, [x, unused], allow_unused=True)
    assert gu is None and gx is not None


def test_no_grad_enable_grad_set_grad_enabled_as_blocks_and_decorators():
    x = rb.ones(2, requires_grad=True)
    with rb.no_grad():
        assert not rb.is_grad_enabled()
        assert not (x * 2).requires_grad
        with rb.enable_grad():
            assert (x * 2).requires_grad
    assert rb.is_grad_enabled()

    @rb.no_grad()
    def frozen(t):
        return t * 2

    @rb.enable_grad()
    def tracked(t):
        return t * 2

    @rb.set_grad_enabled(False)
    def off(t):
        return t * 2

    assert not frozen(x).requires_grad and not off(x).requires_grad
    with rb.no_grad():
        assert tracked(x).requires_grad
    assert rb.is_grad_enabled()
    rb.set_grad_enabled(False)
    assert not (x * 2).requires_grad
    rb.set_grad_enabled(True)
    with rb.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad


def test_grad_mode_restored_after_exception():
    with pytest.raises(ValueError), rb.no_grad():
        raise ValueError
    assert rb.is_grad_enabled()


def test_chain_of_100k_ops_backward_is_iterative():
    x = rb.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.sum().backward()
    assert x.grad.item() == 1.0


def test_saved_arrays_are_freed_after_backward():
    x = rb.randn(100, requires_grad=True)
    h = x.exp()
    ref = weakref.ref(h._node.saved_tensors[0])
    loss = (h * 2).sum()
    del h
    loss.backward()
    gc.collect()
    assert ref() is None, "exp's saved output survived backward"


def test_detach_shares_memory_and_version():
    x = rb.ones(3, requires_grad=True)
    d = x.detach()
    with rb.no_grad():
        d.add_(1)
    np.testing.assert_allclose(x.detach().numpy(), [2, 2, 2])
    assert x._version == d._version == 1


def test_hook_can_replace_gradient():
    x = rb.ones(3, requires_grad=True)
    y = x * 2
    y.register_hook(lambda g: g * 10)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [20, 20, 20])


@pytest.mark.parametrize("m", [rb, torch], ids=["rosenblatt", "torch"])
def test_leaf_hook_sees_the_summed_gradient_once_and_can_replace_it(m):
    """Two uses of w: the hook runs once on 3 + 2w, and its result is what .grad gets."""
    w = m.ones(3, requires_grad=True)
    seen = []
    handle = w.register_hook(lambda g: (seen.append(g.tolist()), g * 2)[1])
    ((w * 3).sum() + (w * w).sum()).backward()
    assert seen == [[5.0, 5.0, 5.0]] and w.grad.tolist() == [10.0, 10.0, 10.0]
    handle.remove()
    w.grad = None
    (w * 3).sum().backward()
    assert w.grad.tolist() == [3.0, 3.0, 3.0] and len(seen) == 1


@pytest.mark.parametrize("m", [rb, torch], ids=["rosenblatt", "torch"])
def test_leaf_hook_runs_for_autograd_grad_and_for_a_leaf_root(m):
    x = m.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: g + 1)
    (grad,) = m.autograd.grad((x * x).sum(), x)
    assert grad.tolist() == [3.0, 5.0]
    x.backward(m.tensor([1.0, 1.0]))
    assert x.grad.tolist() == [2.0, 2.0]


def test_hook_handle_removes_a_non_leaf_hook():
    x = rb.ones(2, requires_grad=True)
    y = x * 2
    with y.register_hook(lambda g: g * 100):
        pass  # leaving the block removes the hook
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0]


def test_float32_graph_keeps_float32_gradients():
    w = rb.randn(4, 3, requires_grad=True)
    b = rb.zeros(3, requires_grad=True)
    x = rb.randn(5, 4)
    loss = ((x @ w + b).relu() * 0.5 + 1).mean()
    loss.backward()
    assert loss.dtype is rb.float32
    assert w.grad.dtype is rb.float32 and b.grad.dtype is rb.float32


def test_requires_grad_only_for_floats():
    with pytest.raises(RuntimeError, match="floating point"):
        rb.tensor([1, 2]).requires_grad_()


def test_integer_ops_do_not_track():
    x = rb.randn(3, requires_grad=True)
    assert not x.argmax().requires_grad
    assert not (x > 0).requires_grad


UNARY = {"sin": lambda x: x.sin(), "tanh": lambda x: x.tanh(), "neg": lambda x: -x,
         "double": lambda x: x * 2, "relu": lambda x: x.relu(), "view": lambda x: x.view(3)}
BINARY = {"add": lambda x, y: x + y, "mul": lambda x, y: x * y, "sub": lambda x, y: x - y}


@settings(max_examples=30, deadline=None, derandomize=True)
@given(st.lists(st.tuples(st.sampled_from(sorted(UNARY) + sorted(BINARY)),
                          st.integers(0, 50), st.integers(0, 50)), min_size=1, max_size=12))
def test_random_graphs_match_pytorch(program):
    """Random DAGs that reuse leaves and intermediates: every leaf gradient matches."""
    rng = np.random.default_rng(0)
    starts = [rng.uniform(-1, 1, 3) for _ in range(3)]
    grads = []
    for m in (rb, torch):
        leaves = [m.tensor(s, requires_grad=True) for s in starts]
        values = list(leaves)
        for name, i, j in program:
            x, y = values[i % len(values)], values[j % len(values)]
            values.append(UNARY[name](x) if name in UNARY else BINARY[name](x, y))
        total = values[3]
        for v in values[4:]:
            total = total + v
        total.sum().backward()
        grads.append([np.zeros(3) if t.grad is None else t.grad.numpy() for t in leaves])
    for ours, theirs in zip(*grads):
        np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)


def test_grad_mode_is_per_thread_and_anomaly_mode_is_global():
    import threading

    seen = {}

    def worker():
        seen["grad"] = rb.is_grad_enabled()
        seen["anomaly"] = rb.autograd.is_anomaly_enabled()
        with rb.no_grad():
            barrier.wait()  # the main thread records while this one is inside no_grad
            barrier.wait()
        seen["after"] = rb.is_grad_enabled()

    barrier = threading.Barrier(2)
    with rb.autograd.detect_anomaly():
        with rb.no_grad():
            thread = threading.Thread(target=worker)
            thread.start()
            barrier.wait()
        x = rb.ones(2, requires_grad=True)
        y = (x * 2).sum()  # the other thread is inside no_grad right now
        barrier.wait()
        thread.join()
    assert y.requires_grad and y.grad_fn is not None
    assert seen == {"grad": True, "anomaly": True, "after": True}
    assert not rb.autograd.is_anomaly_enabled()
