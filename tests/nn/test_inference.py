"""Sequential's no-grad fast path (nn/modules/_inference.py): same results as the ordinary path,
and it steps aside whenever the ordinary path would behave differently."""

import copy

import numpy as np
import pytest

import rosenblatt as rb
from rosenblatt import nn
from rosenblatt.nn.modules import _inference


def _net(dtype=rb.float32):
    rb.manual_seed(0)
    return nn.Sequential(
        nn.Flatten(), nn.Linear(12, 8), nn.ReLU(), nn.Dropout(0.3),
        nn.Sequential(nn.Linear(8, 6), nn.Tanh()), nn.Identity(), nn.Linear(6, 4), nn.Sigmoid(),
    ).to(dtype).eval()


def _planned(seq, width=None) -> bool:
    """Whether `seq` ran through a plan under no_grad."""
    width = width or next(iter(seq.parameters())).shape[1]
    with rb.no_grad():
        seq(rb.zeros(1, width))
    return seq.__dict__["_plan"][2] is not None


@pytest.mark.parametrize("shape", [(1, 12), (5, 3, 4), (2, 2, 12)])
@pytest.mark.parametrize("dtype", [rb.float32, rb.float64])
def test_planned_output_equals_the_ordinary_path(shape, dtype):
    net = _net(dtype)
    x = rb.randn(*shape, dtype=dtype)
    if len(shape) == 3 and shape[-1] == 12:
        net[0] = nn.Identity()  # (2, 2, 12): Linear over the last dim of a 3-d input
    ordinary = net(x)  # grad mode on: the module-by-module path
    assert ordinary.requires_grad
    with rb.no_grad():
        fast = net(x)
    assert net.__dict__["_plan"][2] is not None  # the fast path really ran
    assert not fast.requires_grad and fast.grad_fn is None
    assert fast.dtype == ordinary.dtype and fast.shape == ordinary.shape
    np.testing.assert_array_equal(fast.numpy(), ordinary.detach().numpy())


def test_a_vector_input_works_like_the_ordinary_path():
    net = nn.Sequential(nn.Linear(3, 2), nn.ReLU())
    x = rb.randn(3)
    with rb.no_grad():
        fast = net(x)
    np.testing.assert_array_equal(fast.numpy(), net(x).detach().numpy())


@pytest.mark.parametrize("make", [
    lambda: nn.Sequential(nn.Linear(4, 4), nn.ReLU(inplace=True)),
    lambda: nn.Sequential(nn.Linear(4, 4), nn.GELU()),  # not in the kernel table
    lambda: nn.Sequential(nn.Linear(4, 4), type("MyReLU", (nn.ReLU,), {})()),  # a subclass
    lambda: nn.Sequential(nn.Linear(4, 4), nn.Dropout(0.5)),  # training mode
    lambda: nn.Sequential(nn.Flatten(), nn.Identity()),  # only views: keep version tracking
])
def test_layers_that_must_run_as_modules_disable_the_plan(make):
    assert not _planned(make(), width=4)


def test_a_hook_added_after_a_planned_call_is_called():
    net = _net()
    x = rb.randn(2, 12)
    assert _planned(net)
    seen = []
    handle = net[2].register_forward_hook(lambda m, args, out: seen.append(out.shape))
    with rb.no_grad():
        net(x)
    assert seen == [(2, 8)]
    handle.remove()
    assert _planned(net)
    with rb.no_grad():
        net(x)
    assert len(seen) == 1


def test_a_replaced_layer_or_parameter_is_used():
    net = _net()
    x = rb.randn(2, 12)
    assert _planned(net)
    net[6] = nn.Linear(6, 4, bias=False)
    with rb.no_grad():
        np.testing.assert_array_equal(net(x).numpy(), net[7](net[6](net[:6](x))).numpy())
    net[1].weight = nn.Parameter(rb.zeros(8, 12))
    with rb.no_grad():
        np.testing.assert_array_equal(net(x).numpy(), net[7](net[6](net[:6](x))).numpy())
        hidden = net[:4](x)
    np.testing.assert_array_equal(hidden.numpy(), np.maximum(net[1].bias.detach().numpy(), 0)[None]
                                  .repeat(2, 0))


