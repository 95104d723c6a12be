"""Learning-rate schedulers side by side with PyTorch's, on an optimizer with two groups."""

from __future__ import annotations

import copy

import pytest
import torch

import rosenblatt as rb
from rosenblatt import optim
from rosenblatt.optim import lr_scheduler

STEPS = 60


def _optimizers(kind: str = "SGD") -> tuple:
    """The same two-group optimizer in rosenblatt and in PyTorch (lr 0.1 and 0.01)."""
    def groups(lib):
        return [{"params": [lib.zeros(2, requires_grad=True)]},
                {"params": [lib.zeros(3, requires_grad=True)], "lr": 0.01}]

    kwargs = dict(lr=0.1, momentum=0.9) if kind == "SGD" else dict(lr=0.1)
    return getattr(optim, kind)(groups(rb), **kwargs), getattr(torch.optim, kind)(
        groups(torch), **kwargs)


def _pair(make, kind: str = "SGD") -> tuple:
    ours_opt, theirs_opt = _optimizers(kind)
    ours = make(lr_scheduler, ours_opt)
    theirs = make(torch.optim.lr_scheduler, theirs_opt)
    return ours_opt, theirs_opt, ours, theirs


def _momentum(opt) -> list:
    return [g["betas"][0] if "betas" in g else g.get("momentum") for g in opt.param_groups]


SCHEDULES = {
    "StepLR": lambda m, o: m.StepLR(o, step_size=7, gamma=0.5),
    "MultiStepLR": lambda m, o: m.MultiStepLR(o, milestones=[10, 25, 25, 40], gamma=0.3),
    "ExponentialLR": lambda m, o: m.ExponentialLR(o, gamma=0.95),
    "CosineAnnealingLR": lambda m, o: m.CosineAnnealingLR(o, T_max=20, eta_min=0.001),
    "LinearLR-warmup": lambda m, o: m.LinearLR(o, start_factor=0.25, total_iters=10),
    "LinearLR-decay": lambda m, o: m.LinearLR(o, start_factor=1.0, end_factor=0.1,
                                              total_iters=30),
    "LambdaLR": lambda m, o: m.LambdaLR(o, lambda epoch: 0.97**epoch),
    "LambdaLR-per-group": lambda m, o: m.LambdaLR(
        o, [lambda e: 1 / (1 + e), lambda e: 0.5 if e % 2 else 1.0]),
    "OneCycleLR": lambda m, o: m.OneCycleLR(o, max_lr=[0.5, 0.05], total_steps=STEPS + 1),
    "OneCycleLR-linear": lambda m, o: m.OneCycleLR(
        o, max_lr=0.3, total_steps=STEPS + 1, anneal_strategy="linear", pct_start=0.25,
        div_factor=10.0, final_div_factor=100.0),
    "OneCycleLR-three-phase": lambda m, o: m.OneCycleLR(
        o, max_lr=0.3, epochs=6, steps_per_epoch=11, three_phase=True,
        base_momentum=[0.8, 0.7], max_momentum=0.9),
    "OneCycleLR-no-momentum": lambda m, o: m.OneCycleLR(
        o, max_lr=0.3, total_steps=STEPS, cycle_momentum=False),
    "ConstantLR": lambda m, o: m.ConstantLR(o, factor=0.5, total_iters=8),
    "PolynomialLR": lambda m, o: m.PolynomialLR(o, total_iters=40, power=2.0),
    "CosineAnnealingWarmRestarts": lambda m, o: m.CosineAnnealingWarmRestarts(
        o, T_0=6, T_mult=2, eta_min=0.001),
    "ChainedScheduler": lambda m, o: m.ChainedScheduler(
        [m.ConstantLR(o, factor=0.5, total_iters=4), m.ExponentialLR(o, gamma=0.95)],
        optimizer=o),
    "SequentialLR": lambda m, o: m.SequentialLR(
        o, [m.LinearLR(o, start_factor=0.1, total_iters=5), m.CosineAnnealingLR(o, T_max=50)],
        milestones=[5]),
    "SequentialLR-three": lambda m, o: m.SequentialLR(
        o, [m.ExponentialLR(o, gamma=0.9), m.StepLR(o, step_size=4, gamma=0.5),
            m.LinearLR(o, start_factor=0.5, total_iters=10)],
        milestones=[10, 30]),
}


