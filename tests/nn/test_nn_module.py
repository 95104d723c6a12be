"""Module: registration, traversal, modes, hooks, state dicts (exchanged with PyTorch), repr."""

from __future__ import annotations

import copy
from collections import OrderedDict

import numpy as np
import pytest
import torch
from nn_parity import assert_close

import rosenblatt as rb
from rosenblatt import nn


def torch_net() -> torch.nn.Module:
    return torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.BatchNorm1d(6), torch.nn.ReLU(),
                               torch.nn.Dropout(0.2), torch.nn.Linear(6, 3))


def our_net() -> nn.Module:
    return nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Dropout(0.2),
                         nn.Linear(6, 3))


class Block(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 2)
        self.bn = nn.BatchNorm1d(2)
        self.scale = nn.Parameter(rb.ones(2))
        self.register_buffer("steps", rb.zeros(1))
        self.register_buffer("cache", rb.zeros(2), persistent=False)

    def forward(self, x):
        return self.bn(self.fc(x)) * self.scale


def test_attribute_registration_and_traversal():
    m = Block()
    assert [n for n, _ in m.named_parameters()] == ["scale", "fc.weight", "fc.bias",
                                                    "bn.weight", "bn.bias"]
    assert [n for n, _ in m.named_buffers()] == ["steps", "cache", "bn.running_mean",
                                                 "bn.running_var", "bn.num_batches_tracked"]
    assert [n for n, _ in m.named_children()] == ["fc", "bn"]
    assert [n for n, _ in m.named_modules()] == ["", "fc", "bn"]
    assert len(list(m.parameters(recurse=False))) == 1
    assert list(m.state_dict()) == ["scale", "steps", "fc.weight", "fc.bias", "bn.weight",
                                    "bn.bias", "bn.running_mean", "bn.running_var",
                                    "bn.num_batches_tracked"]
    del m.fc
    assert "fc" not in dict(m.named_children())
    with pytest.raises(AttributeError, match="has no attribute 'fc'"):
        _ = m.fc
    m.scale = None
    assert "scale" not in dict(m.named_parameters())
    with pytest.raises(TypeError, match="cannot assign 'Tensor' as parameter 'scale'"):
        m.scale = rb.ones(2)


def test_get_submodule_parameter_and_buffer_by_dotted_path():
    m = nn.Sequential(Block())
    assert m.get_submodule("0.bn") is m[0].bn
    assert m.get_parameter("0.fc.weight") is m[0].fc.weight
    assert m.get_parameter("0.scale") is m[0].scale
    assert m.get_buffer("0.bn.running_var") is m[0].bn.running_var
    assert m.get_buffer("0.steps") is m[0].steps
    with pytest.raises(AttributeError, match="BatchNorm1d has no parameter `running_var`"):
        m.get_parameter("0.bn.running_var")
    with pytest.raises(AttributeError, match="Linear has no buffer `weight`"):
        m.get_buffer("0.fc.weight")
    with pytest.raises(AttributeError, match="Block has no attribute `conv`"):
        m.get_buffer("0.conv.steps")


def test_shared_parameters_are_listed_once():
    shared = nn.Linear(2, 2)
    model = nn.Sequential(shared, nn.ReLU(), shared)
    assert len(list(model.parameters())) == 2
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_parameter_is_a_tensor_with_torch_like_repr():
    p = nn.Parameter(rb.tensor([1.0, 2.0]))
    assert isinstance(p, rb.Tensor) and p.requires_grad and p.is_leaf
    assert repr(p) == "Parameter containing:\n" + repr(rb.tensor([1.0, 2.0],
                                                                   requires_grad=True))
    assert not nn.Parameter(rb.ones(1), requires_grad=False).requires_grad
    assert isinstance(p * 2, rb.Tensor) and not isinstance(p * 2, nn.Parameter)


