"""rosenblatt.trace: one example step by step, checked against NumPy."""

import numpy as np

import rosenblatt as rb
from rosenblatt import nn
from rosenblatt.models.mlp import MLP


def test_trace_of_an_mlp_matches_numpy():
    model = MLP(6, [8, 5], 3, dropout=0.5)
    x = rb.randn(6)
    t = rb.trace(model, x)
    assert [s.type for s in t.steps] == ["Flatten", "Linear", "ReLU", "Dropout", "Linear",
                                         "ReLU", "Dropout", "Linear"]
    W1, b1 = model.layers[1].weight.detach().numpy(), model.layers[1].bias.detach().numpy()
    z1 = W1 @ x.numpy() + b1
    lin, relu = t.steps[1], t.steps[2]
    assert lin.kind == "weighted sums" and lin.input_shape == [6] and lin.output_shape == [8]
    np.testing.assert_allclose(lin.values, z1, rtol=1e-5, atol=1e-6)
    assert relu.kind == "activation"
    np.testing.assert_allclose(relu.values, np.maximum(z1, 0), rtol=1e-5, atol=1e-6)
    assert relu.stats["zeros"] == np.mean(np.maximum(z1, 0) == 0)
    assert relu.stats["max"] == np.float32(np.maximum(z1, 0).max())
    np.testing.assert_allclose(t.steps[3].values, relu.values)  # dropout is off in a trace
    with rb.no_grad():
        model.eval()
        logits = model(x.unsqueeze(0)).numpy()[0]
    np.testing.assert_allclose(t.output, logits, rtol=1e-5, atol=1e-6)
    assert t.prediction == int(logits.argmax())
    assert abs(float(np.sum(t.probabilities)) - 1) < 1e-9
    text = str(t)
    assert "weighted sums" in text and "zeros" in text and "predicted class" in text
    assert t.to_dict()["steps"][1]["values"] == lin.values.tolist()


def test_trace_restores_training_mode_and_accepts_batched_input():
    model = nn.Sequential(nn.Linear(4, 3), nn.Softmax(dim=1))
    model.train()
    t = rb.trace(model, rb.randn(1, 4), batched=True)
    assert model.training
    assert t.input_shape == [4]
    np.testing.assert_allclose(t.probabilities, t.output)  # the model ends in a softmax


def test_trace_of_a_conv_net_image():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(2 * 6 * 6, 4))
    t = rb.trace(model, rb.rand(1, 8, 8))
    assert t.steps[0].kind == "weighted sums" and t.steps[0].output_shape == [2, 6, 6]
    assert t.steps[-1].output_shape == [4]


def test_top_level_trace_of_a_tensor_is_the_matrix_trace():
    """rosenblatt.trace(model, x) is this tool; rosenblatt.trace(matrix) is torch.trace."""
    m = rb.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    total = rb.trace(m)
    total.backward()
    assert total.item() == 6.0 and m.grad.tolist() == [[1, 0, 0], [0, 1, 0]]
