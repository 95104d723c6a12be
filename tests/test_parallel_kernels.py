"""Thread-pool kernels (_backend/parallel.py): same bits at 1 and 2 threads, serial if small."""

from __future__ import annotations

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
