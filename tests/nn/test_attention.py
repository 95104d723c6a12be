"""scaled_dot_product_attention and MultiheadAttention against PyTorch (float64, same weights)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import rosenblatt as rb
from rosenblatt.nn.functional import scaled_dot_product_attention
from rosenblatt.nn.modules.attention import MultiheadAttention

RTOL, ATOL = 1e-6, 1e-10


def close(a, b) -> None:
    a = a.detach().numpy() if isinstance(a, rb.Tensor) else a
    np.testing.assert_allclose(a, b.detach().numpy(), rtol=RTOL, atol=ATOL)


def copy_weights(ours, theirs) -> None:
    state = theirs.state_dict()
    assert list(state) == [name for name, _ in ours.named_parameters()]
    for name, p in ours.named_parameters():
        p._data[...] = state[name].numpy()


@pytest.mark.parametrize("case", ["plain", "bool", "float", "causal", "broadcast", "scale"])
def test_sdpa_matches_torch(case):
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal(s) for s in [(2, 3, 5, 4), (2, 3, 7, 4), (2, 3, 7, 6)])
    if case == "broadcast":
        k, v = k[:1], v[:1]
    mask = t_mask = None
    if case == "bool":
        m = rng.random((5, 7)) > 0.4
        m[:, 0] = True
        mask, t_mask = rb.tensor(m), torch.tensor(m)
    if case == "float":
        m = rng.standard_normal((2, 1, 5, 7))
        mask, t_mask = rb.tensor(m, requires_grad=True), torch.tensor(m, requires_grad=True)
    kwargs = {"is_causal": case == "causal", "scale": 0.3 if case == "scale" else None}
    ours = [rb.tensor(a, requires_grad=True) for a in (q, k, v)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
    out = scaled_dot_product_attention(*ours, mask, **kwargs)
    t_out = torch.nn.functional.scaled_dot_product_attention(*theirs, t_mask, **kwargs)
    close(out, t_out)
    g = rng.standard_normal(tuple(out.shape))
    (out * rb.tensor(g)).sum().backward()
    (t_out * torch.tensor(g)).sum().backward()
    for a, b in zip(ours, theirs):
        close(a.grad, b.grad)
    if case == "float":
        close(mask.grad, t_mask.grad)


def test_sdpa_fully_masked_row_is_zero_like_torch():
    q = rb.randn(1, 3, 4, dtype=rb.float64)
    kv = rb.randn(1, 5, 4, dtype=rb.float64)
    m = np.ones((3, 5), dtype=bool)
    m[1] = False
    out = scaled_dot_product_attention(q, kv, kv, rb.tensor(m))
    t_out = torch.nn.functional.scaled_dot_product_attention(
        torch.tensor(q.numpy()), torch.tensor(kv.numpy()), torch.tensor(kv.numpy()),
        torch.tensor(m))
    close(out, t_out)


def test_sdpa_gradcheck_with_dropout_off():
    rng = np.random.default_rng(1)
    args = [rb.tensor(rng.standard_normal(s), requires_grad=True)
            for s in [(2, 3, 4), (2, 5, 4), (2, 5, 3)]]
    assert rb.autograd.gradcheck(
        lambda q, k, v: scaled_dot_product_attention(q, k, v, is_causal=True), args)


def test_sdpa_dropout_keeps_expectation():
    rb.manual_seed(0)
    q = rb.zeros(1, 1, 200, 4)
    v = rb.ones(1, 1, 50, 3)
    out = scaled_dot_product_attention(q, rb.zeros(1, 1, 50, 4), v, dropout_p=0.5)
    values = out.numpy()
    assert 0.8 < values.mean() < 1.2 and values.std() > 0.05


def _inputs(rng, kind, batch_first, n=3, length=4, source=6):
    def make(s, d):
        return rng.standard_normal((n, s, d) if batch_first else (s, n, d))

    q = make(length, 8)
    if kind == "self":
        return q, q, q
    if kind == "cross":
        k = make(source, 8)
        return q, k, k
    return q, make(source, 3), make(source, 5)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("kind", ["self", "cross", "kvdim"])
@pytest.mark.parametrize("masks", ["none", "bool_both", "float_3d"])
@pytest.mark.parametrize("need_weights", [True, False])
def test_multihead_attention_matches_torch(batch_first, kind, masks, need_weights):
    rng = np.random.default_rng(2)
    extra = {"kdim": 3, "vdim": 5} if kind == "kvdim" else {}
    theirs = torch.nn.MultiheadAttention(8, 2, batch_first=batch_first, **extra).double()
    ours = MultiheadAttention(8, 2, batch_first=batch_first, dtype=rb.float64, **extra)
    copy_weights(ours, theirs)
    arrays = _inputs(rng, kind, batch_first)
    length, source = 4, (4 if kind == "self" else 6)
    o_in, t_in = {}, {}
    for a in arrays:  # same object in -> same object in (self-attention fast path)
        if id(a) not in o_in:
            o_in[id(a)] = rb.tensor(a, requires_grad=True)
            t_in[id(a)] = torch.tensor(a, requires_grad=True)
    o_args = [o_in[id(a)] for a in arrays]
    t_args = [t_in[id(a)] for a in arrays]
    kw, t_kw = {}, {}
    if masks == "bool_both":
        am = rng.random((length, source)) < 0.3
        am[:, :2] = False
        pad = rng.random((3, source)) < 0.3
        pad[:, :2] = False
        kw = {"attn_mask": rb.tensor(am), "key_padding_mask": rb.tensor(pad)}
        t_kw = {"attn_mask": torch.tensor(am), "key_padding_mask": torch.tensor(pad)}
    elif masks == "float_3d":
        am = rng.standard_normal((3 * 2, length, source))
        kw, t_kw = {"attn_mask": rb.tensor(am)}, {"attn_mask": torch.tensor(am)}
    out, w = ours(*o_args, need_weights=need_weights, **kw)
    t_out, t_w = theirs(*t_args, need_weights=need_weights, **t_kw)
    close(out, t_out)
    loss = (out * rb.tensor(g := rng.standard_normal(tuple(out.shape)))).sum()
    t_loss = (t_out * torch.tensor(g)).sum()
    if need_weights:
        close(w, t_w)
        loss = loss + (w * rb.tensor(gw := rng.standard_normal(tuple(w.shape)))).sum()
        t_loss = t_loss + (t_w * torch.tensor(gw)).sum()
    else:
        assert w is None
    loss.backward()
    t_loss.backward()
    for key in o_in:
        close(o_in[key].grad, t_in[key].grad)
    for (_, p), (_, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        close(p.grad, tp.grad)


def test_multihead_attention_unbatched_per_head_weights():
    rng = np.random.default_rng(3)
    theirs = torch.nn.MultiheadAttention(8, 2).double()
    ours = MultiheadAttention(8, 2, dtype=rb.float64)
    copy_weights(ours, theirs)
    x = rng.standard_normal((5, 8))
    out, w = ours(rb.tensor(x), rb.tensor(x), rb.tensor(x), average_attn_weights=False)
    t_out, t_w = theirs(*(torch.tensor(x),) * 3, average_attn_weights=False)
    close(out, t_out)
    close(w, t_w)
    assert tuple(w.shape) == (2, 5, 5)


def test_multihead_attention_init_and_errors():
    mha = MultiheadAttention(16, 4)
    assert list(mha.state_dict()) == list(torch.nn.MultiheadAttention(16, 4).state_dict())
    assert float(mha.in_proj_bias.abs().sum()) == 0.0
    bound = (6 / (16 + 48)) ** 0.5
    assert float(mha.in_proj_weight.abs().max()) <= bound
    with pytest.raises(AssertionError, match="divisible"):
        MultiheadAttention(10, 3)
    x = rb.zeros(4, 1, 16)
    with pytest.raises(RuntimeError, match="attn_mask"):
        mha(x, x, x, is_causal=True)
