"""ao.quantization.quantize_dynamic against PyTorch's x86 dynamic int8 Linear."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch

import rosenblatt as rb
from rosenblatt.ao.nn.quantized import dynamic
from rosenblatt.ao.quantization import quantize_dynamic
from rosenblatt.models import MLP

# PyTorch deprecates its eager quantization and quantized tensors (warnings), not the results
pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning"),
              pytest.mark.filterwarnings("ignore::UserWarning")]


def _pair(seed: int = 0):
    torch.manual_seed(seed)
    theirs = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(784, 128), torch.nn.ReLU(),
                                 torch.nn.Linear(128, 10))
    ours = rb.nn.Sequential(rb.nn.Flatten(), rb.nn.Linear(784, 128), rb.nn.ReLU(),
                            rb.nn.Linear(128, 10))
    ours.load_state_dict({k: rb.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    return ours, theirs


def test_int8_weights_and_outputs_match_pytorch():
    ours, theirs = _pair()
    q = quantize_dynamic(ours, {rb.nn.Linear}, dtype=rb.qint8)
    tq = torch.ao.quantization.quantize_dynamic(theirs, {torch.nn.Linear}, dtype=torch.qint8)
    for i in (1, 3):
        assert isinstance(q[i], dynamic.Linear) and q[i]._weight_int8.dtype == rb.int8
        np.testing.assert_array_equal(q[i]._weight_int8.numpy(),
                                      tq[i].weight().int_repr().numpy())
        assert float(q[i].scale) == pytest.approx(tq[i].weight().q_scale(), rel=1e-7)
    x = np.random.default_rng(0).standard_normal((16, 1, 28, 28)).astype(np.float32)
    got, ref = q(rb.tensor(x)).numpy(), tq(torch.tensor(x)).numpy()
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5 * float(np.abs(ref).max()))
    # and it is a quantization: close to the float model, not equal to it
    full = ours(rb.tensor(x)).detach().numpy()
    assert 0 < np.abs(got - full).max() < 0.05 * np.abs(full).max()


def test_a_copy_unless_inplace_and_by_name():
    model = MLP(hidden=[64])
    q = quantize_dynamic(model)
    assert type(model.layers[1]) is rb.nn.Linear
    assert sum(isinstance(m, dynamic.Linear) for m in q.modules()) == 2
    named = quantize_dynamic(model, {"layers.1"})
    assert isinstance(named.layers[1], dynamic.Linear) and type(named.layers[3]) is rb.nn.Linear
    assert quantize_dynamic(model, inplace=True) is model
    assert isinstance(model.layers[1], dynamic.Linear)
    assert "DynamicQuantizedLinear" in repr(model)


def test_a_quantized_checkpoint_is_about_4x_smaller():
    model = MLP()
    sizes = []
    for m in (model, quantize_dynamic(model)):
        buf = io.BytesIO()
        rb.save(m.state_dict(), buf)
        sizes.append(len(buf.getvalue()))
    assert sizes[1] < 0.3 * sizes[0]


def test_unsupported_requests_are_named():
    with pytest.raises(NotImplementedError, match="GRU"):
        quantize_dynamic(MLP(), {rb.nn.Linear, rb.nn.GRU})
    with pytest.raises(ValueError, match="qint8"):
        quantize_dynamic(MLP(), dtype=rb.float16)
    q = quantize_dynamic(MLP(in_features=8, hidden=[4], num_classes=2))
    with pytest.raises(RuntimeError, match="last dimension 8"):
        q.layers[1](rb.randn(2, 5))


def test_torch_quantization_is_the_same_module():
    assert rb.quantization.quantize_dynamic is quantize_dynamic


@pytest.mark.parametrize("kwargs,shape", [
    ({"num_layers": 2}, (7, 3, 6)),
    ({"batch_first": True, "bidirectional": True}, (3, 7, 6)),
], ids=["two-layers", "batch-first-bidirectional"])
def test_lstm_matches_pytorch(kwargs, shape):
    torch.manual_seed(0)
    theirs = torch.nn.LSTM(6, 16, **kwargs)
    ours = rb.nn.LSTM(6, 16, **kwargs)
    ours.load_state_dict({k: rb.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    q = quantize_dynamic(rb.nn.Sequential(ours), {rb.nn.LSTM})[0]
    tq = torch.ao.quantization.quantize_dynamic(torch.nn.Sequential(theirs), {torch.nn.LSTM},
                                                dtype=torch.qint8)[0]
    assert isinstance(q, dynamic.LSTM) and q.weight_ih_l0.dtype == rb.int8
    x = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
    (out, (h, c)), (tout, (th, tc)) = q(rb.tensor(x)), tq(torch.tensor(x))
    for got, ref in ((out, tout), (h, th), (c, tc)):
        np.testing.assert_allclose(got.numpy(), ref.detach().numpy(), rtol=1e-5, atol=1e-5)
    full = ours(rb.tensor(x))[0].detach().numpy()  # and it is a quantization
    assert 0 < np.abs(out.numpy() - full).max() < 0.05


def test_char_lstm_quantized_generates():
    from rosenblatt.text.models import CharLSTM

    model = CharLSTM(20, 8, 16, num_layers=1).eval()
    q = quantize_dynamic(model)
    assert isinstance(q.lstm, dynamic.LSTM) and isinstance(q.head, dynamic.Linear)
    logits, state = q.start([1, 2, 3])
    full, _ = model.start([1, 2, 3])
    assert logits.shape == (20,) and np.abs(np.asarray(logits) - np.asarray(full)).max() < 0.05
    logits, state = q.step(4, state)
    assert logits.shape == (20,)