def _step_together(ours_opt, theirs_opt, ours, theirs, steps: int) -> None:
    for _ in range(steps):
        ours_opt.step()
        theirs_opt.step()
        ours.step()
        theirs.step()
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-12, abs=0)
        assert [g["lr"] for g in ours_opt.param_groups] == pytest.approx(
            [g["lr"] for g in theirs_opt.param_groups], rel=1e-12, abs=0)
        assert _momentum(ours_opt) == pytest.approx(_momentum(theirs_opt), rel=1e-12)


@pytest.mark.parametrize("kind", ["SGD", "Adam"])
@pytest.mark.parametrize("name", list(SCHEDULES))
def test_same_learning_rates_as_pytorch(name, kind):
    ours_opt, theirs_opt, ours, theirs = _pair(SCHEDULES[name], kind)
    assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-12)
    _step_together(ours_opt, theirs_opt, ours, theirs, STEPS)


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_checkpoint_midway_continues_identically(name):
    """A state_dict() taken after 25 steps and loaded into fresh objects goes on the same."""
    make = SCHEDULES[name]
    opt, _ = _optimizers()
    sched = make(lr_scheduler, opt)
    for _ in range(25):
        opt.step()
        sched.step()
    sched_state = copy.deepcopy(sched.state_dict())
    opt_state = copy.deepcopy(opt.state_dict())  # SGD with no gradients yet: no tensors
    assert "optimizer" not in sched_state
    fresh_opt, _ = _optimizers()
    fresh = make(lr_scheduler, fresh_opt)
    fresh_opt.load_state_dict(opt_state)
    fresh.load_state_dict(sched_state)
    assert fresh.get_last_lr() == sched.get_last_lr()
    for _ in range(STEPS - 25):
        opt.step()
        fresh_opt.step()
        sched.step()
        fresh.step()
        assert fresh.get_last_lr() == sched.get_last_lr()
        assert _momentum(fresh_opt) == _momentum(opt)


@pytest.mark.parametrize("name", ["MultiStepLR", "OneCycleLR", "SequentialLR", "LambdaLR"])
def test_checkpoint_through_rosenblatt_save_and_load(name, tmp_path):
    """Optimizer (Adam, with tensors in its state) and scheduler through a checkpoint file."""
    make = SCHEDULES[name]
    params = [rb.ones(2, requires_grad=True), rb.ones(3, requires_grad=True)]
    opt = optim.Adam([{"params": params[:1]}, {"params": params[1:], "lr": 0.01}], lr=0.1)
    sched = make(lr_scheduler, opt)
    for _ in range(25):
        for p in params:
            p.grad = rb.full(p.shape, 0.5)
        opt.step()
        sched.step()
    rb.save({"optimizer": opt.state_dict(), "scheduler": sched.state_dict()},
            tmp_path / "checkpoint.safetensors")
    loaded = rb.load(tmp_path / "checkpoint.safetensors")
    fresh_params = [rb.tensor(p.detach().numpy(), requires_grad=True) for p in params]
    fresh_opt = optim.Adam([{"params": fresh_params[:1]}, {"params": fresh_params[1:]}])
    fresh = make(lr_scheduler, fresh_opt)
    fresh_opt.load_state_dict(loaded["optimizer"])
    fresh.load_state_dict(loaded["scheduler"])
    for _ in range(STEPS - 25):
        for p, q in zip(params, fresh_params):
            p.grad, q.grad = rb.full(p.shape, 0.5), rb.full(q.shape, 0.5)
        opt.step()
        fresh_opt.step()
        sched.step()
        fresh.step()
        assert fresh.get_last_lr() == sched.get_last_lr()
    for p, q in zip(params, fresh_params):
        assert p.tolist() == q.tolist()


def test_state_dict_leaves_out_plain_functions_but_keeps_callable_objects():
    class Decay:
        def __init__(self, rate):
            self.rate = rate

        def __call__(self, epoch):
            return self.rate**epoch

    opt, _ = _optimizers()
    sched = lr_scheduler.LambdaLR(opt, [lambda e: 1.0, Decay(0.5)])
    state = sched.state_dict()
    assert state["lr_lambdas"] == [None, {"rate": 0.5}]
    other = lr_scheduler.LambdaLR(_optimizers()[0], [lambda e: 1.0, Decay(0.9)])
    other.load_state_dict(state)
    assert other.lr_lambdas[1].rate == 0.5


def test_sequential_state_dict_holds_the_wrapped_schedulers():
    opt, theirs_opt = _optimizers()
    ours = SCHEDULES["SequentialLR"](lr_scheduler, opt)
    theirs = SCHEDULES["SequentialLR"](torch.optim.lr_scheduler, theirs_opt)
    assert set(ours.state_dict()) == set(theirs.state_dict())
    assert len(ours.state_dict()["_schedulers"]) == 2


