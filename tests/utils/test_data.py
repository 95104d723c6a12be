"""rosenblatt.utils.data against torch.utils.data: batches, shuffling, samplers, collation."""

from collections import namedtuple

import numpy as np
import pytest
import torch
import torch.utils.data as tud

import rosenblatt as rb
from rosenblatt.utils import data as rbd


def _pair(n=10, feat=3):
    x = np.arange(n * feat, dtype=np.float32).reshape(n, feat)
    y = np.arange(n, dtype=np.int64)
    return (rbd.TensorDataset(rb.tensor(x), rb.tensor(y)),
            tud.TensorDataset(torch.tensor(x), torch.tensor(y)))


def _np(t):
    return t.numpy() if isinstance(t, torch.Tensor) else np.asarray(t)


class ListDataset(rbd.Dataset):
    """A plain map-style data set (no fast path), usable by both libraries."""

    def __init__(self, items):
        self.items = items

    def __getitem__(self, i):
        return self.items[i]

    def __len__(self):
        return len(self.items)


@pytest.mark.parametrize("n,batch_size,drop_last", [(10, 3, False), (10, 3, True), (10, 5, False),
                                                     (7, 10, False), (7, 10, True), (1, 1, False)])
def test_sequential_batches_match_torch(n, batch_size, drop_last):
    ours, theirs = _pair(n)
    a = rbd.DataLoader(ours, batch_size=batch_size, drop_last=drop_last)
    b = tud.DataLoader(theirs, batch_size=batch_size, drop_last=drop_last)
    assert len(a) == len(b)
    got, want = list(a), list(b)
    assert len(got) == len(want)
    for (xa, ya), (xb, yb) in zip(got, want):
        np.testing.assert_array_equal(xa.numpy(), xb.numpy())
        np.testing.assert_array_equal(ya.numpy(), yb.numpy())
        assert xa.dtype == rb.float32 and ya.dtype == rb.int64


def test_fast_path_equals_general_path():
    ours, _ = _pair(23)
    fast = list(rbd.DataLoader(ours, batch_size=4))
    slow = list(rbd.DataLoader(ours, batch_size=4, collate_fn=rbd.default_collate))
    assert len(fast) == len(slow) == 6
    for f, s in zip(fast, slow):
        assert type(f) is type(s) is list
        for a, b in zip(f, s):
            assert a.shape == b.shape and a.dtype == b.dtype
            np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("drop_last", [False, True])
def test_shuffle_covers_every_index_once(drop_last):
    ours, _ = _pair(103)
    loader = rbd.DataLoader(ours, batch_size=10, shuffle=True, drop_last=drop_last)
    seen = np.concatenate([y.numpy() for _, y in loader])
    sizes = [len(y) for _, y in loader]
    if drop_last:
        assert sizes == [10] * 10 and len(set(seen.tolist())) == 100
    else:
        assert sizes == [10] * 10 + [3]
        assert sorted(seen.tolist()) == list(range(103))
    assert seen.tolist() != sorted(seen.tolist())  # actually shuffled


def test_shuffle_is_reproducible_and_changes_between_epochs():
    ours, _ = _pair(50)
    loader = rbd.DataLoader(ours, batch_size=7, shuffle=True)

    def epoch():
        return np.concatenate([y.numpy() for _, y in loader]).tolist()

    rb.manual_seed(3)
    first, second = epoch(), epoch()
    rb.manual_seed(3)
    assert epoch() == first and epoch() == second
    assert first != second


def test_generator_controls_shuffling():
    ours, _ = _pair(40)

    def order(seed):
        g = rb.Generator().manual_seed(seed)
        loader = rbd.DataLoader(ours, batch_size=8, shuffle=True, generator=g)
        rb.manual_seed(seed + 100)  # the default generator must not matter
        return np.concatenate([y.numpy() for _, y in loader]).tolist()

    assert order(1) == order(1)
    assert order(1) != order(2)


def test_general_path_dataset_and_nested_samples_match_torch():
    items = [{"x": np.full((2, 2), i, np.float32), "label": i, "w": float(i) / 2, "name": f"s{i}",
              "pair": (i, np.int32(i))} for i in range(7)]
    a = list(rbd.DataLoader(ListDataset(items), batch_size=3))
    b = list(tud.DataLoader(ListDataset(items), batch_size=3))
    assert len(a) == len(b) == 3
    for ba, bb in zip(a, b):
        assert set(ba) == set(bb)
        for key in ("x", "label", "w"):
            np.testing.assert_array_equal(_np(ba[key]), _np(bb[key]))
            assert str(ba[key].dtype).split(".")[-1] == str(bb[key].dtype).split(".")[-1]
        assert ba["name"] == bb["name"]
        assert isinstance(ba["pair"], list) and isinstance(bb["pair"], list)
        for pa, pb in zip(ba["pair"], bb["pair"]):
            np.testing.assert_array_equal(_np(pa), _np(pb))
            assert str(pa.dtype).split(".")[-1] == str(pb.dtype).split(".")[-1]


