"""Static int8 quantization (prepare, calibrate, convert) against PyTorch's eager x86 path."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.ao.quantization as tq

import rosenblatt as rb
import rosenblatt.ao.quantization as rq
from rosenblatt.ao.nn.quantized import modules as qm

pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning"),
              pytest.mark.filterwarnings("ignore::UserWarning")]


def _layers(lib):
    nn, q = (torch.nn, tq) if lib is torch else (rb.nn, rq)
    return nn.Sequential(q.QuantStub(), nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Conv2d(4, 6, 3, stride=2, bias=False), nn.ReLU(),
                         nn.Flatten(), nn.Linear(6 * 1 * 1 * 4, 16), nn.ReLU(),
                         nn.Linear(16, 10), q.DeQuantStub())


def _pair():
    torch.manual_seed(0)
    theirs = _layers(torch).eval()
    ours = _layers(rb).eval()
    ours.load_state_dict({k: rb.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    # PyTorch's x86 default observes activations with a histogram; the min/max observer with
    # reduce_range is the same method as ours, so the results can be compared exactly
    theirs.qconfig = tq.QConfig(
        activation=tq.MinMaxObserver.with_args(reduce_range=True),
        weight=tq.PerChannelMinMaxObserver.with_args(dtype=torch.qint8,
                                                     qscheme=torch.per_channel_symmetric))
    ours.qconfig = rq.get_default_qconfig("x86")
    return ours, theirs


def test_calibrated_int8_model_matches_pytorch():
    ours, theirs = _pair()
    prepared, tprepared = rq.prepare(ours), tq.prepare(theirs)
    rng = np.random.default_rng(0)
    for _ in range(3):  # calibration batches
        x = rng.standard_normal((16, 1, 10, 10)).astype(np.float32)
        prepared(rb.tensor(x))
        tprepared(torch.tensor(x))
    q, tqm = rq.convert(prepared), tq.convert(tprepared)
    assert isinstance(q[0], qm.Quantize) and isinstance(q[1], qm.Conv2d)
    assert isinstance(q[7], qm.Linear) and isinstance(q[10], qm.DeQuantize)
    for i in (1, 4, 7, 9):  # int8 weights, per output channel
        assert q[i].weight_int8.dtype == rb.int8
        np.testing.assert_array_equal(q[i].weight_int8.numpy(),
                                      tqm[i].weight().int_repr().numpy())
        np.testing.assert_allclose(q[i].weight_scale.numpy(),
                                   tqm[i].weight().q_per_channel_scales().numpy(), rtol=1e-6)
        assert q[i].scale == pytest.approx(tqm[i].scale, rel=1e-6)
        assert q[i].zero_point == tqm[i].zero_point
    x = rng.standard_normal((8, 1, 10, 10)).astype(np.float32)
    got, ref = q(rb.tensor(x)).numpy(), tqm(torch.tensor(x)).numpy()
    np.testing.assert_allclose(got, ref, atol=1e-5)  # the same uint8 outputs
    full = ours(rb.tensor(x)).detach().numpy()
    assert 0 < np.abs(got - full).max() < 0.1 * np.abs(full).max()
    assert not isinstance(ours[1], qm.Conv2d)  # prepare and convert copied the model


def test_convert_before_calibration_is_a_clear_error():
    ours, _ = _pair()
    with pytest.raises(RuntimeError, match="calibration"):
        rq.convert(rq.prepare(ours))
