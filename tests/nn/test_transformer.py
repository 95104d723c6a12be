"""Transformer encoder/decoder layers against PyTorch, and the positional encodings."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import rosenblatt as rb
from rosenblatt import nn
from rosenblatt.nn.modules.transformer import generate_square_subsequent_mask

RTOL, ATOL = 1e-6, 1e-10


def close(a, b) -> None:
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=RTOL, atol=ATOL)


def copy_weights(ours, theirs) -> None:
    state = theirs.state_dict()
    assert list(state) == [name for name, _ in ours.named_parameters()]
    for name, p in ours.named_parameters():
        p._data[...] = state[name].numpy()


def backward_both(out, t_out, rng):
    g = rng.standard_normal(tuple(out.shape))
    (out * rb.tensor(g)).sum().backward()
    (t_out * torch.tensor(g)).sum().backward()


def check_param_grads(ours, theirs):
    for (_, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        close(p.grad, tp.grad)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_encoder_matches_torch(batch_first, norm_first, activation):
    rng = np.random.default_rng(0)
    layer_args = dict(d_model=8, nhead=2, dim_feedforward=16, dropout=0.0,
                      activation=activation, batch_first=batch_first, norm_first=norm_first)
    theirs = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(**layer_args), 2,
                                         norm=torch.nn.LayerNorm(8),
                                         enable_nested_tensor=False).double()
    ours = nn.TransformerEncoder(nn.TransformerEncoderLayer(**layer_args, dtype=rb.float64), 2,
                                 norm=nn.LayerNorm(8, dtype=rb.float64))
    copy_weights(ours, theirs)
    n, s = 3, 5
    x = rng.standard_normal((n, s, 8) if batch_first else (s, n, 8))
    pad = np.zeros((n, s))
    pad[:, -1] = -math.inf  # float padding mask (same type as the causal float mask)
    rx, tx = rb.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out = ours(rx, mask=generate_square_subsequent_mask(s, dtype=rb.float64),
               src_key_padding_mask=rb.tensor(pad))
    t_out = theirs(tx, mask=torch.nn.Transformer.generate_square_subsequent_mask(
        s, dtype=torch.float64), src_key_padding_mask=torch.tensor(pad))
    close(out, t_out)
    backward_both(out, t_out, rng)
    close(rx.grad, tx.grad)
    check_param_grads(ours, theirs)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_matches_torch(batch_first, norm_first):
    rng = np.random.default_rng(1)
    layer_args = dict(d_model=8, nhead=2, dim_feedforward=16, dropout=0.0,
                      batch_first=batch_first, norm_first=norm_first)
    theirs = torch.nn.TransformerDecoder(torch.nn.TransformerDecoderLayer(**layer_args),
                                         2).double()
    ours = nn.TransformerDecoder(nn.TransformerDecoderLayer(**layer_args, dtype=rb.float64), 2)
    copy_weights(ours, theirs)
    n, t, s = 2, 4, 6
    tgt = rng.standard_normal((n, t, 8) if batch_first else (t, n, 8))
    mem = rng.standard_normal((n, s, 8) if batch_first else (s, n, 8))
    mem_pad = np.zeros((n, s), dtype=bool)
    mem_pad[0, -2:] = True
    o = [rb.tensor(a, requires_grad=True) for a in (tgt, mem)]
    th = [torch.tensor(a, requires_grad=True) for a in (tgt, mem)]
    out = ours(*o, tgt_mask=generate_square_subsequent_mask(t, dtype=rb.float64),
               memory_key_padding_mask=rb.tensor(mem_pad), tgt_is_causal=True)
    t_out = theirs(*th, tgt_mask=torch.nn.Transformer.generate_square_subsequent_mask(
        t, dtype=torch.float64), memory_key_padding_mask=torch.tensor(mem_pad),
        tgt_is_causal=True)
    close(out, t_out)
    backward_both(out, t_out, rng)
    for a, b in zip(o, th):
        close(a.grad, b.grad)
    check_param_grads(ours, theirs)


def test_dropout_only_in_training():
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.5, batch_first=True)
    x = rb.randn(2, 5, 8)
    assert not np.allclose(layer(x).detach().numpy(), layer(x).detach().numpy())
    layer.eval()
    np.testing.assert_array_equal(layer(x).detach().numpy(), layer(x).detach().numpy())


def test_sinusoidal_positional_encoding_table():
    pe = nn.SinusoidalPositionalEncoding(6, max_len=10)
    table = pe.pe.numpy()
    pos = np.arange(10)[:, None]
    freq = 1.0 / 10000 ** (np.arange(0, 6, 2) / 6)
    np.testing.assert_allclose(table[:, 0::2], np.sin(pos * freq), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(table[:, 1::2], np.cos(pos * freq), rtol=1e-5, atol=1e-6)
    assert "pe" not in pe.state_dict()
    x = rb.zeros(2, 4, 6)
    np.testing.assert_allclose(pe(x, offset=3).numpy()[1], table[3:7], rtol=1e-6)
    seq_first = nn.SinusoidalPositionalEncoding(6, max_len=10, batch_first=False)
    np.testing.assert_allclose(seq_first(rb.zeros(4, 2, 6)).numpy()[:, 0], table[:4], rtol=1e-6)
    with pytest.raises(ValueError, match="max_len"):
        pe(rb.zeros(1, 11, 6))


def test_learned_positional_encoding_trains():
    pe = nn.LearnedPositionalEncoding(4, max_len=8)
    assert list(pe.state_dict()) == ["weight"]
    x = rb.zeros(3, 5, 4)
    out = pe(x)
    out.sum().backward()
    grad = pe.weight.grad.numpy()
    np.testing.assert_allclose(grad[:5], 3.0)
    np.testing.assert_allclose(grad[5:], 0.0)


def test_full_transformer_matches_torch():
    rng = np.random.default_rng(4)
    args = dict(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=2,
                dim_feedforward=16, dropout=0.0, batch_first=True)
    theirs = torch.nn.Transformer(**args).double()
    ours = nn.Transformer(**args, dtype=rb.float64)
    copy_weights(ours, theirs)
    src, tgt = rng.standard_normal((2, 5, 8)), rng.standard_normal((2, 3, 8))
    mask = nn.Transformer.generate_square_subsequent_mask(3, dtype=rb.float64)
    out = ours(rb.tensor(src), rb.tensor(tgt), tgt_mask=mask)
    t_out = theirs(torch.tensor(src), torch.tensor(tgt),
                   tgt_mask=torch.nn.Transformer.generate_square_subsequent_mask(
                       3, dtype=torch.float64))
    close(out, t_out)
    backward_both(out, t_out, rng)
    check_param_grads(ours, theirs)
