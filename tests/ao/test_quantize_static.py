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
    with pytest.raises(RuntimeError, match=r"calibration .*\(layer '0', QuantStub\)$"):
        rq.convert(rq.prepare(ours))


def _fusable(lib):
    nn, q = (torch.nn, tq) if lib is torch else (rb.nn, rq)
    return nn.Sequential(q.QuantStub(), nn.Conv2d(1, 4, 3, padding=1, bias=False),
                         nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(4 * 5 * 5, 12), nn.ReLU(), nn.Linear(12, 10),
                         q.DeQuantStub())


def test_fused_conv_bn_relu_and_linear_relu_match_pytorch():
    torch.manual_seed(0)
    theirs = _fusable(torch)
    with torch.no_grad():  # BatchNorm statistics that are not the identity
        theirs[2].running_mean.uniform_(-0.5, 0.5)
        theirs[2].running_var.uniform_(0.5, 2.0)
        theirs[2].weight.uniform_(0.5, 1.5)
        theirs[2].bias.uniform_(-0.2, 0.2)
    theirs.eval()
    ours = _fusable(rb).eval()
    ours.load_state_dict({k: rb.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    groups = [["1", "2", "3"], ["6", "7"]]
    ours, theirs = rq.fuse_modules(ours, groups), tq.fuse_modules(theirs, groups)
    assert isinstance(ours[1], rq.static.ConvReLU2d) and isinstance(ours[2], rb.nn.Identity)
    x = np.random.default_rng(0).standard_normal((16, 1, 10, 10)).astype(np.float32)
    np.testing.assert_allclose(ours(rb.tensor(x)).detach().numpy(),
                               theirs(torch.tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-5)
    theirs.qconfig = tq.QConfig(
        activation=tq.MinMaxObserver.with_args(reduce_range=True),
        weight=tq.PerChannelMinMaxObserver.with_args(dtype=torch.qint8,
                                                     qscheme=torch.per_channel_symmetric))
    ours.qconfig = rq.get_default_qconfig()
    prepared, tprepared = rq.prepare(ours), tq.prepare(theirs)
    prepared(rb.tensor(x))
    tprepared(torch.tensor(x))
    q, tqm = rq.convert(prepared), tq.convert(tprepared)
    assert q[1].scale == pytest.approx(tqm[1].scale, rel=1e-6)  # observed after the ReLU
    x = np.random.default_rng(1).standard_normal((8, 1, 10, 10)).astype(np.float32)
    got, ref = q(rb.tensor(x)).numpy(), tqm(torch.tensor(x)).numpy()
    # the folded weights and the requantization round in float32 in PyTorch: a value on a
    # rounding boundary may land one output step away, never more
    steps = np.abs(got - ref) / q[8].scale
    assert steps.max() < 1.01 and (steps < 0.01).mean() > 0.9


def test_unfusable_groups_are_named():
    with pytest.raises(NotImplementedError, match="MaxPool2d"):
        rq.fuse_modules(_fusable(rb).eval(), [["3", "4"]])
