"""Tensor factories and attributes, against PyTorch where the result is deterministic."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import rosenblatt as rb


def _same(ours, theirs):
    assert ours.dtype.name == str(theirs.dtype).removeprefix("torch.")
    assert tuple(ours.shape) == tuple(theirs.shape)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


@pytest.mark.parametrize("call", [
    lambda m: m.tensor([[1, 2], [3, 4]]),
    lambda m: m.tensor([1.5, 2]),
    lambda m: m.tensor(3.0),
    lambda m: m.tensor([True, False]),
    lambda m: m.tensor([1, 2], dtype=m.float64),
    lambda m: m.tensor([]),
    lambda m: m.zeros(2, 3),
    lambda m: m.zeros((2, 3), dtype=m.int64),
    lambda m: m.ones(4),
    lambda m: m.ones([2, 1], dtype=m.bool),
    lambda m: m.full((2, 2), 7),
    lambda m: m.full((2, 2), 7.5),
    lambda m: m.full((2,), True),
    lambda m: m.arange(5),
    lambda m: m.arange(1, 4),
    lambda m: m.arange(0, 1, 0.25),
    lambda m: m.arange(5, 0, -2),
    lambda m: m.arange(3, dtype=m.float64),
    lambda m: m.linspace(0, 1, 5),
    lambda m: m.linspace(-1, 1, 1),
    lambda m: m.eye(3),
    lambda m: m.eye(2, 3, dtype=m.int64),
    lambda m: m.zeros_like(m.ones(2, 3, dtype=m.int64)),
    lambda m: m.ones_like(m.zeros(2)),
    lambda m: m.full_like(m.zeros(2, dtype=m.float64), 3),
    lambda m: m.empty(2, 3).zero_(),
    lambda m: m.FloatTensor([1, 2]),
    lambda m: m.LongTensor([1, 2]),
    lambda m: m.FloatTensor(2, 3).zero_(),
], ids=lambda f: "")
def test_factories_match_pytorch(call):
    _same(call(rb), call(torch))


def test_tensor_copies_and_from_numpy_shares():
    array = np.arange(4.0)
    copied, shared = rb.tensor(array), rb.from_numpy(array)
    assert_view = rb.as_tensor(array)
    array[0] = 99
    assert copied[0].item() == 0 and shared[0].item() == 99 and assert_view[0].item() == 99
    assert shared.dtype is rb.float64
    shared.add_(1)
    assert array[1] == 2
    t = rb.ones(2)
    assert rb.as_tensor(t) is t
    assert rb.as_tensor([1, 2]).dtype is rb.int64
    assert rb.as_tensor(array, dtype=rb.float32).dtype is rb.float32


def test_requires_grad_factories():
    for t in (rb.zeros(2, requires_grad=True), rb.ones(2, requires_grad=True),
              rb.tensor([1.0], requires_grad=True), rb.randn(2, requires_grad=True),
              rb.rand(2, requires_grad=True), rb.full((2,), 1.0, requires_grad=True)):
        assert t.requires_grad and t.is_leaf


def test_attributes_and_conversions():
    x = rb.arange(6, dtype=rb.float32).reshape(2, 3)
    assert x.shape == (2, 3) and x.size() == (2, 3) and x.size(1) == 3 and x.size(-1) == 3
    assert repr(x.shape) == "rosenblatt.Size([2, 3])"
    assert x.dim() == 2 and x.ndim == 2 and x.numel() == 6 and len(x) == 2
    assert x.dtype is rb.float32 and str(x.device) == "cpu" and x.device == "cpu"
    assert x.T.shape == (3, 2) and x.T.T.tolist() == x.tolist()
    assert x.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert x[1, 2].item() == 5.0 and isinstance(x.sum().item(), float)
    assert isinstance(rb.tensor(3).item(), int)
    assert float(x[0, 1]) == 1.0 and int(x[1, 1]) == 4
    assert x.numpy().dtype == np.float32 and np.shares_memory(x.numpy(), x._data)
    assert x.element_size() == 4 and x.stride() == (3, 1) and x.is_contiguous()
    assert not x.T.is_contiguous() and x.T.contiguous().is_contiguous()
    c = x.clone()
    c[0, 0] = 100
    assert x[0, 0].item() == 0
    assert x.contiguous() is x
    assert x.detach().numpy().base is not None or np.shares_memory(x.detach().numpy(), x._data)


def test_clone_and_contiguous_carry_gradients():
    x = rb.randn(3, 4, requires_grad=True)
    (x.clone() * 2 + x.T.contiguous().T).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full((3, 4), 3.0))


def test_legacy_constructors_and_size_errors():
    assert rb.LongTensor([1, 2]).dtype is rb.int64
    assert rb.FloatTensor(2, 3).shape == (2, 3)
    with pytest.raises(RuntimeError):
        rb.zeros(-1)
