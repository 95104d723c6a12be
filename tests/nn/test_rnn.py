"""RNN, LSTM, GRU and cells against PyTorch: same weights -> same outputs and gradients."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import rosenblatt as rb
from rosenblatt.nn.modules.rnn import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell

RTOL, ATOL = 1e-6, 1e-10


def copy_weights(ours: rb.nn.Module, theirs: torch.nn.Module) -> None:
    """Load PyTorch's state dict into our module; the keys must be the same, in order."""
    state = theirs.state_dict()
    assert list(state) == [name for name, _ in ours.named_parameters()]
    for name, p in ours.named_parameters():
        assert tuple(p.shape) == tuple(state[name].shape)
        p._data[...] = state[name].numpy()


def close(a: rb.Tensor, b: torch.Tensor) -> None:
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=RTOL, atol=ATOL)


LAYERS = [
    (LSTM, torch.nn.LSTM, {}),
    (GRU, torch.nn.GRU, {}),
    (RNN, torch.nn.RNN, {}),
    (RNN, torch.nn.RNN, {"nonlinearity": "relu"}),
]


@pytest.mark.parametrize("ours_cls, torch_cls, kwargs", LAYERS)
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_layer_matches_torch(ours_cls, torch_cls, kwargs, batch_first, bidirectional):
    rng = np.random.default_rng(1)
    theirs = torch_cls(4, 5, num_layers=2, batch_first=batch_first,
                       bidirectional=bidirectional, **kwargs).double()
    ours = ours_cls(4, 5, num_layers=2, batch_first=batch_first, bidirectional=bidirectional,
                    dtype=rb.float64, **kwargs)
    copy_weights(ours, theirs)
    batch, steps = 3, 6
    x = rng.standard_normal((batch, steps, 4) if batch_first else (steps, batch, 4))
    state_shape = (2 * (2 if bidirectional else 1), batch, 5)
    h, c = rng.standard_normal(state_shape), rng.standard_normal(state_shape)
    ours_in = [rb.tensor(a, requires_grad=True) for a in (x, h, c)]
    theirs_in = [torch.tensor(a, requires_grad=True) for a in (x, h, c)]
    if ours_cls is LSTM:
        out, (h_n, c_n) = ours(ours_in[0], (ours_in[1], ours_in[2]))
        t_out, (t_h_n, t_c_n) = theirs(theirs_in[0], (theirs_in[1], theirs_in[2]))
        pairs = [(out, t_out), (h_n, t_h_n), (c_n, t_c_n)]
    else:
        out, h_n = ours(ours_in[0], ours_in[1])
        t_out, t_h_n = theirs(theirs_in[0], theirs_in[1])
        pairs = [(out, t_out), (h_n, t_h_n)]
        ours_in, theirs_in = ours_in[:2], theirs_in[:2]
    loss, t_loss = 0, 0
    for a, b in pairs:
        close(a, b)
        w = rng.standard_normal(tuple(a.shape))
        loss = loss + (a * rb.tensor(w)).sum()
        t_loss = t_loss + (b * torch.tensor(w)).sum()
    loss.backward()
    t_loss.backward()
    for a, b in zip(ours_in, theirs_in):
        close(a.grad, b.grad)
    for (_, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        close(p.grad, tp.grad)


@pytest.mark.parametrize("ours_cls, torch_cls", [(LSTM, torch.nn.LSTM), (GRU, torch.nn.GRU)])
def test_default_state_unbatched_and_no_bias(ours_cls, torch_cls):
    rng = np.random.default_rng(2)
    theirs = torch_cls(3, 4, bias=False).double()
    ours = ours_cls(3, 4, bias=False, dtype=rb.float64)
    copy_weights(ours, theirs)
    x = rng.standard_normal((5, 3))  # unbatched (L, H_in)
    out, state = ours(rb.tensor(x))
    t_out, t_state = theirs(torch.tensor(x))
    close(out, t_out)
    assert tuple(out.shape) == (5, 4)
    if ours_cls is LSTM:
        close(state[1], t_state[1])
        assert tuple(state[0].shape) == (1, 4)


CELLS = [(LSTMCell, torch.nn.LSTMCell), (GRUCell, torch.nn.GRUCell),
         (RNNCell, torch.nn.RNNCell)]


@pytest.mark.parametrize("ours_cls, torch_cls", CELLS)
def test_cell_matches_torch(ours_cls, torch_cls):
    rng = np.random.default_rng(3)
    theirs = torch_cls(4, 5).double()
    ours = ours_cls(4, 5, dtype=rb.float64)
    copy_weights(ours, theirs)
    x, h, c = rng.standard_normal((3, 4)), rng.standard_normal((3, 5)), rng.standard_normal((3, 5))
    rx, rh, rc = (rb.tensor(a, requires_grad=True) for a in (x, h, c))
    tx, th, tc = (torch.tensor(a, requires_grad=True) for a in (x, h, c))
    if ours_cls is LSTMCell:
        out, c_new = ours(rx, (rh, rc))
        t_out, t_c_new = theirs(tx, (th, tc))
        close(c_new, t_c_new)
        (out.sum() + (c_new * 2).sum()).backward()
        (t_out.sum() + (t_c_new * 2).sum()).backward()
    else:
        out, t_out = ours(rx, rh), theirs(tx, th)
        out.sum().backward()
        t_out.sum().backward()
    close(out, t_out)
    for a, b in [(rx, tx), (rh, th)]:
        close(a.grad, b.grad)
    for (_, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        close(p.grad, tp.grad)
    unbatched = ours(rb.tensor(x[0]))
    first = unbatched[0] if isinstance(unbatched, tuple) else unbatched
    assert tuple(first.shape) == (5,)


def test_init_range_and_state_dict_keys():
    lstm = LSTM(3, 16, num_layers=2, bidirectional=True)
    keys = list(lstm.state_dict())
    assert keys == list(torch.nn.LSTM(3, 16, num_layers=2, bidirectional=True).state_dict())
    bound = 1 / 4
    for p in lstm.parameters():
        values = p.detach().numpy()
        assert values.min() >= -bound and values.max() <= bound and values.std() > 0.05
    assert tuple(lstm.weight_ih_l1.shape) == (64, 32)


def test_errors_name_the_shapes():
    with pytest.raises(RuntimeError, match="input_size"):
        LSTM(3, 4)(rb.zeros(2, 1, 5))
    with pytest.raises(RuntimeError, match="hidden size"):
        GRU(3, 4)(rb.zeros(2, 1, 3), rb.zeros(1, 2, 4))


def test_dropout_between_layers_only_in_training():
    rb.manual_seed(0)
    lstm = LSTM(3, 8, num_layers=2, dropout=0.5)
    x = rb.randn(4, 2, 3)
    a, _ = lstm(x)
    b, _ = lstm(x)
    assert not np.allclose(a.detach().numpy(), b.detach().numpy())
    lstm.eval()
    c, _ = lstm(x)
    d, _ = lstm(x)
    np.testing.assert_array_equal(c.detach().numpy(), d.detach().numpy())


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn_tanh", "rnn_relu"])
@pytest.mark.parametrize("reverse", [False, True])
def test_gradcheck_fused_layers(kind, reverse):
    from rosenblatt.ops.rnn import gru_layer, lstm_layer, rnn_layer

    rng = np.random.default_rng(4)
    gates = {"lstm": 4, "gru": 3}.get(kind, 1) * 4
    shapes = [(3, 2, 3), (2, 4)] + ([(2, 4)] if kind == "lstm" else []) + \
        [(gates, 3), (gates, 4), (gates,), (gates,)]
    args = [rb.tensor(rng.standard_normal(s) * 0.5, requires_grad=True) for s in shapes]

    def fn(*a):
        if kind == "lstm":
            out, _, c = lstm_layer(*a, reverse=reverse)
            return out, c
        if kind == "gru":
            return gru_layer(*a, reverse=reverse)[0]
        return rnn_layer(*a, nonlinearity=kind[4:], reverse=reverse)[0]

    assert rb.autograd.gradcheck(fn, args)
