"""Thread-pool kernels (_backend/parallel.py): same bits at 1 and 2 threads, serial if small."""

from __future__ import annotations

import operator
import threading

import numpy as np
import pytest

import rosenblatt as rb
import rosenblatt.nn.functional as F
from rosenblatt._backend import parallel


@pytest.fixture
def split_everything(monkeypatch: pytest.MonkeyPatch):
    """Every kernel splits, whatever its size; the thread count is restored afterwards."""
    monkeypatch.setattr(parallel, "MIN_WORK", 0)
    monkeypatch.setattr(parallel, "BLOCK", 100)  # large updates run in several blocks
    monkeypatch.setattr(parallel, "CHAIN_BLOCK", 30)  # and elementwise chains
    monkeypatch.setattr(parallel, "_threads", parallel._threads)


def at_threads(threads: int, fn):
    """fn() run with the kernels split over `threads` threads."""
    parallel.set_threads(threads)
    return fn()


def test_partition_is_static_contiguous_and_covers() -> None:
    assert parallel.partition(10, 3) == [(0, 4), (4, 7), (7, 10)]
    assert parallel.partition(2, 4) == [(0, 1), (1, 2)]
    assert parallel.partition(0, 4) == [(0, 0)]


def test_run_chunks_splits_over_threads_and_serial_when_small(split_everything) -> None:
    seen: list[tuple[int, int, str]] = []

    def record(start: int, stop: int) -> None:
        seen.append((start, stop, threading.current_thread().name))

    at_threads(2, lambda: parallel.run_chunks(record, 10, work=10))
    assert sorted(s[:2] for s in seen) == [(0, 5), (5, 10)]
    assert any(name.startswith("rosenblatt-kernel") for *_, name in seen)
    seen.clear()
    parallel.MIN_WORK = 100
    parallel.run_chunks(record, 10, work=99)
    assert seen == [(0, 10, threading.current_thread().name)]
    seen.clear()
    parallel.MIN_WORK = 0
    at_threads(1, lambda: parallel.run_chunks(record, 10, work=10))
    assert seen == [(0, 10, threading.current_thread().name)]


def test_no_nested_pools_and_errors_reach_the_caller(split_everything) -> None:
    inner: list[str] = []

    def outer(start: int, stop: int) -> None:
        parallel.run_chunks(lambda a, b: inner.append(threading.current_thread().name), 4, 4)

    at_threads(2, lambda: parallel.run_chunks(outer, 2, work=2))
    assert len(inner) == 3  # the caller's chunk splits in two, the worker's runs whole

    def fail(start: int, stop: int) -> None:
        if start:
            raise ValueError("chunk failed")

    with pytest.raises(ValueError, match="chunk failed"):
        parallel.run_chunks(fail, 4, work=4)


def test_no_thread_leak(split_everything) -> None:
    parallel.set_threads(2)
    parallel.run_chunks(lambda a, b: None, 4, work=4)
    before = threading.active_count()
    for _ in range(20):
        parallel.run_chunks(lambda a, b: None, 4, work=4)
    assert threading.active_count() == before


