"""Optimizers step for step against PyTorch: the same parameters, the same gradients.

Each case runs 100 steps on three parameters in two groups (different learning rates);
the second parameter has no gradient every third step, so it must be skipped then.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

import rosenblatt as rb
from rosenblatt import optim

SHAPES = [(3, 4), (5,), (2, 1, 3)]
STEPS = 100
NAMES = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam"]

CASES = [
    ("SGD", dict(lr=0.05)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.5)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.05, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, maximize=True)),
    ("SGD", dict(lr=0.05, momentum=0.8, weight_decay=0.05, nesterov=True, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, maximize=True)),
    ("Adam", dict(lr=0.02, betas=(0.8, 0.99), eps=1e-3)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, amsgrad=True, maximize=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("AdamW", dict(lr=0.01, betas=(0.5, 0.9), maximize=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-4, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, maximize=True, centered=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.1)),
    ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.1, eps=1e-5)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05, maximize=True)),
    ("Adadelta", dict(lr=1.0)),
    ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-4)),
    ("Adadelta", dict(lr=1.0, weight_decay=0.1)),
    ("Adadelta", dict(lr=1.0, maximize=True)),
    ("Adadelta", dict(lr=1.0, rho=0.95, weight_decay=0.05, maximize=True)),
    ("Adamax", dict(lr=0.01)),
    ("Adamax", dict(lr=0.02, betas=(0.8, 0.99), eps=1e-3)),
    ("Adamax", dict(lr=0.01, weight_decay=0.1)),
    ("Adamax", dict(lr=0.01, maximize=True)),
    ("Adamax", dict(lr=0.01, weight_decay=0.1, maximize=True)),
    ("NAdam", dict(lr=0.01)),
    ("NAdam", dict(lr=0.02, betas=(0.8, 0.99), eps=1e-3, momentum_decay=0.1)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("NAdam", dict(lr=0.01, maximize=True)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
]

# float32 can't match bit for bit: PyTorch's CPU kernels fuse multiply-adds (`add` with alpha)
# that NumPy rounds twice. Measured over all cases: float64 worst absolute difference 1.8e-15,
# float32 9.5e-7 (parameters of size ~1 after 100 steps).
TOLERANCE = {"float64": dict(rtol=1e-10, atol=1e-12), "float32": dict(rtol=1e-6, atol=2e-6)}


def _gradients(dtype: str) -> list[list[np.ndarray | None]]:
    rng = np.random.default_rng(1)
    grads: list[list[np.ndarray | None]] = []
    for t in range(STEPS):
        step = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
        if t % 3 == 1:
            step[1] = None  # no gradient this step: the optimizer must leave it alone
        grads.append(step)
    return grads


def _make_pair(name: str, kwargs: dict, dtype: str) -> tuple:
    rng = np.random.default_rng(0)
    init = [rng.standard_normal(s).astype(dtype) for s in SHAPES]
    ours = [rb.tensor(a, requires_grad=True) for a in init]
    theirs = [torch.tensor(a, requires_grad=True) for a in init]

    def groups(params: list) -> list[dict]:
        return [{"params": params[:2]}, {"params": params[2:], "lr": kwargs["lr"] * 0.3}]

    ours_opt = getattr(optim, name)(groups(ours), foreach=False, **kwargs)
    theirs_opt = getattr(torch.optim, name)(groups(theirs), foreach=False, **kwargs)
    return ours, theirs, ours_opt, theirs_opt


def _run(params, opt, grads, make) -> None:
    """Feed the gradients (made with `make`: rb.tensor or torch.tensor) and step."""
    for step in grads:
        for p, g in zip(params, step):
            p.grad = None if g is None else make(g)
        opt.step()


def _run_both(ours, theirs, ours_opt, theirs_opt, grads) -> None:
    _run(ours, ours_opt, grads, rb.tensor)
    _run(theirs, theirs_opt, grads, torch.tensor)


def _assert_close(ours, theirs, dtype: str) -> None:
    for p, q in zip(ours, theirs):
        assert p.dtype == getattr(rb, dtype)
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), **TOLERANCE[dtype])


def _assert_same_state(ours_opt, theirs_opt, dtype: str) -> None:
    ours_sd, theirs_sd = ours_opt.state_dict(), theirs_opt.state_dict()
    assert ours_sd["state"].keys() == theirs_sd["state"].keys()
    for index, state in theirs_sd["state"].items():
        assert list(ours_sd["state"][index]) == list(state)  # PyTorch's entries, in its order
        for key, value in state.items():
            mine = ours_sd["state"][index][key]
            assert isinstance(mine, rb.Tensor)
            if key in ("step", "mu_product"):  # CPU float32 scalars whatever the parameter
                assert mine.dtype == rb.float32 and mine.shape == ()
            np.testing.assert_allclose(mine.numpy(), value.numpy(), **TOLERANCE[dtype])
    for mine, group in zip(ours_sd["param_groups"], theirs_sd["param_groups"]):
        assert mine == group


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_matches_pytorch_for_100_steps(name, kwargs, dtype):
    ours, theirs, ours_opt, theirs_opt = _make_pair(name, kwargs, dtype)
    _run_both(ours, theirs, ours_opt, theirs_opt, _gradients(dtype))
    _assert_close(ours, theirs, dtype)
    _assert_same_state(ours_opt, theirs_opt, dtype)


@pytest.mark.parametrize("name", NAMES)
def test_defaults_match_pytorch(name):
    ours = getattr(optim, name)([rb.zeros(2, requires_grad=True)])
    theirs = getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)])
    assert ours.defaults == theirs.defaults
    assert ours.state_dict()["param_groups"] == theirs.state_dict()["param_groups"]


@pytest.mark.parametrize("name,kwargs", [
    ("SGD", dict(lr=0.05, momentum=0.9)), ("Adam", dict(lr=0.01, amsgrad=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True)), ("Adagrad", dict(lr=0.1)),
    ("Adadelta", dict(lr=1.0, weight_decay=0.1)), ("Adamax", dict(lr=0.01, maximize=True)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
])
def test_state_dict_resumes_identically(name, kwargs):
    """Stop after 50 steps, reload into fresh parameters and optimizer, continue 50 steps."""
    grads = _gradients("float64")
    ours, theirs, ours_opt, theirs_opt = _make_pair(name, kwargs, "float64")
    _run_both(ours, theirs, ours_opt, theirs_opt, grads[:50])
    saved = ours_opt.state_dict()
    fresh = [rb.tensor(p.detach().numpy(), requires_grad=True) for p in ours]
    fresh_opt = getattr(optim, name)(
        [{"params": fresh[:2]}, {"params": fresh[2:]}], lr=123.0
    )
    fresh_opt.load_state_dict(saved)
    assert fresh_opt.param_groups[1]["lr"] == pytest.approx(kwargs["lr"] * 0.3)
    _run_both(ours, theirs, ours_opt, theirs_opt, grads[50:])
    _run(fresh, fresh_opt, grads[50:], rb.tensor)
    for p, q in zip(fresh, ours):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())


@pytest.mark.parametrize("name,kwargs", [
    ("Adam", dict(lr=0.01)), ("Adadelta", dict(lr=1.0)), ("Adamax", dict(lr=0.01)),
    ("NAdam", dict(lr=0.01, momentum_decay=0.1)),
])
def test_load_pytorch_state_dict_and_continue(name, kwargs):
    """A PyTorch optimizer's state dict loads into ours; both then take the same steps."""
    grads = _gradients("float64")
    ours, theirs, ours_opt, theirs_opt = _make_pair(name, kwargs, "float64")
    _run(theirs, theirs_opt, grads[:1], torch.tensor)
    for p, q in zip(ours, theirs):
        p.data = rb.tensor(q.detach().numpy())
    ours_opt.load_state_dict(theirs_opt.state_dict())
    step = ours_opt.state[ours[0]]["step"]
    assert isinstance(step, rb.Tensor) and step.dtype == rb.float32 and step.item() == 1
    if name == "NAdam":  # PyTorch's float32 scalar stays float32 beside float64 parameters
        assert ours_opt.state[ours[0]]["mu_product"].dtype == rb.float32
    _run_both(ours, theirs, ours_opt, theirs_opt, grads[1:])
    _assert_close(ours, theirs, "float64")