def test_train_eval_requires_grad_and_zero_grad():
    m = Block()
    assert m.training and m.bn.training
    m.eval()
    assert not m.training and not m.bn.training
    m.train()
    assert m.bn.training
    m(rb.randn(4, 3)).sum().backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.numpy().any() for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())
    m.requires_grad_(False)
    assert not any(p.requires_grad for p in m.parameters())


def test_apply_to_and_double():
    m = Block()
    seen = []
    m.apply(lambda mod: seen.append(type(mod).__name__))
    assert seen == ["Linear", "BatchNorm1d", "Block"]
    weight = m.fc.weight
    m.double()
    assert m.fc.weight is weight and weight.dtype == rb.float64
    assert m.bn.running_mean.dtype == rb.float64
    assert m.bn.num_batches_tracked.dtype == rb.int64  # integer buffers keep their type
    m.to(rb.float32)
    assert m.fc.weight.dtype == rb.float32
    assert m.to("cpu") is m


def test_hooks_run_can_replace_values_and_be_removed():
    m = nn.Linear(2, 2)
    calls = []
    pre = m.register_forward_pre_hook(lambda mod, args: (args[0] * 0,))
    post = m.register_forward_hook(lambda mod, args, out: calls.append(out.shape) or out + 1)
    out = m(rb.ones(3, 2))
    expected = m.bias.detach().numpy() + 1
    np.testing.assert_allclose(out.detach().numpy(), np.broadcast_to(expected, (3, 2)))
    assert calls == [(3, 2)]
    pre.remove()
    post.remove()
    out = m(rb.ones(3, 2))
    assert calls == [(3, 2)]
    assert_close(out, torch.ones(3, 2) @ torch.tensor(m.weight.detach().numpy()).T
                 + torch.tensor(m.bias.detach().numpy()), rtol=1e-6)


def test_hooks_with_kwargs_and_prepend():
    class Scale(nn.Module):
        def forward(self, x, factor=1.0):
            return x * factor

    m = Scale()
    order = []
    m.register_forward_pre_hook(lambda mod, args, kwargs: (args, {"factor": 3.0}),
                                with_kwargs=True)
    m.register_forward_hook(lambda mod, args, kwargs, out: order.append(("kw", kwargs)),
                            with_kwargs=True)
    m.register_forward_hook(lambda mod, args, out: order.append("first"), prepend=True)
    assert m(rb.tensor([2.0])).tolist() == [6.0]
    assert order == ["first", ("kw", {"factor": 3.0})]


def test_backward_hooks_see_and_replace_output_gradient():
    m = nn.Linear(2, 3)
    grads = []
    handle = m.register_full_backward_hook(lambda mod, gin, gout: grads.append(gout[0].shape))
    m.register_full_backward_pre_hook(lambda mod, gout: (gout[0] * 2,))
    x = rb.ones(4, 2, requires_grad=True)
    m(x).sum().backward()
    assert grads == [(4, 3)]
    expected = 2 * m.weight.detach().numpy().sum(0)
    np.testing.assert_allclose(x.grad.numpy(), np.broadcast_to(expected, (4, 2)), rtol=1e-6)
    handle.remove()
    m(x).sum().backward()
    assert grads == [(4, 3)]


def test_state_dict_round_trip_with_torch_both_ways():
    theirs = torch_net().double()
    theirs.train()
    theirs(torch.randn(8, 4, dtype=torch.float64))  # non-trivial running stats
    theirs.eval()
    ours = our_net().double().eval()
    state = {k: v.numpy() for k, v in theirs.state_dict().items()}
    result = ours.load_state_dict(state)
    assert result.missing_keys == [] and result.unexpected_keys == []
    x = np.random.default_rng(0).standard_normal((5, 4))
    assert_close(ours(rb.tensor(x)), theirs(torch.tensor(x)))
    # and back: a fresh torch model loads ours
    back = torch_net().double().eval()
    back.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    assert_close(ours(rb.tensor(x)), back(torch.tensor(x)))
    assert int(ours[1].num_batches_tracked.item()) == 1