def _conv_step(groups: int, stride: int, padding: int, transposed: bool = False) -> list:
    """Outputs and all gradients of one conv (or conv_transpose2d) forward and backward."""
    rng = np.random.default_rng(0)
    x = rb.tensor(rng.standard_normal((3, 4, 9, 8), dtype=np.float32), requires_grad=True)
    shape = (4, 6 // groups, 3, 3) if transposed else (6, 4 // groups, 3, 3)
    w = rb.tensor(rng.standard_normal(shape, dtype=np.float32), requires_grad=True)
    b = rb.tensor(rng.standard_normal(6, dtype=np.float32), requires_grad=True)
    op = F.conv_transpose2d if transposed else F.conv2d
    y = op(x, w, b, stride=stride, padding=padding, groups=groups)
    (y * y).sum().backward()
    return [t.detach().numpy().copy() for t in (y, x.grad, w.grad, b.grad)]


@pytest.mark.parametrize("groups, stride, padding, transposed", [
    (1, 1, 1, False), (2, 2, 0, False), (1, 2, 1, True), (1, 1, 0, True)])
def test_conv_is_bitwise_the_same_at_two_threads(split_everything, groups, stride, padding,
                                                 transposed) -> None:
    serial = at_threads(1, lambda: _conv_step(groups, stride, padding, transposed))
    split = at_threads(2, lambda: _conv_step(groups, stride, padding, transposed))
    again = at_threads(2, lambda: _conv_step(groups, stride, padding, transposed))
    for a, b, c in zip(serial, split, again):
        assert np.array_equal(a, b) and np.array_equal(b, c)


@pytest.mark.parametrize("layout", ["NCHW", "HWN", "NHW"])
def test_conv_layouts_and_fold_are_bitwise_the_same_at_two_threads(
        split_everything, monkeypatch, layout) -> None:
    from rosenblatt.ops import conv

    monkeypatch.setattr(conv, "FORCE_LAYOUT", layout)

    def run() -> list:
        out = _conv_step(1, 1, 1)
        cols = F.unfold(rb.tensor(out[1]), 3, padding=1)
        return out + [cols.numpy(), F.fold(cols, (9, 8), 3, padding=1).numpy()]

    for a, b in zip(at_threads(1, run), at_threads(2, run)):
        assert np.array_equal(a, b)


def test_set_num_threads_sets_the_kernel_pool(split_everything) -> None:
    seen: list[str] = []
    rb.set_num_threads(1)
    parallel.run_chunks(lambda a, b: seen.append(threading.current_thread().name), 4, work=4)
    assert parallel.get_threads() == 1 and len(seen) == 1
    rb.set_num_threads(parallel.default_threads())  # the default, BLAS's included
    assert parallel.get_threads() == parallel.default_threads()


def _train(make_optimizer, steps: int = 3) -> list:
    """Parameters after a few optimizer steps on a fixed loss (one of each: large, small)."""
    rng = np.random.default_rng(1)
    params = [rb.tensor(rng.standard_normal(shape, dtype=np.float32), requires_grad=True)
              for shape in ((40, 30), (30,), (7, 3), ())]
    opt = make_optimizer(params)
    for _ in range(steps):
        opt.zero_grad()
        sum(((p * p).sum() * 0.5 + p.sin().sum() for p in params), rb.tensor(0.0)).backward()
        opt.step()
    return [p.detach().numpy().copy() for p in params]


OPTIMIZERS = {
    "adam": lambda ps: rb.optim.Adam(ps, lr=0.1, weight_decay=0.1, amsgrad=True),
    "adamw": lambda ps: rb.optim.AdamW(ps, lr=0.1, maximize=True),
    "sgd": lambda ps: rb.optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.1),
    "nesterov": lambda ps: rb.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
    "plain_sgd": lambda ps: rb.optim.SGD(ps, lr=0.1),
    "rmsprop": lambda ps: rb.optim.RMSprop(ps, lr=0.01, momentum=0.9, centered=True,
                                           weight_decay=0.1, maximize=True),
    "nadamw": lambda ps: rb.optim.NAdam(ps, lr=0.1, weight_decay=0.1,
                                        decoupled_weight_decay=True),
}


@pytest.mark.parametrize("name", OPTIMIZERS)
@pytest.mark.parametrize("min_work", [0, 40])  # every parameter split / the list split
def test_optimizer_steps_are_bitwise_the_same_at_two_threads(split_everything, name,
                                                             min_work) -> None:
    parallel.MIN_WORK = min_work
    serial = at_threads(1, lambda: _train(OPTIMIZERS[name]))
    split = at_threads(2, lambda: _train(OPTIMIZERS[name]))
    for a, b in zip(serial, split):
        assert np.array_equal(a, b)
    assert not np.array_equal(serial[0], _train(OPTIMIZERS[name], steps=2)[0])


def test_workers_take_the_callers_numpy_error_state(split_everything) -> None:
    parallel.set_threads(2)
    x = np.zeros(4)

    def divide(start: int, stop: int) -> None:
        np.log(x[start:stop])

    with np.errstate(divide="raise"), pytest.raises(FloatingPointError):
        parallel.run_chunks(lambda start, stop: divide(max(start, 2), stop), 4, work=4)
    with np.errstate(divide="ignore"):
        parallel.run_chunks(divide, 4, work=4)