def test_load_state_dict_copies_the_state():
    p = rb.ones(3, requires_grad=True)
    opt = optim.SGD([p], lr=0.1, momentum=0.9)
    p.grad = rb.ones(3)
    opt.step()
    other = optim.SGD([rb.ones(3, requires_grad=True)], lr=0.1, momentum=0.9)
    other.load_state_dict(opt.state_dict())
    opt.step()
    assert other.state_dict()["state"][0]["momentum_buffer"].tolist() == [1.0, 1.0, 1.0]


def test_load_state_dict_rejects_mismatched_groups():
    a, b, c = (rb.zeros(2, requires_grad=True) for _ in range(3))
    opt = optim.Adam([{"params": [a, b]}, {"params": [c]}])
    with pytest.raises(ValueError, match="different number of parameter groups"):
        optim.Adam([a, b, c]).load_state_dict(opt.state_dict())
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        optim.Adam([{"params": [a]}, {"params": [b, c]}]).load_state_dict(opt.state_dict())


def test_state_dict_numbers_parameters_in_order():
    a, b, c = (rb.zeros(2, requires_grad=True) for _ in range(3))
    opt = optim.SGD([{"params": [a, b]}, {"params": [c], "lr": 0.5}], lr=0.1, momentum=0.9)
    for p in (a, c):
        p.grad = rb.ones(2)
    opt.step()
    sd = opt.state_dict()
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]]
    assert [g["lr"] for g in sd["param_groups"]] == [0.1, 0.5]
    assert sorted(sd["state"]) == [0, 2]  # b never had a gradient, so it has no state