def test_state_dict_values_are_detached_views_and_copies_on_load():
    m = nn.Linear(2, 2)
    sd = m.state_dict()
    assert not sd["weight"].requires_grad
    sd["weight"].numpy()[...] = 5  # shares memory, like PyTorch
    assert (m.weight.detach().numpy() == 5).all()
    source = {"weight": np.zeros((2, 2)), "bias": np.ones(2)}
    m.load_state_dict(source)
    source["bias"][0] = 9
    assert m.bias.detach().numpy().tolist() == [1, 1]
    assert m.weight.dtype == rb.float32


def test_load_state_dict_errors_list_keys_and_shapes():
    m = nn.Sequential(nn.Linear(2, 3))
    state = {"0.weight": np.zeros((4, 2)), "extra": np.zeros(1)}
    with pytest.raises(RuntimeError) as info:
        m.load_state_dict(state)
    text = str(info.value)
    assert text.startswith("Error(s) in loading state_dict for Sequential:")
    assert 'Missing key(s) in state_dict: "0.bias"' in text
    assert 'Unexpected key(s) in state_dict: "extra"' in text
    assert "size mismatch for 0.weight" in text and "[4, 2]" in text and "[3, 2]" in text
    result = m.load_state_dict({"0.weight": np.zeros((3, 2)), "extra": 1}, strict=False)
    assert result.missing_keys == ["0.bias"] and result.unexpected_keys == ["extra"]


def test_load_state_dict_without_num_batches_tracked_is_allowed():
    bn = nn.BatchNorm1d(2)
    state = {k: v for k, v in bn.state_dict().items() if k != "num_batches_tracked"}
    assert bn.load_state_dict(state).missing_keys == []


def test_repr_matches_torch():
    ours, theirs = our_net(), torch_net()
    assert repr(ours) == repr(theirs)
    assert repr(nn.ModuleList([nn.Linear(2, 2), nn.Linear(2, 2), nn.ReLU()])) == repr(
        torch.nn.ModuleList([torch.nn.Linear(2, 2), torch.nn.Linear(2, 2), torch.nn.ReLU()]))
    for name, args in [("Flatten", ()), ("Unflatten", (1, (2, 3))), ("LayerNorm", ((2, 3),)),
                       ("Embedding", (5, 3, 0)), ("GELU", ("tanh",)), ("Softmax", (1,)),
                       ("LeakyReLU", ()), ("ELU", ()), ("Softplus", ()), ("ReLU", (True,)),
                       ("Bilinear", (2, 3, 4)), ("CrossEntropyLoss", ()), ("Identity", ()),
                       ("BatchNorm2d", (4,)), ("Dropout", (0.25,)), ("GroupNorm", (2, 4)),
                       ("ReLU6", ()), ("Hardtanh", (-2, 2)), ("PReLU", (3,)), ("Mish", ()),
                       ("SELU", ()), ("LogSigmoid", ()), ("Softmin", (1,)),
                       ("CELU", (1.0, True)), ("Threshold", (0.1, 2.0, True)),
                       ("Hardsigmoid", (True,)), ("ELU", (0.5, True)), ("LeakyReLU", (0.2, True)),
                       ("Hardtanh", (-2, 2, True)), ("ReLU6", (True,)), ("Softmax", ()),
                       ("LogSoftmax", (1,)), ("LogSoftmax", ())]:
        assert repr(getattr(nn, name)(*args)) == repr(getattr(torch.nn, name)(*args)), name

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(1, 2))
            self.head = nn.Linear(2, 1)

    class TNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.body = torch.nn.Sequential(torch.nn.Linear(1, 2))
            self.head = torch.nn.Linear(2, 1)

    assert repr(Net()).replace("Net", "X") == repr(TNet()).replace("TNet", "X")


