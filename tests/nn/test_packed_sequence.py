"""Packed sequences against PyTorch: packing/padding and RNN/LSTM/GRU on packed input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.utils.rnn as trnn
from test_rnn import LAYERS, close

import rosenblatt as rb
from rosenblatt.nn.modules.rnn import GRU, LSTM, RNN
from rosenblatt.nn.utils import rnn
from rosenblatt.nn.utils.rnn import PackedSequence


def same_ints(a: rb.Tensor | None, b: torch.Tensor | None) -> None:
    assert (a is None) == (b is None)
    if a is not None:
        assert a.tolist() == b.tolist()


def both(array: np.ndarray) -> tuple[rb.Tensor, torch.Tensor]:
    """The same float64 leaf in rosenblatt and in PyTorch."""
    return rb.tensor(array, requires_grad=True), torch.tensor(array, requires_grad=True)


def weighted_sum(pairs: list, rng: np.random.Generator) -> tuple:
    """One random linear function of every output, in both libraries."""
    loss, t_loss = 0, 0
    for a, b in pairs:
        w = rng.standard_normal(tuple(a.shape))
        loss = loss + (a * rb.tensor(w)).sum()
        t_loss = t_loss + (b * torch.tensor(w)).sum()
    return loss, t_loss


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("enforce_sorted, lengths", [(True, [5, 5, 3, 1]),
                                                     (False, [2, 5, 1, 4])])
@pytest.mark.parametrize("total_length", [None, 7])
def test_pack_pad_round_trip(batch_first, enforce_sorted, lengths, total_length):
    rng = np.random.default_rng(0)
    shape = (4, 5, 3) if batch_first else (5, 4, 3)
    x, tx = both(rng.standard_normal(shape))
    packed = rnn.pack_padded_sequence(x, rb.tensor(lengths), batch_first, enforce_sorted)
    t_packed = trnn.pack_padded_sequence(tx, torch.tensor(lengths), batch_first, enforce_sorted)
    assert isinstance(packed, PackedSequence)
    close(packed.data, t_packed.data)
    for a, b in zip(packed[1:], t_packed[1:]):
        same_ints(a, b)
    padded, out_lengths = rnn.pad_packed_sequence(packed, batch_first, -2.0, total_length)
    t_padded, t_lengths = trnn.pad_packed_sequence(t_packed, batch_first, -2.0, total_length)
    assert padded.shape == t_padded.shape
    close(padded, t_padded)
    same_ints(out_lengths, t_lengths)
    loss, t_loss = weighted_sum([(padded, t_padded), (packed.data, t_packed.data)], rng)
    loss.backward()
    t_loss.backward()
    close(x.grad, tx.grad)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pad_sequence(batch_first, padding_side):
    rng = np.random.default_rng(1)
    pairs = [both(rng.standard_normal((n, 2))) for n in (2, 4, 1)]
    ours = rnn.pad_sequence([a for a, _ in pairs], batch_first, 3.0, padding_side)
    theirs = trnn.pad_sequence([b for _, b in pairs], batch_first, 3.0, padding_side)
    assert ours.shape == theirs.shape
    close(ours, theirs)
    loss, t_loss = weighted_sum([(ours, theirs)], rng)
    loss.backward()
    t_loss.backward()
    for a, b in pairs:
        close(a.grad, b.grad)


@pytest.mark.parametrize("enforce_sorted", [False, True])
def test_pack_sequence_and_unpack(enforce_sorted):
    rng = np.random.default_rng(2)
    lengths = [4, 3, 3, 1] if enforce_sorted else [1, 4, 3, 2]
    pairs = [both(rng.standard_normal(n)) for n in lengths]
    packed = rnn.pack_sequence([a for a, _ in pairs], enforce_sorted)
    t_packed = trnn.pack_sequence([b for _, b in pairs], enforce_sorted)
    close(packed.data, t_packed.data)
    same_ints(packed.batch_sizes, t_packed.batch_sizes)
    same_ints(packed.sorted_indices, t_packed.sorted_indices)
    unpacked = rnn.unpack_sequence(packed)
    assert [tuple(u.shape) for u in unpacked] == [(n,) for n in lengths]
    for u, (_, b) in zip(unpacked, pairs):
        close(u, b)
    sum(((u * (i + 1)).sum() for i, u in enumerate(unpacked)), rb.tensor(0.0)).backward()
    for i, (a, _) in enumerate(pairs):
        np.testing.assert_array_equal(a.grad.numpy(), np.full(lengths[i], i + 1.0))


def test_unpad_sequence_matches_torch():
    padded = np.arange(24.0).reshape(4, 3, 2)
    ours = rnn.unpad_sequence(rb.tensor(padded), rb.tensor([2, 4, 1]))
    theirs = trnn.unpad_sequence(torch.tensor(padded), torch.tensor([2, 4, 1]))
    for a, b in zip(ours, theirs):
        close(a, b)


def test_packed_sequence_methods():
    data = rb.tensor([[1.0], [2.0], [3.0]])
    packed = rnn.pack_padded_sequence(rb.tensor([[1.0, 3.0], [2.0, 0.0]]).unsqueeze(-1),
                                      [1, 2], enforce_sorted=False)
    assert packed.sorted_indices.tolist() == [1, 0]
    assert packed.unsorted_indices.tolist() == [1, 0]
    assert packed.data.reshape(-1).tolist() == [3.0, 1.0, 0.0]
    assert packed.to(rb.float32) is packed
    as_double = packed.double()
    assert as_double.data.dtype == rb.float64 and as_double.batch_sizes is packed.batch_sizes
    assert as_double.unsorted_indices.tolist() == [1, 0]
    assert packed.cpu() is packed and not packed.is_cuda
    from_tuple = PackedSequence((data, rb.tensor([2, 1])), sorted_indices=rb.tensor([1, 0]))
    data_, batch_sizes, sorted_indices, unsorted_indices = from_tuple
    assert data_ is data and batch_sizes.tolist() == [2, 1]
    assert unsorted_indices.tolist() == [1, 0]
    assert rnn.invert_permutation(rb.tensor([2, 0, 1])).tolist() == [1, 2, 0]
    assert rnn.invert_permutation(None) is None


BAD_LENGTHS = [
    ([2, 3, 1], True, "must be sorted in decreasing order"),
    ([3, 2, 0], True, "has to be greater than 0"),
    ([0, 2, 3], False, "has to be greater than 0"),
    ([3, -1, 2], False, "has to be greater than 0"),
    ([3, 2], True, r"Expected `len\(lengths\)` to be equal to batch_size, but got 2"),
    (torch.tensor([[3, 2, 1]]), True, "'lengths' argument should be a 1D CPU int64 tensor, "
                                      "but got 2D cpu Long tensor"),
]


@pytest.mark.parametrize("lengths, enforce_sorted, message", BAD_LENGTHS)
def test_bad_lengths_raise_like_torch(lengths, enforce_sorted, message):
    x = np.zeros((4, 3, 2))
    ours_lengths = rb.tensor(lengths.numpy()) if isinstance(lengths, torch.Tensor) else lengths
    with pytest.raises(RuntimeError, match=message):
        trnn.pack_padded_sequence(torch.tensor(x), lengths, enforce_sorted=enforce_sorted)
    with pytest.raises(RuntimeError, match=message):
        rnn.pack_padded_sequence(rb.tensor(x), ours_lengths, enforce_sorted=enforce_sorted)


def test_other_errors():
    x = rb.zeros(4, 3, 2)
    with pytest.raises(RuntimeError, match="at most the padded length 4"):
        rnn.pack_padded_sequence(x, [5, 2, 1])  # PyTorch reads out of bounds here
    packed = rnn.pack_padded_sequence(x, [3, 2, 1])
    with pytest.raises(ValueError, match="total_length=2 and max sequence length being 3"):
        rnn.pad_packed_sequence(packed, total_length=2)
    with pytest.raises(RuntimeError, match="received an empty list of sequences"):
        rnn.pad_sequence([])
    with pytest.raises(RuntimeError, match="padding_side to be one of left or right"):
        rnn.pad_sequence([x], padding_side="middle")
    with pytest.raises(RuntimeError, match="input must have 2 dimensions, got 3"):
        RNN(2, 3)(PackedSequence(x, rb.tensor([3, 1, 1, 1])))
    with pytest.raises(RuntimeError, match=r"Expected hidden size \(1, 3, 4\)"):
        GRU(2, 4)(packed, rb.zeros(1, 2, 4))


@pytest.mark.parametrize("ours_cls, torch_cls, kwargs", LAYERS)
@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("with_state", [False, True])
@pytest.mark.parametrize("lengths, enforce_sorted", [([3, 6, 1, 5, 4], False),
                                                     ([6, 6, 3, 3, 1], True)])
def test_packed_layer_matches_torch(ours_cls, torch_cls, kwargs, num_layers, bidirectional,
                                    with_state, lengths, enforce_sorted):
    rng = np.random.default_rng(3)
    theirs = torch_cls(3, 4, num_layers=num_layers, bidirectional=bidirectional,
                       batch_first=True, **kwargs).double()
    ours = ours_cls(3, 4, num_layers=num_layers, bidirectional=bidirectional,
                    batch_first=True, dtype=rb.float64, **kwargs)
    ours.load_state_dict({k: rb.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    x, tx = both(rng.standard_normal((5, 6, 3)))
    packed = rnn.pack_padded_sequence(x, lengths, True, enforce_sorted)
    t_packed = trnn.pack_padded_sequence(tx, lengths, True, enforce_sorted)
    state_shape = (num_layers * (2 if bidirectional else 1), 5, 4)
    states = [both(rng.standard_normal(state_shape)) for _ in range(2 if ours_cls is LSTM else 1)]
    hx = [a for a, _ in states] if with_state else None
    t_hx = [b for _, b in states] if with_state else None
    if ours_cls is LSTM:
        out, (h_n, c_n) = ours(packed, None if hx is None else tuple(hx))
        t_out, (t_h_n, t_c_n) = theirs(t_packed, None if t_hx is None else tuple(t_hx))
        pairs = [(h_n, t_h_n), (c_n, t_c_n)]
    else:
        out, h_n = ours(packed, None if hx is None else hx[0])
        t_out, t_h_n = theirs(t_packed, None if t_hx is None else t_hx[0])
        pairs = [(h_n, t_h_n)]
    assert isinstance(out, PackedSequence)
    for a, b in zip(out[1:], t_out[1:]):
        same_ints(a, b)
    pairs.append((out.data, t_out.data))
    for a, b in pairs:
        assert a.shape == b.shape
        close(a, b)
    loss, t_loss = weighted_sum(pairs, rng)
    loss.backward()
    t_loss.backward()
    leaves = [(x, tx)] + (states if with_state else [])
    for a, b in leaves:
        close(a.grad, b.grad)
    for (name, p), (t_name, tp) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert name == t_name
        close(p.grad, tp.grad)


def test_packed_output_pads_back_to_the_padded_run():
    """A batch of full-length sequences gives the same result packed as padded."""
    rng = np.random.default_rng(4)
    lstm = LSTM(3, 4, num_layers=2, bidirectional=True, dtype=rb.float64)
    x = rb.tensor(rng.standard_normal((5, 2, 3)))
    out, (h_n, c_n) = lstm(x)
    p_out, (p_h_n, p_c_n) = lstm(rnn.pack_padded_sequence(x, [5, 5]))
    padded, _ = rnn.pad_packed_sequence(p_out)
    for a, b in [(out, padded), (h_n, p_h_n), (c_n, p_c_n)]:
        np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12)