def test_training_mode_and_state_dict_loads_take_effect():
    net = _net()
    x = rb.randn(64, 12)
    with rb.no_grad():
        before = net(x).numpy()
        net.train()
        dropped = net[:4](x).numpy()  # Dropout active: about 30% zeros among the positives
        net.eval()
        assert (dropped == 0).mean() > (net[:4](x).numpy() == 0).mean()
    state = {k: v * 2 for k, v in net.state_dict().items()}
    net.load_state_dict(state)
    with rb.no_grad():
        after = net(x).numpy()
    assert not np.array_equal(before, after)
    np.testing.assert_array_equal(after, net(x).detach().numpy())


def test_a_deep_copy_uses_its_own_parameters():
    net = _net()
    x = rb.randn(3, 12)
    assert _planned(net)
    twin = copy.deepcopy(net)
    with rb.no_grad():
        twin[1].weight.mul_(0)
        np.testing.assert_array_equal(net(x).numpy(), net(x).numpy())
        assert not np.array_equal(twin(x).numpy(), net(x).numpy())
        np.testing.assert_array_equal(twin(x).numpy(), twin[1:](twin[0](x)).numpy())


def test_bad_input_gets_the_ordinary_error_naming_the_shapes():
    net = _net()
    with rb.no_grad(), pytest.raises(RuntimeError, match=r"input \(2x10\) by weight\^T \(12x8\)"):
        net(rb.randn(2, 10))
    with rb.no_grad(), pytest.raises(RuntimeError, match="same dtype"):
        net(rb.randn(2, 12, dtype=rb.float64))


def test_integer_input_to_tanh_is_cast_as_in_the_ordinary_path():
    net = nn.Sequential(nn.Tanh(), nn.Sigmoid())
    x = rb.tensor([[-1, 0, 2]])
    with rb.no_grad():
        fast = net(x)
    np.testing.assert_array_equal(fast.numpy(), net[1](net[0](x)).numpy())
    assert fast.dtype == rb.get_default_dtype()


def test_anomaly_mode_still_checks_every_layer():
    net = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    x = rb.tensor([[float("nan"), 1.0]])
    with rb.no_grad():
        assert np.isnan(net(x).numpy()).any()  # the plan does not check
        with rb.autograd.detect_anomaly(), pytest.raises(RuntimeError, match="nan|NaN"):
            net(x)


def test_changes_counter_moves_on_every_kind_of_change():
    layer = nn.Linear(2, 2)
    for change in (lambda: setattr(layer, "note", 1),
                   lambda: layer.register_buffer("b", rb.zeros(1)),
                   lambda: layer.register_forward_pre_hook(lambda m, a: None).remove(),
                   lambda: delattr(layer, "note"),
                   lambda: layer.train(False)):
        before = nn.modules.module.Changes.count
        change()
        assert nn.modules.module.Changes.count > before
    assert _inference.plan(nn.Sequential(layer)) is not None


def test_planned_output_on_each_device(device):
    net = _net().to(device)
    x = rb.randn(4, 12).to(device)
    ordinary = net(x)
    with rb.no_grad():
        fast = net(x)
    assert net.__dict__["_plan"][2] is not None
    assert fast.device == ordinary.device
    np.testing.assert_array_equal(fast.cpu().numpy(), ordinary.detach().cpu().numpy())


def test_planned_calls_from_threads_each_get_their_own_scratch() -> None:
    from concurrent.futures import ThreadPoolExecutor

    net = nn.Sequential(nn.Linear(5, 7), nn.ReLU(), nn.Linear(7, 3)).eval()
    inputs = [rb.randn(*shape, 5) for shape in ((2, 3), (4,), (1, 6), (3, 1, 2))] * 8
    def planned(x):
        with rb.no_grad():  # grad mode is per thread
            return net(x)

    with rb.no_grad():
        expected = [net[2](net[1](net[0](x))) for x in inputs]  # layer by layer, no plan
        assert _inference.plan(net) is not None
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(planned, inputs))
    for out, ref in zip(results, expected):
        np.testing.assert_array_equal(out.numpy(), ref.numpy())