@pytest.mark.parametrize("kwargs", [
    dict(),
    dict(mode="max", factor=0.5, patience=2),
    dict(patience=1, threshold=0.1, threshold_mode="abs", cooldown=2),
    dict(mode="max", patience=0, threshold_mode="abs", min_lr=[0.02, 0.001]),
    dict(factor=0.5, patience=0, min_lr=0.009, eps=1e-3),
])
def test_reduce_lr_on_plateau_matches_pytorch(kwargs):
    ours_opt, theirs_opt = _optimizers()
    ours = lr_scheduler.ReduceLROnPlateau(ours_opt, **kwargs)
    theirs = torch.optim.lr_scheduler.ReduceLROnPlateau(theirs_opt, **kwargs)
    # a loss that improves, stalls, wobbles and improves again
    metrics = [1.0, 0.8, 0.7, 0.7, 0.71, 0.69, 0.69, 0.7, 0.5, 0.5, 0.5, 0.5, 0.52, 0.4] * 4
    for i, metric in enumerate(metrics):
        ours_opt.step()
        theirs_opt.step()
        if i % 2:  # a 0-d (float32) tensor is accepted as well
            ours.step(rb.tensor(metric))
            theirs.step(torch.tensor(metric))
        else:
            ours.step(metric)
            theirs.step(metric)
        assert ours.get_last_lr() == theirs.get_last_lr()
        assert (ours.num_bad_epochs, ours.cooldown_counter, ours.best) == (
            theirs.num_bad_epochs, theirs.cooldown_counter, theirs.best)
    assert ours.get_last_lr() != [0.1, 0.01]  # it did reduce
    fresh = lr_scheduler.ReduceLROnPlateau(_optimizers()[0], **kwargs)
    fresh.load_state_dict(copy.deepcopy(ours.state_dict()))
    assert fresh.best == ours.best and fresh.num_bad_epochs == ours.num_bad_epochs


@pytest.mark.parametrize("name", [
    "StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LinearLR-warmup",
    "ConstantLR", "PolynomialLR", "CosineAnnealingWarmRestarts", "LambdaLR",
])
def test_explicit_epoch_warns_and_matches_pytorch(name):
    """The deprecated `step(epoch)` uses the closed form where there is one, as in PyTorch."""
    ours_opt, theirs_opt, ours, theirs = _pair(SCHEDULES[name])
    for epoch in (3, 15, 9, 30):
        ours_opt.step()
        theirs_opt.step()
        if name == "CosineAnnealingWarmRestarts":  # not deprecated there: fractional epochs
            ours.step(epoch + 0.25)
            theirs.step(epoch + 0.25)
        else:
            with pytest.warns(UserWarning, match="epoch parameter"):
                ours.step(epoch)
            with pytest.warns(UserWarning, match="epoch parameter"):
                theirs.step(epoch)
        assert ours.get_last_lr() == pytest.approx(theirs.get_last_lr(), rel=1e-12)


def test_warns_when_stepped_before_the_optimizer():
    opt, _ = _optimizers()
    sched = lr_scheduler.StepLR(opt, step_size=2)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        sched.step()


def test_get_lr_outside_step_warns():
    opt, _ = _optimizers()
    sched = lr_scheduler.ExponentialLR(opt, gamma=0.5)
    with pytest.warns(UserWarning, match="get_last_lr"):
        sched.get_lr()


def test_base_class_names_and_errors():
    assert issubclass(lr_scheduler._LRScheduler, lr_scheduler.LRScheduler)
    assert optim.lr_scheduler is lr_scheduler
    with pytest.raises(TypeError, match="is not an Optimizer"):
        lr_scheduler.StepLR(object(), step_size=1)
    opt, _ = _optimizers()
    with pytest.raises(ValueError, match="total_steps OR"):
        lr_scheduler.OneCycleLR(opt, max_lr=0.1)
    with pytest.raises(ValueError, match="Factor should be < 1.0"):
        lr_scheduler.ReduceLROnPlateau(opt, factor=1.0)
    with pytest.raises(KeyError, match="initial_lr"):
        lr_scheduler.StepLR(_optimizers()[0], step_size=1, last_epoch=3)
    one_cycle = lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=2)
    for _ in range(2):
        opt.step()
        one_cycle.step()
    with pytest.raises(ValueError, match="Tried to step 3 times"):
        opt.step()
        one_cycle.step()


def test_one_cycle_needs_momentum_or_betas_to_cycle():
    p = rb.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
        lr_scheduler.OneCycleLR(optim.Adagrad([p]), max_lr=0.1, total_steps=10)