@pytest.mark.parametrize("shape, dim", [((37, 10), -1), ((3, 5, 64), 2), ((6, 7), 0)])
@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
def test_softmax_is_bitwise_the_same_at_two_threads_and_as_one_call(
        split_everything, shape, dim, op) -> None:
    from rosenblatt.ops import fused

    x = np.random.default_rng(2).standard_normal(shape).astype(np.float32)
    g = np.random.default_rng(3).standard_normal(shape).astype(np.float32)

    def run() -> list:
        t = rb.tensor(x, requires_grad=True)
        y = getattr(F, op)(t, dim=dim)
        y.backward(rb.tensor(g))
        return [y.detach().numpy().copy(), t.grad.numpy().copy()]

    serial, split = at_threads(1, run), at_threads(2, run)
    kernel = fused.softmax_array if op == "softmax" else fused.log_softmax_array
    whole = kernel(np, x, dim % x.ndim)  # the formula in one NumPy call per step
    assert np.array_equal(serial[0], whole) and np.array_equal(split[0], whole)
    grad = fused._softmax_grad if op == "softmax" else fused._log_softmax_grad
    assert np.array_equal(serial[1], split[1])
    assert np.array_equal(split[1], grad(np, whole, g, dim % x.ndim))


def test_a_forked_child_makes_its_own_pool(split_everything) -> None:
    import multiprocessing

    parallel.set_threads(2)
    parallel.run_chunks(lambda a, b: None, 4, work=4)  # the parent's pool exists
    context = multiprocessing.get_context("fork")
    with context.Pool(1) as pool:
        # the parent's dead pool would hang the child: a timeout makes that a failure
        assert pool.apply_async(_sum_in_chunks, (1000,)).get(timeout=30) == sum(range(1000))


def _sum_in_chunks(n: int) -> int:
    parallel.MIN_WORK = 0
    parts: list[int] = []
    parallel.run_chunks(lambda start, stop: parts.append(sum(range(start, stop))), n, work=n)
    return sum(parts)


# ------------------------------------------------- the general path: elementwise and slabs
def _names_of_calls(fn):
    """fn, recording the thread of each call in the returned list."""
    names: list[str] = []

    def recorded(*args, **kwargs):
        names.append(threading.current_thread().name)
        return fn(*args, **kwargs)

    return recorded, names