# ------------------------------------------------------------------ construction errors
def test_errors_match_pytorch_wording():
    leaf = rb.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        optim.SGD([leaf * 2], lr=0.1)
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter"):
        optim.SGD([{"params": [leaf]}, {"params": [leaf]}], lr=0.1)
    with pytest.raises(TypeError, match="iterable of Tensors or dicts"):
        optim.SGD(leaf, lr=0.1)
    with pytest.raises(TypeError, match="optimizer can only optimize Tensors"):
        optim.SGD([leaf, 3.0], lr=0.1)
    with pytest.raises(TypeError, match="ordered collections"):
        optim.SGD([{"params": {leaf}}], lr=0.1)
    with pytest.raises(ValueError, match="Nesterov momentum requires a momentum and zero damp"):
        optim.SGD([leaf], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="Nesterov momentum requires a momentum and zero damp"):
        optim.SGD([leaf], lr=0.1, momentum=0.9, dampening=0.1, nesterov=True)
    with pytest.raises(ValueError, match="Invalid learning rate: -1"):
        optim.Adam([leaf], lr=-1)
    with pytest.raises(ValueError, match="Invalid beta parameter at index 1: 1.0"):
        optim.AdamW([leaf], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="Invalid momentum value"):
        optim.RMSprop([leaf], momentum=-0.1)
    with pytest.raises(ValueError, match="Invalid lr_decay value"):
        optim.Adagrad([leaf], lr_decay=-0.1)


