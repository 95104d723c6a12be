"""The graph as PyTorch programs inspect it: grad_fn.next_functions, autograd.Variable."""

from __future__ import annotations

import pytest

import rosenblatt as rb

torch = pytest.importorskip("torch")


def _shape_of(fn: object) -> object:
    """next_functions as nested kinds: 'leaf' for AccumulateGrad, None, or a node's inputs."""
    if fn is None:
        return None
    if hasattr(fn, "variable"):
        return "leaf"
    return tuple(_shape_of(f) for f, _ in fn.next_functions)


@pytest.mark.parametrize("lib", [torch, rb], ids=["torch", "rosenblatt"])
def test_next_functions_walk_the_graph(lib: object) -> None:
    x = lib.ones(2, requires_grad=True)
    c = lib.ones(2)
    y = ((x * 2 + c) * x).sum()
    assert _shape_of(y.grad_fn) == (((("leaf", None), None), "leaf"),)
    leaf = y.grad_fn.next_functions[0][0].next_functions[1][0]
    assert leaf.variable is x
    assert all(index == 0 for _, index in y.grad_fn.next_functions)


def test_variable_is_the_tensor() -> None:
    t = rb.ones(2)
    v = rb.autograd.Variable(t, requires_grad=True)
    assert v is t and v.requires_grad and v.is_leaf
    assert rb.autograd.Variable(rb.ones(1)).requires_grad is False


def test_a_leaf_hook_runs_as_soon_as_its_gradient_is_complete() -> None:
    """A parameter near the output gets its whole gradient early in backward: its hooks run
    then (so DistributedDataParallel's all-reduce overlaps the rest of backward), not at the
    end of the pass."""
    order = []
    x = rb.ones(3, requires_grad=True)
    a = rb.ones(3, requires_grad=True)
    inner = x.exp()
    inner.register_hook(lambda g: order.append("inner"))
    a.register_hook(lambda g: order.append("a"))
    x.register_hook(lambda g: order.append("x"))
    (inner.exp() * a).sum().backward()
    assert order == ["a", "inner", "x"]
    assert rb.allclose(a.grad, inner.exp().detach())


def test_a_leaf_reached_twice_runs_its_hook_once_on_the_sum() -> None:
    seen = []
    a = rb.ones(2, requires_grad=True)
    a.register_hook(lambda g: seen.append(g.clone()))
    (a * 2 + a.exp() * 3).sum().backward()
    assert len(seen) == 1 and rb.allclose(seen[0], 2 + 3 * rb.ones(2).exp())