def test_default_collate_types_match_torch():
    Point = namedtuple("Point", "x y")
    cases = [
        [1, 2, 3],
        [1.5, 2.5],
        [True, False],
        [np.float32(1), np.float32(2)],
        [np.float64(1), np.float64(2)],
        [np.arange(3, dtype=np.int16), np.arange(3, dtype=np.int16)],
    ]
    for batch in cases:
        ours = rbd.default_collate(batch)
        theirs = tud.default_collate(batch)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
        assert ours.dtype.name == str(theirs.dtype).split(".")[-1], batch
    ours = rbd.default_collate([Point(1, 2.0), Point(3, 4.0)])
    assert type(ours) is Point and ours.x.tolist() == [1, 3] and ours.y.dtype == rb.float64
    assert rbd.default_collate([[1, 2], [3, 4]])[1].tolist() == [2, 4]
    with pytest.raises(RuntimeError, match="equal size"):
        rbd.default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="default_collate"):
        rbd.default_collate([object(), object()])
    stacked = rbd.default_collate([rb.ones(2, 3), rb.zeros(2, 3)])
    assert stacked.shape == (2, 2, 3)


def test_batch_size_none_and_batch_sampler():
    ours, theirs = _pair(6)
    a = list(rbd.DataLoader(ours, batch_size=None))
    b = list(tud.DataLoader(theirs, batch_size=None))
    assert len(a) == len(b) == 6 and isinstance(a[0], list) == isinstance(b[0], list)
    np.testing.assert_array_equal(a[2][0].numpy(), b[2][0].numpy())
    batches = [[0, 5], [1, 2, 3], [4]]
    a = [y.tolist() for _, y in rbd.DataLoader(ours, batch_sampler=batches)]
    b = [y.tolist() for _, y in tud.DataLoader(theirs, batch_sampler=batches)]
    assert a == b == batches