BAD_ARGUMENTS = [
    ("Adadelta", dict(lr=-0.1), "Invalid learning rate: -0.1"),
    ("Adadelta", dict(rho=-0.1), "Invalid rho value: -0.1"),
    ("Adadelta", dict(rho=1.5), "Invalid rho value: 1.5"),
    ("Adadelta", dict(eps=-1e-6), "Invalid epsilon value: -1e-06"),
    ("Adadelta", dict(weight_decay=-1), "Invalid weight_decay value: -1"),
    ("Adamax", dict(lr=-1), "Invalid learning rate: -1"),
    ("Adamax", dict(eps=-1.0), "Invalid epsilon value: -1.0"),
    ("Adamax", dict(betas=(1.0, 0.999)), "Invalid beta parameter at index 0: 1.0"),
    ("Adamax", dict(betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
    ("Adamax", dict(weight_decay=-0.5), "Invalid weight_decay value: -0.5"),
    ("NAdam", dict(lr=-1e-3), "Invalid learning rate: -0.001"),
    ("NAdam", dict(eps=-1.0), "Invalid epsilon value: -1.0"),
    ("NAdam", dict(betas=(-0.1, 0.999)), "Invalid beta parameter at index 0: -0.1"),
    ("NAdam", dict(betas=(0.9, 1.0)), "Invalid beta parameter at index 1: 1.0"),
    ("NAdam", dict(weight_decay=-0.5), "Invalid weight_decay value: -0.5"),
    ("NAdam", dict(momentum_decay=-0.1), "Invalid momentum_decay value: -0.1"),
]


@pytest.mark.parametrize("name,kwargs,message", BAD_ARGUMENTS,
                         ids=[f"{n}-{k}" for n, k, _ in BAD_ARGUMENTS])
def test_bad_hyper_parameters_fail_like_pytorch(name, kwargs, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], **kwargs)
    with pytest.raises(ValueError, match=re.escape(message)):
        getattr(optim, name)([rb.zeros(2, requires_grad=True)], **kwargs)


@pytest.mark.parametrize("name,kwargs", [
    ("Adadelta", dict(lr=0, rho=0.0, eps=0, weight_decay=0)), ("Adadelta", dict(rho=1.0)),
    ("Adamax", dict(lr=0, betas=(0.0, 0.0), eps=0)), ("NAdam", dict(momentum_decay=0)),
])
def test_boundary_hyper_parameters_are_accepted_like_pytorch(name, kwargs):
    getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], **kwargs)
    getattr(optim, name)([rb.zeros(2, requires_grad=True)], **kwargs)


def test_duplicate_parameter_in_a_group_warns_like_pytorch():
    leaf = rb.zeros(2, requires_grad=True)
    with pytest.warns(UserWarning, match="duplicate parameters"):
        optim.SGD([leaf, leaf], lr=0.1)


# ------------------------------------------------------------------ behaviour
@pytest.mark.parametrize("name", NAMES)
def test_step_updates_in_place_and_leaves_gradients_alone(name):
    """Two parameters share one gradient array: neither it nor the parameter object changes."""
    a, b = rb.ones(4, requires_grad=True), rb.ones(4, requires_grad=True)
    shared = np.full(4, 0.5, dtype=np.float32)
    a.grad, b.grad = rb.from_numpy(shared), rb.from_numpy(shared)
    arrays, versions = [a._data, b._data], [a._version, b._version]
    kwargs = dict(momentum=0.9) if name in ("SGD", "RMSprop") else {}
    opt = getattr(optim, name)([a, b], lr=0.1, weight_decay=0.1, **kwargs)
    opt.step()
    opt.step()
    assert shared.tolist() == [0.5] * 4
    assert a._data is arrays[0] and b._data is arrays[1]
    assert a._version == versions[0] + 2 and b._version == versions[1] + 2
    assert (a.detach().numpy() < 1).all() and a.dtype == rb.float32