def test_deepcopy_gives_independent_weights():
    m = Block()
    twin = copy.deepcopy(m)
    assert twin.fc.weight is not m.fc.weight
    assert_close(twin.fc.weight, torch.tensor(m.fc.weight.detach().numpy()))
    twin.fc.weight.data.numpy()[...] = 0
    assert m.fc.weight.detach().numpy().any()
    assert isinstance(twin.fc.weight, nn.Parameter)


def test_forward_missing_and_registration_errors():
    with pytest.raises(NotImplementedError, match='missing the required "forward"'):
        nn.Module()(1)
    m = nn.Module()
    with pytest.raises(KeyError, match="contain"):
        m.register_buffer("a.b", rb.zeros(1))
    with pytest.raises(TypeError):
        m.register_parameter("w", rb.zeros(1))


def test_sequential_indexing_slicing_and_mutation():
    a, b, c = nn.Linear(1, 2), nn.ReLU(), nn.Linear(2, 1)
    seq = nn.Sequential(a, b, c)
    assert len(seq) == 3 and seq[0] is a and seq[-1] is c
    sub = seq[1:]
    assert isinstance(sub, nn.Sequential) and list(sub) == [b, c]
    seq[1] = nn.Tanh()
    assert isinstance(seq[1], nn.Tanh)
    seq.append(nn.Sigmoid())
    assert len(seq) == 4 and list(seq._modules) == ["0", "1", "2", "3"]
    del seq[1]
    assert list(seq._modules) == ["0", "1", "2"] and seq[1] is c
    named = nn.Sequential(OrderedDict([("fc", a), ("act", b)]))
    assert list(named.state_dict()) == ["fc.weight", "fc.bias"]
    assert named.fc is a
    with pytest.raises(IndexError):
        seq[10]
    out = nn.Sequential(nn.Linear(3, 2), nn.ReLU())(rb.randn(4, 3))
    assert out.shape == (4, 2)


def test_module_list_and_dict():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(layers) == 3 and len(list(layers.parameters())) == 6
    layers.append(nn.ReLU())
    assert isinstance(layers[-1], nn.ReLU) and isinstance(layers[:2], nn.ModuleList)
    holder = nn.Module()
    holder.layers = layers
    assert "layers.0.weight" in holder.state_dict()
    d = nn.ModuleDict({"a": nn.Linear(1, 1), "b": nn.ReLU()})
    assert list(d.keys()) == ["a", "b"] and "a" in d and len(d) == 2
    d["c"] = nn.Tanh()
    assert list(d) == ["a", "b", "c"]
    assert list(d.state_dict()) == ["a.weight", "a.bias"]
    params = nn.ParameterList([nn.Parameter(rb.ones(2)), rb.zeros(3)])
    assert [n for n, _ in params.named_parameters()] == ["0", "1"] and len(params) == 2


def test_float32_model_and_loss_match_torch_and_stay_float32():
    theirs = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.BatchNorm1d(8), torch.nn.GELU(),
                                 torch.nn.Linear(8, 8), torch.nn.LayerNorm(8), torch.nn.SiLU(),
                                 torch.nn.Linear(8, 4))
    ours = nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.GELU(), nn.Linear(8, 8),
                         nn.LayerNorm(8), nn.SiLU(), nn.Linear(8, 4))
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    x = np.random.default_rng(1).standard_normal((16, 6)).astype(np.float32)
    y = np.random.default_rng(2).integers(0, 4, 16)
    loss_r = nn.CrossEntropyLoss()(ours(rb.tensor(x)), rb.tensor(y))
    loss_t = torch.nn.CrossEntropyLoss()(theirs(torch.tensor(x)), torch.tensor(y))
    loss_r.backward()
    loss_t.backward()
    assert loss_r.dtype == rb.float32
    assert_close(loss_r, loss_t, rtol=1e-5, atol=1e-6)
    for (name, p), tp in zip(ours.named_parameters(), theirs.parameters()):
        assert p.grad.dtype == rb.float32, name
        assert_close(p.grad, tp.grad, rtol=1e-4, atol=1e-6)