def _sigmoid_chain(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


@pytest.mark.parametrize("case", ["ufunc", "operator", "chain", "bias", "outer", "transposed",
                                  "iadd", "pair", "int"])
def test_elementwise_is_bitwise_one_call_and_splits(split_everything, case) -> None:
    rng = np.random.default_rng(4)
    x = rng.standard_normal((9, 7, 5), dtype=np.float32)
    y = rng.standard_normal((9, 7, 5), dtype=np.float32)
    fn, args = {
        "ufunc": (np.add, (x, y)),
        "chain": (_sigmoid_chain, (x,)),
        "bias": (np.multiply, (x, y[:1, :, :1] * 2)),
        "outer": (np.subtract, (x[:, :1].copy(), y[:1])),  # neither has the result's shape
        "transposed": (np.add, (x.transpose(2, 1, 0), y.transpose(2, 1, 0))),
        "operator": (operator.truediv, (x, y)),
        "iadd": (None, (x, y)),
        "pair": (lambda a, b: (a * b, a - b), (x, y)),
        "int": (np.add, (x.astype(np.int64), 3)),
    }[case]

    def run():
        if case == "iadd":
            a = args[0].copy()
            assert parallel.iadd(a, args[1]) is a
            return [a]
        recorded, names = _names_of_calls(fn)
        split = parallel.elementwise(recorded)
        result = split(*args)
        if case != "transposed":  # NumPy lays that one out as x is: left to one call
            assert any(n.startswith("rosenblatt-kernel") for n in names) == (
                parallel.get_threads() > 1)
        return list(result) if isinstance(result, tuple) else [result]

    whole = [fn(*args)] if case not in ("iadd", "pair") else None
    serial, split = at_threads(1, run), at_threads(2, run)
    for a, b in zip(serial, split):
        assert a.dtype == b.dtype and a.strides == b.strides and np.array_equal(a, b)
    if whole is not None:
        assert np.array_equal(whole[0], split[0]) and whole[0].strides == split[0].strides


def test_elementwise_small_or_foreign_runs_as_one_call(split_everything) -> None:
    parallel.set_threads(2)
    parallel.MIN_WORK = 1000
    recorded, names = _names_of_calls(np.add)
    parallel.elementwise(recorded)(np.ones(999), 1.0)
    assert len(names) == 1
    parallel.MIN_WORK = 0

    class Foreign:  # stands for a CuPy array: handed to fn as it is
        shape = (40,)

        def __array__(self):
            raise TypeError("no implicit conversion")

        def __add__(self, other):
            return "added"

    assert parallel.add(Foreign(), 1) == "added"
    x = np.arange(40.0)
    parallel.iadd(x[1:], x[:-1])  # overlapping: NumPy's buffered answer, not a racy one
    expected = np.arange(40.0)
    expected[1:] += expected[:-1].copy()
    assert np.array_equal(x, expected)


def test_slabs_split_one_axis_and_are_deterministic(split_everything) -> None:
    x = np.random.default_rng(5).standard_normal((6, 8, 5, 3), dtype=np.float32)

    def channel_sums(a):
        return a.sum(axis=(0, 2, 3), keepdims=True), (a * a).max(axis=(0, 2, 3), keepdims=True)

    recorded, names = _names_of_calls(channel_sums)
    split = at_threads(2, lambda: parallel.slabs(recorded, x, axis=1))
    again = at_threads(2, lambda: parallel.slabs(channel_sums, x, axis=1))
    assert any(n.startswith("rosenblatt-kernel") for n in names)
    for a, b, c in zip(split, again, channel_sums(x)):
        assert a.shape == c.shape == (1, 8, 1, 1) and np.array_equal(a, b)
        np.testing.assert_allclose(a, c, rtol=1e-5)
    rows = at_threads(2, lambda: parallel.slabs(lambda a: a - a.max(axis=1, keepdims=True), x))
    assert np.array_equal(rows, x - x.max(axis=1, keepdims=True))
    # a per-channel array is split with x; lower-rank ones and ones broadcast along the
    # channels go whole to every call
    w, b, c = x[:, :1].copy(), x[0, 0].copy(), x[:1, :, :1, :1].copy()

    def weighted(a, w, b, c):
        return (a * w + b - c).sum(axis=(0, 2), keepdims=True)

    recorded, names = _names_of_calls(weighted)
    split = at_threads(2, lambda: parallel.slabs(recorded, x, w, b, c, axis=1))
    assert any(n.startswith("rosenblatt-kernel") for n in names)
    np.testing.assert_allclose(split, weighted(x, w, b, c), rtol=1e-5)


def _grads_of(make, shapes, seed=6, dtype=np.float32, positive=False):
    """Output and input gradients of make(*tensors) with a random upstream gradient."""
    def run():
        rng = np.random.default_rng(seed)
        arrays = [rng.standard_normal(s).astype(dtype) for s in shapes]
        if positive:
            arrays = [np.abs(a) + 0.5 for a in arrays]
        ts = [rb.tensor(a, requires_grad=True) for a in arrays]
        rb.manual_seed(0)
        y = make(*ts)
        y.backward(rb.tensor(rng.standard_normal(y.shape).astype(dtype)))
        return [y.detach().numpy().copy()] + [t.grad.numpy().copy() for t in ts]
    return run


FAMILIES = {
    "add_broadcast": (lambda a, b: a + b, [(8, 3, 5), (3, 1)]),
    "sub": (lambda a, b: a - b, [(8, 3, 5), (8, 3, 5)]),
    "mul_broadcast": (lambda a, b: a * b, [(8, 3, 5), (1, 3, 5)]),
    "div": (lambda a, b: a / b, [(8, 3, 5), (8, 3, 5)]),
    "relu": (lambda a: F.relu(a), [(8, 3, 5)]),
    "exp_log_sqrt": (lambda a: (a.exp() + a.abs().log() * a.abs().sqrt()), [(8, 3, 5)]),
    "tanh_sigmoid_sin": (lambda a: a.tanh() * a.sigmoid() + a.sin(), [(8, 3, 5)]),
    "gelu": (lambda a: F.gelu(a), [(8, 3, 5)]),
    "gelu_tanh": (lambda a: F.gelu(a, approximate="tanh"), [(8, 3, 5)]),
    "leaky_elu_celu": (lambda a: F.leaky_relu(a, 0.1) + F.elu(a) + F.celu(a, 0.5), [(8, 3, 5)]),
    "silu_softplus": (lambda a: F.silu(a) * F.softplus(a, 2.0, 1.0), [(8, 3, 5)]),
    "dropout": (lambda a: F.dropout(a, 0.3) * 1.0, [(8, 3, 5)]),
    "batch_norm": (lambda a, w, b: F.batch_norm(a, None, None, w, b, training=True),
                   [(8, 6, 5, 4), (6,), (6,)]),
    "batch_norm_eval": (lambda a: F.batch_norm(a, rb.arange(6.0), rb.arange(1.0, 7.0),
                                               training=False), [(8, 6, 5)]),
    "layer_norm": (lambda a, w, b: F.layer_norm(a, (5,), w, b), [(8, 6, 5), (5,), (5,)]),
    "instance_norm": (lambda a: F.instance_norm(a), [(8, 3, 5, 4)]),
    "group_norm": (lambda a, w, b: F.group_norm(a, 2, w, b), [(8, 6, 5), (6,), (6,)]),
    "cross_entropy": (lambda a: F.cross_entropy(a, rb.tensor(np.arange(8) % 5),
                                                label_smoothing=0.1), [(8, 5)]),
    "cross_entropy_none": (lambda a: F.cross_entropy(
        a, rb.tensor(np.arange(24).reshape(8, 3) % 5), reduction="none"), [(8, 5, 3)]),
    "grad_accumulation": (lambda a: a * 2 + a * 3 + a.exp(), [(8, 3, 5)]),
    "max_pool": (lambda a: F.max_pool2d(a, 2), [(8, 3, 6, 4)]),
    "max_pool_overlapping": (lambda a: F.max_pool2d(a, 3, 2, padding=1, ceil_mode=True),
                             [(8, 2, 7, 5)]),
    "avg_pool": (lambda a: F.avg_pool2d(a, 3, 2, padding=1, count_include_pad=False),
                 [(8, 2, 7, 5)]),
    "avg_pool3d": (lambda a: F.avg_pool3d(a, 2), [(4, 2, 4, 4, 2)]),
    "sum_mean_rows": (lambda a: a.sum(-1) + a.mean(dim=(1, 2), keepdim=True).squeeze(-1)
                      + a.sum(0).sum(-1) + a.mean(), [(8, 3, 5)]),
    "masked_fill": (lambda a: a.masked_fill(rb.tensor(np.tri(3, 5) > 0), -1.5), [(8, 3, 5)]),
    "attention": (lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
                  [(8, 2, 5, 4), (8, 2, 5, 4), (8, 2, 5, 3)]),
}


@pytest.mark.parametrize("name", FAMILIES)
def test_op_families_are_bitwise_the_same_at_two_threads(split_everything, monkeypatch,
                                                        name) -> None:
    make, shapes = FAMILIES[name]
    run = _grads_of(make, shapes)
    serial = at_threads(1, run)
    calls: list[int] = []
    real = parallel.run_chunks
    monkeypatch.setattr(parallel, "run_chunks", lambda *a, **k: (calls.append(1), real(*a, **k)))
    split, again = at_threads(2, run), at_threads(2, run)
    assert calls, "nothing ran over the threads"
    # reductions, deterministic at a thread count: batch (and group) norm's channel moments
    # and sums (everything uses them), layer norm's sums over rows (weight's, bias's grads)
    reduced = {"batch_norm": 0, "layer_norm": 2, "group_norm": 0, "sum_mean_rows": 0}.get(
        name, len(serial))
    for i, (a, b, c) in enumerate(zip(serial, split, again)):
        assert np.array_equal(b, c)
        if i >= reduced:
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
        else:
            assert np.array_equal(a, b), f"output/grad {i} differs"