def test_step_after_backward_and_version_check():
    """A parameter saved for backward and then updated makes that backward fail loudly."""
    w = rb.tensor([1.0, 2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    (w * w).sum().backward()
    opt.step()
    assert w.tolist() == pytest.approx([0.8, 1.6])
    loss = (w * w).sum()
    w.grad = rb.ones(2)
    opt.step()
    with pytest.raises(RuntimeError):
        loss.backward()


def test_zero_grad():
    a, b = rb.ones(3, requires_grad=True), rb.ones(3, requires_grad=True)
    opt = optim.SGD([a, b], lr=0.1)
    (a * b).sum().backward()
    opt.zero_grad()
    assert a.grad is None and b.grad is None
    shared = np.ones(3, dtype=np.float32)
    a.grad = rb.from_numpy(shared)
    grad_object = a.grad
    opt.zero_grad(set_to_none=False)
    assert a.grad is grad_object and a.grad.tolist() == [0.0, 0.0, 0.0]
    assert shared.tolist() == [1.0, 1.0, 1.0]  # the old array may be someone else's
    (a * 2).sum().backward()
    assert a.grad.tolist() == [2.0, 2.0, 2.0]


def test_closure_is_evaluated_with_grad_enabled():
    w = rb.tensor([3.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss

    with rb.no_grad():
        loss = opt.step(closure)
    assert loss.item() == 9.0 and w.item() == pytest.approx(1.5)


def test_add_param_group_and_mutable_lr():
    a, b = rb.ones(2, requires_grad=True), rb.ones(2, requires_grad=True)
    opt = optim.SGD([a], lr=0.1, momentum=0.5)
    opt.add_param_group({"params": b, "lr": 0.01})
    assert opt.param_groups[1]["momentum"] == 0.5  # defaults fill in
    opt.param_groups[0]["lr"] = 1.0
    a.grad, b.grad = rb.ones(2), rb.ones(2)
    opt.step()
    assert a.tolist() == [0.0, 0.0] and b.tolist() == pytest.approx([0.99, 0.99])
    assert "Parameter Group 1" in repr(opt)


def test_named_parameters_are_accepted():
    a = rb.ones(2, requires_grad=True)
    opt = optim.Adam([("weight", a)], lr=0.1)
    assert opt.param_groups[0]["param_names"] == ["weight"]
    assert opt.state_dict()["param_groups"][0]["param_names"] == ["weight"]


def test_adagrad_state_exists_before_the_first_step_like_pytorch():
    p = rb.zeros(3, requires_grad=True)
    opt = optim.Adagrad([p], initial_accumulator_value=0.5)
    theirs = torch.optim.Adagrad([torch.zeros(3, requires_grad=True)],
                                 initial_accumulator_value=0.5)
    assert opt.state_dict()["state"][0].keys() == theirs.state_dict()["state"][0].keys()
    assert opt.state[p]["sum"].tolist() == [0.5, 0.5, 0.5]


@pytest.mark.parametrize("name,kwargs", [
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)), ("Adam", dict(lr=0.01, amsgrad=True)),
    ("AdamW", dict(lr=0.01)), ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01)), ("Adadelta", dict(lr=1.0, weight_decay=0.1)),
    ("Adamax", dict(lr=0.01)), ("NAdam", dict(lr=0.01, momentum_decay=0.1)),
])
def test_on_each_device_like_on_the_cpu(name, kwargs, device):
    """The update runs on the parameter's device (CuPy on a GPU) and agrees with the CPU."""
    grads = _gradients("float64")[:20]
    cpu = [rb.tensor(np.ones(s), requires_grad=True) for s in SHAPES]
    there = [rb.tensor(np.ones(s)).to(device).requires_grad_() for s in SHAPES]
    cpu_opt, there_opt = getattr(optim, name)(cpu, **kwargs), getattr(optim, name)(there, **kwargs)
    _run(cpu, cpu_opt, grads, rb.tensor)
    _run(there, there_opt, grads, lambda g: rb.tensor(g).to(device))
    for p, q in zip(cpu, there):
        assert q.device.type == device
        np.testing.assert_allclose(q.detach().cpu().numpy(), p.detach().numpy(), rtol=1e-10)
    state = there_opt.state_dict()["state"][0]
    assert state.get("step", rb.zeros(())).device.type == "cpu"
    reloaded = getattr(optim, name)([rb.ones(s).double() for s in SHAPES], **kwargs)
    reloaded.load_state_dict(there_opt.state_dict())  # a GPU checkpoint loads on the CPU
    for key, value in reloaded.state_dict()["state"][0].items():
        assert value.device.type == "cpu", key


def test_a_custom_optimizer_written_the_pytorch_way():
    """Subclass Optimizer, override step() with tensor methods under no_grad: it works."""

    class SignSGD(optim.Optimizer):
        def __init__(self, params, lr=0.01):
            super().__init__(params, dict(lr=lr))

        @rb.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        p.add_(p.grad.sign(), alpha=-group["lr"])
                        self.state[p]["steps"] = self.state[p].get("steps", 0) + 1

    w = rb.tensor([1.0, -2.0, 0.5], requires_grad=True)
    opt = SignSGD([w], lr=0.25)
    (w * w).sum().backward()
    opt.step()
    assert w.tolist() == [0.75, -1.75, 0.25]
    assert opt.state_dict()["state"] == {0: {"steps": 1}}
