"""GradScaler against torch.amp.GradScaler('cpu'): the same steps, skips and scales."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import rosenblatt as rb


def _run(m, losses_scale: list[float], growth_interval: int = 2) -> tuple[list, list, list]:
    """A linear model trained by SGD under a scaler; the i-th loss times losses_scale[i]
    (inf there makes the gradients overflow)."""
    w0 = np.array([[0.5, -0.25], [0.1, 0.3]], np.float32)
    model = m.nn.Linear(2, 2, bias=False)
    with m.no_grad():
        model.weight.copy_(m.tensor(w0))
    opt = m.optim.SGD(model.parameters(), lr=0.1)
    scaler = m.amp.GradScaler("cpu", init_scale=8.0, growth_interval=growth_interval)
    x = m.tensor([[1.0, 2.0], [3.0, -1.0]])
    scales, weights, grads = [], [], []
    for factor in losses_scale:
        opt.zero_grad()
        loss = (model(x) ** 2).mean() * factor
        scaler.scale(loss).backward()
        scaler.unscale_(opt)
        grads.append(model.weight.grad.detach().numpy().copy())
        scaler.step(opt)
        scaler.update()
        scales.append(scaler.get_scale())
        weights.append(model.weight.detach().numpy().copy())
    return scales, weights, grads


# NumPy warns where inf meets a matrix product (PyTorch does not): the overflow is the point
@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_scaler_matches_pytorch_through_growth_and_overflow() -> None:
    plan = [1.0, 1.0, 1.0, float("inf"), 1.0, 1.0]
    ours, theirs = _run(rb, plan), _run(torch, plan)
    assert ours[0] == theirs[0] == [8.0, 16.0, 16.0, 8.0, 8.0, 16.0]
    for a, b in zip(ours[1], theirs[1]):  # the overflow step left the weights as they were
        np.testing.assert_allclose(a, b, rtol=1e-5)
    for a, b in zip(ours[2], theirs[2]):  # unscaled gradients
        np.testing.assert_allclose(a, b, rtol=1e-5)


def test_scaled_loss_state_dict_and_errors() -> None:
    scaler = rb.amp.GradScaler("cpu", init_scale=4.0)
    assert scaler.scale(rb.tensor(2.0)).item() == 8.0
    assert [t.item() for t in scaler.scale([rb.tensor(1.0), rb.tensor(3.0)])] == [4.0, 12.0]
    other = rb.amp.GradScaler("cpu")
    other.load_state_dict(scaler.state_dict())
    assert other.get_scale() == 4.0 and other.state_dict() == scaler.state_dict()
    model = rb.nn.Linear(2, 1)
    opt = rb.optim.SGD(model.parameters(), lr=0.1)
    scaler.scale(model(rb.ones(1, 2)).sum()).backward()
    scaler.unscale_(opt)
    with pytest.raises(RuntimeError, match="already been called"):
        scaler.unscale_(opt)


def test_disabled_scaler_is_a_pass_through() -> None:
    scaler = rb.amp.GradScaler("cpu", enabled=False)
    loss = rb.tensor(3.0)
    assert scaler.scale(loss) is loss and scaler.get_scale() == 1.0 and scaler.state_dict() == {}
    if not rb.cuda.is_available():
        with pytest.warns(UserWarning, match="CUDA is not available"):
            assert not rb.amp.GradScaler().is_enabled()
