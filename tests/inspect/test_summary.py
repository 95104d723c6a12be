"""rosenblatt.summary: exact parameter, byte and multiply-add counts, memory totals, registry."""

import math

import pytest

import rosenblatt as rb
from rosenblatt import nn
from rosenblatt.inspect import register_macs, summary
from rosenblatt.inspect.summary import MAC_RULES
from rosenblatt.models.mlp import MLP


def _net_784_100_100_10():
    return nn.Sequential(nn.Linear(784, 100), nn.ReLU(), nn.Linear(100, 100), nn.ReLU(),
                         nn.Linear(100, 10), nn.Softmax(dim=1))


@pytest.mark.parametrize("make", [_net_784_100_100_10, lambda: MLP(784, [100, 100], 10)])
def test_the_784_100_100_10_network(make):
    s = rb.summary(make(), (784,))
    assert s.total_params == 89_610 == s.trainable_params
    assert s.param_bytes == 358_440
    assert s.macs == 89_400
    text = str(s)
    assert "89,610" in text and "358,440" in text and "89,400" in text


def test_per_layer_rows_and_memory_totals_for_a_batch():
    model = _net_784_100_100_10()
    s = summary(model, (784,), batch_size=32, optimizer="adam")
    assert [r.type for r in s.layers] == ["Linear", "ReLU", "Linear", "ReLU", "Linear",
                                          "Softmax"]
    assert [r.output_shape for r in s.layers] == [[32, 100]] * 4 + [[32, 10]] * 2
    assert [r.params for r in s.layers] == [78_500, 0, 10_100, 0, 1_010, 0]
    assert [r.macs for r in s.layers] == [78_400, 0, 10_000, 0, 1_000, 0]
    assert s.total_macs == 32 * 89_400
    acts = 32 * 4 * (100 * 4 + 10 * 2)
    assert s.activation_bytes == acts and s.layers[0].activation_bytes == 32 * 100 * 4
    assert s.input_bytes == 32 * 784 * 4
    assert s.optimizer == "Adam" and s.optimizer_copies == 2
    assert s.training_bytes == 358_440 * 4 + acts + s.input_bytes
    largest = 32 * 4 * (784 + 100)  # the first layer's input and output
    assert s.inference_bytes == 358_440 + s.input_bytes + largest
    d = s.to_dict()
    assert d["macs"] == 89_400 and len(d["layers"]) == 6


def test_optimizer_state_copies():
    model = _net_784_100_100_10()
    sgd = summary(model, (784,), optimizer="sgd")
    assert sgd.optimizer_bytes == 0
    momentum = summary(model, (784,), optimizer=rb.optim.SGD(model.parameters(), 0.1, 0.9))
    assert momentum.optimizer_copies == 1 and momentum.optimizer_bytes == 358_440
    adam = summary(model, (784,), optimizer=rb.optim.Adam(model.parameters()))
    assert adam.optimizer_copies == 2 and "Adam (2 state copies)" in str(adam)
    with pytest.raises(ValueError, match="unknown optimizer"):
        summary(model, (784,), optimizer="lbfgs2")


def test_frozen_parameters_need_no_gradient_or_optimizer_state():
    model = _net_784_100_100_10()
    model[0].requires_grad_(False)
    s = summary(model, (784,), optimizer="adam")
    assert s.trainable_params == 89_610 - 78_500
    assert s.gradient_bytes == 4 * (89_610 - 78_500)
    assert s.optimizer_bytes == 2 * s.gradient_bytes


def test_conv_rule_output_elements_times_kernel_volume_per_group():
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(),
                          nn.Conv2d(8, 8, 3, groups=4), nn.Flatten())
    s = summary(model, (3, 10, 10))
    assert s.layers[0].macs == 8 * 10 * 10 * 3 * 9
    assert s.layers[2].macs == 8 * 8 * 8 * (8 // 4) * 9
    assert s.total_params == sum(p.numel() for p in model.parameters())


def test_lstm_rule():
    model = nn.LSTM(8, 16, num_layers=2, batch_first=True)
    s = summary(model, (5, 8), batch_size=3)
    per_step = 4 * 16 * (8 + 16) + 4 * 16 * (16 + 16)
    assert s.macs == 5 * per_step
    assert s.layers[0].output_shape[0] == [3, 5, 16]


def test_registry_is_keyed_by_class_and_hides_the_subtree():
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = nn.Linear(4, 4)

        def forward(self, x):
            return self.inner(x).relu()

    register_macs(Block)(lambda m, inputs, out: 1000 * out.shape[0])
    try:
        s = summary(nn.Sequential(Block(), nn.Linear(4, 2)), (4,), batch_size=2)
    finally:
        del MAC_RULES[Block]
    assert [r.type for r in s.layers] == ["Block", "Linear"]
    assert [r.macs for r in s.layers] == [1000, 8]
    assert s.layers[0].params == 20


def test_integer_inputs_and_no_side_effects():
    model = nn.Sequential(nn.Embedding(50, 6), nn.Flatten(), nn.Linear(24, 3), nn.Dropout(0.5))
    model.train()
    state = rb.get_rng_state()
    s = summary(model, (4,), dtypes=[rb.int64], batch_size=2)
    assert rb.get_rng_state().tolist() == state.tolist()
    assert model.training and all(m.training for m in model.modules())
    assert s.layers[0].output_shape == [2, 4, 6] and s.macs == 24 * 3
    assert s.total_params == 50 * 6 + 24 * 3 + 3
    assert all(len(m._forward_hooks) == 0 for m in model.modules())


def test_input_data_instead_of_sizes():
    s = summary(MLP(6, [5], 2), input_data=rb.randn(7, 6))
    assert s.batch_size == 7 and s.macs == 6 * 5 + 5 * 2
    with pytest.raises(ValueError, match="input_size"):
        summary(MLP(6, [5], 2))


def test_lazy_top_level_names():
    assert rb.summary is summary
    assert math.isclose(rb.summary(MLP(6, [5], 2), (6,)).macs, 40)