def test_loader_argument_errors_follow_torch():
    ours, _ = _pair(4)
    with pytest.raises(ValueError, match="mutually exclusive with shuffle"):
        rbd.DataLoader(ours, sampler=rbd.SequentialSampler(ours), shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive"):
        rbd.DataLoader(ours, batch_size=2, batch_sampler=[[0, 1]])
    with pytest.raises(ValueError, match="drop_last"):
        rbd.DataLoader(ours, batch_size=None, drop_last=True)
    with pytest.raises(ValueError, match="num_workers"):
        rbd.DataLoader(ours, num_workers=-1)
    with pytest.raises(ValueError, match="batch_size"):
        rbd.BatchSampler(range(3), 0, False)


def test_num_workers_runs_in_process():
    ours, _ = _pair(9)
    loader = rbd.DataLoader(ours, batch_size=4, num_workers=2, pin_memory=True,
                            persistent_workers=True, prefetch_factor=2)
    assert [len(y) for _, y in loader] == [4, 4, 1]
    assert rbd.get_worker_info() is None


def test_samplers_match_torch_semantics():
    data = list(range(10))
    assert list(rbd.SequentialSampler(data)) == list(tud.SequentialSampler(data))
    assert sorted(rbd.RandomSampler(data)) == data
    draws = list(rbd.RandomSampler(data, num_samples=25))
    assert len(draws) == 25 and sorted(draws[:10]) == data and sorted(draws[10:20]) == data
    repl = list(rbd.RandomSampler(data, replacement=True, num_samples=50))
    assert len(repl) == 50 and set(repl) <= set(data)
    with pytest.raises(ValueError, match="num_samples"):
        rbd.RandomSampler(data, num_samples=0)
    for bs, drop in [(3, False), (3, True), (5, True), (20, False)]:
        ours = list(rbd.BatchSampler(rbd.SequentialSampler(data), bs, drop))
        theirs = list(tud.BatchSampler(tud.SequentialSampler(data), bs, drop))
        assert ours == theirs
        assert len(rbd.BatchSampler(data, bs, drop)) == len(theirs)
    assert sorted(rbd.SubsetRandomSampler([5, 7, 9])) == [5, 7, 9]
    weighted = list(rbd.WeightedRandomSampler([0, 0, 1, 0], 20))
    assert weighted == [2] * 20


def test_random_split_lengths_and_fractions_match_torch():
    ours, theirs = _pair(10)
    for lengths in ([3, 7], [0.3, 0.7], [0.34, 0.33, 0.33], [0.5, 0.5]):
        a = rbd.random_split(ours, lengths)
        b = tud.random_split(theirs, lengths)
        assert [len(s) for s in a] == [len(s) for s in b]
        everything = sorted(i for s in a for i in s.indices)
        assert everything == list(range(10))
    with pytest.raises(ValueError, match="Sum of input lengths"):
        rbd.random_split(ours, [3, 3])
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        rbd.random_split(rbd.TensorDataset(rb.zeros(1)), [1.0, 0.0])


def test_random_split_generator_is_reproducible():
    ours, _ = _pair(20)

    def split(seed):
        return [s.indices for s in rbd.random_split(ours, [5, 15],
                                                    generator=rb.Generator().manual_seed(seed))]

    assert split(4) == split(4)
    assert split(4) != split(5)
    first, rest = rbd.random_split(ours, [5, 15])
    x, y = first[2]
    assert y.item() == first.indices[2]
    batch = next(iter(rbd.DataLoader(first, batch_size=5)))
    assert batch[1].tolist() == list(first.indices)


def test_subset_concat_and_add():
    ours, _ = _pair(6)
    other, _ = _pair(4)
    both = ours + other
    assert isinstance(both, rbd.ConcatDataset) and len(both) == 10
    assert both[7][1].item() == 1 and both[-1][1].item() == 3
    ys = [y.tolist() for _, y in rbd.DataLoader(both, batch_size=4)]
    assert ys == [[0, 1, 2, 3], [4, 5, 0, 1], [2, 3]]
    sub = rbd.Subset(ours, [5, 0, 3])
    assert len(sub) == 3 and sub[0][1].item() == 5
    assert [y.tolist() for _, y in rbd.DataLoader(sub, batch_size=2)] == [[5, 0], [3]]
    with pytest.raises(ValueError, match="Size mismatch"):
        rbd.TensorDataset(rb.zeros(3), rb.zeros(4))


def test_iterable_dataset_batches():
    class Stream(rbd.IterableDataset):
        def __iter__(self):
            return iter(range(7))

        def __len__(self):
            return 7

    batches = [b.tolist() for b in rbd.DataLoader(Stream(), batch_size=3)]
    assert batches == [[0, 1, 2], [3, 4, 5], [6]]
    assert len(rbd.DataLoader(Stream(), batch_size=3, drop_last=True)) == 2
    with pytest.raises(ValueError, match="IterableDataset"):
        rbd.DataLoader(Stream(), shuffle=True)


def test_fast_path_keeps_autograd_and_views():
    x = rb.randn(6, 2, requires_grad=True)
    loader = rbd.DataLoader(rbd.TensorDataset(x), batch_size=3, shuffle=True)
    total = sum(batch[0].sum() for batch in loader)
    total.backward()
    np.testing.assert_allclose(x.grad.numpy(), np.ones((6, 2)))


def test_epoch_of_mnist_sized_data_does_not_build_per_sample_tuples(monkeypatch):
    images = rb.zeros(10000, 1, 28, 28)
    labels = rb.zeros(10000, dtype=rb.int64)
    ds = rbd.TensorDataset(images, labels)

    def fail(*args):
        raise AssertionError("per-sample __getitem__ called on the fast path")

    monkeypatch.setattr(rbd.TensorDataset, "__getitem__", fail)
    n = sum(len(y) for _, y in rbd.DataLoader(ds, batch_size=64, shuffle=True))
    assert n == 10000


def test_getitems_protocol_is_used_for_custom_collate():
    calls = []

    class Batched(ListDataset):
        def __getitems__(self, indices):
            calls.append(indices)
            return [self.items[i] for i in indices]

    loader = rbd.DataLoader(Batched(list(range(5))), batch_size=2, collate_fn=lambda b: b)
    assert list(loader) == [[0, 1], [2, 3], [4]]
    assert calls == [[0, 1], [2, 3], [4]]


def test_tensor_dataset_on_device(device):
    x = rb.arange(10).to(device)
    batches = list(rbd.DataLoader(rbd.TensorDataset(x), batch_size=4, shuffle=True))
    assert all(b[0].device == rb.device(device) for b in batches)
    assert sorted(np.concatenate([b[0].cpu().numpy() for b in batches]).tolist()) == list(range(10))


def test_sampler_without_len():
    ours, _ = _pair(6)
    ys = [y.tolist() for _, y in rbd.DataLoader(ours, batch_size=2, sampler=iter([5, 4, 3]))]
    assert ys == [[5, 4], [3]]
