"""The same graph on every available device (CUDA runs only where CuPy sees a GPU)."""

from __future__ import annotations

import numpy as np

import rosenblatt as rb


def test_graph_runs_on_device_and_matches_cpu(device):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in ((4, 3), (3, 5), (5,))]
    grads = []
    for where in ("cpu", device):
        x, w, b = (rb.tensor(a, device=where, requires_grad=True) for a in arrays)
        assert x.device == where and x._data.__class__.__module__.split(".")[0] in (
            "numpy", "cupy")
        out = ((x @ w + b).relu().softmax(-1) * rb.arange(5, device=where)).sum()
        out.backward()
        assert w.grad.device == where and w.grad.dtype is rb.float32
        grads.append([t.grad.cpu().numpy() for t in (x, w, b)] + [out.item()])
    for ours, ref in zip(grads[1], grads[0]):
        np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-6)


def test_to_device_round_trip_keeps_gradient(device):
    x = rb.randn(3, requires_grad=True)
    y = x.to(device) * 2
    y.cpu().sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2, 2, 2])
