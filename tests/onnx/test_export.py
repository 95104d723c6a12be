"""torch.onnx.export: onnx.checker passes and onnxruntime matches Rosenblatt (float32)."""

import io

import numpy as np
import pytest

import rosenblatt as torch
import rosenblatt.nn as nn
import rosenblatt.nn.functional as F
from rosenblatt.models import MLP, cnn3, lenet5, resnet8

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def _export(model, x, **kwargs):
    buf = io.BytesIO()
    torch.onnx.export(model, (x,), buf, input_names=["x"], output_names=["y"],
                      dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}}, **kwargs)
    proto = onnx.load_from_string(buf.getvalue())
    onnx.checker.check_model(proto, full_check=True)
    return proto, ort.InferenceSession(buf.getvalue(), providers=["CPUExecutionProvider"])


def _close(got, ref):
    """Within 1e-5 relative to the output's scale (float32)."""
    assert got.shape == ref.shape
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-5 * float(np.abs(ref).max()))


@pytest.mark.parametrize("make", [
    MLP, lenet5, lambda: lenet5(activation="tanh", pool="avg"), cnn3, resnet8,
], ids=["mlp", "lenet5", "lenet5-tanh-avg", "cnn3", "resnet8"])
def test_models_match_onnxruntime_with_a_dynamic_batch(make):
    torch.manual_seed(0)
    model = make().eval()
    proto, session = _export(model, torch.randn(2, 1, 28, 28))
    assert proto.opset_import[0].version >= 17
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    x = torch.randn(5, 1, 28, 28)  # another batch size than the traced one
    _close(session.run(None, {"x": x.numpy()})[0], model(x).detach().numpy())


def test_layers_become_their_onnx_ops():
    proto, _ = _export(resnet8().eval(), torch.randn(1, 1, 28, 28))
    ops = {n.op_type for n in proto.graph.node}
    assert {"Conv", "BatchNormalization", "Relu", "Add", "Gemm", "MatMul"} <= ops
    names = {i.name for i in proto.graph.initializer}
    assert "conv1.weight" in names and "fc.bias" in names  # parameters keep their names


class Mixed(nn.Module):
    """Functional ops beyond the model zoo: embedding, layer norm, GELU, SiLU, softmax."""

    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(20, 8)
        self.norm = nn.LayerNorm(8)
        self.proj = nn.Linear(8, 8)

    def forward(self, idx):
        h = self.norm(self.emb(idx))
        h = F.gelu(self.proj(h)) + F.gelu(h, approximate="tanh") - F.silu(h) * 0.5
        h = F.leaky_relu(h, 0.1) + F.elu(h) + torch.sigmoid(h).sqrt() / 2
        return torch.softmax(h.permute(0, 2, 1), dim=-1), F.log_softmax(h, dim=-1)


def test_functional_ops_and_several_outputs():
    torch.manual_seed(0)
    model = Mixed()
    idx = torch.randint(0, 20, (2, 6))
    buf = io.BytesIO()
    torch.onnx.export(model, (idx,), buf, input_names=["idx"], output_names=["p", "logp"],
                      dynamic_axes={"idx": [0]})
    session = ort.InferenceSession(buf.getvalue(), providers=["CPUExecutionProvider"])
    idx = torch.randint(0, 20, (3, 6))
    got = session.run(None, {"idx": idx.numpy()})
    for g, r in zip(got, model(idx)):
        _close(g, r.detach().numpy())


def test_saves_to_a_path_and_restores_training_mode(tmp_path):
    model = lenet5()
    assert model.training
    path = tmp_path / "lenet.onnx"
    assert torch.onnx.export(model, torch.randn(1, 1, 28, 28), str(path)) is None
    assert model.training  # traced in eval mode, then put back
    proto = onnx.load(str(path))
    assert [i.name for i in proto.graph.input] == ["input"]
    assert [o.name for o in proto.graph.output] == ["output"]


class Flipper(nn.Module):
    def forward(self, x):
        return torch.flip(x, [1])


def test_an_unsupported_op_is_named():
    with pytest.raises(torch.onnx.UnsupportedOperatorError, match="Flip"):
        torch.onnx.export(Flipper(), torch.randn(2, 3), io.BytesIO())


def test_old_opsets_are_refused():
    with pytest.raises(ValueError, match="opset_version"):
        torch.onnx.export(MLP(), torch.randn(1, 784), io.BytesIO(), opset_version=13)


def test_a_missing_onnx_names_the_extra(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ImportError, match=r"rosenblatt\[export\]"):
        torch.onnx.export(MLP(), torch.randn(1, 784), io.BytesIO())


def test_is_in_onnx_export_is_true_only_while_tracing():
    seen = []

    class Probe(nn.Module):
        def forward(self, x):
            seen.append(torch.onnx.is_in_onnx_export())
            return x * 2

    torch.onnx.export(Probe(), torch.randn(2), io.BytesIO())
    assert seen == [True] and not torch.onnx.is_in_onnx_export()


def _run_both(model, example, x, outputs, axes):
    buf = io.BytesIO()
    torch.onnx.export(model, (example,), buf, input_names=["input"], output_names=outputs,
                      dynamic_axes=axes)
    onnx.checker.check_model(onnx.load_from_string(buf.getvalue()), full_check=True)
    session = ort.InferenceSession(buf.getvalue(), providers=["CPUExecutionProvider"])
    got = session.run(None, {"input": x.numpy()})
    ref = model(x)
    ref = torch.onnx._tensors(ref)  # (out, (h, c)), (out, h) or out
    assert len(got) == len(ref) == len(outputs)
    for g, r in zip(got, ref):
        _close(g, r.detach().numpy())


def test_char_lstm_with_its_state_outputs():
    from rosenblatt.text.models import CharLSTM

    torch.manual_seed(0)
    model = CharLSTM(30, 16, 32, num_layers=2).eval()
    axes = {"input": {0: "batch", 1: "seq"}, "logits": {0: "batch", 1: "seq"},
            "h": {1: "batch"}, "c": {1: "batch"}}
    for shape in [(5, 7), (3, 12), (1, 2)]:  # traced at (2, 7): batch and length are dynamic
        _run_both(model, torch.randint(0, 30, (2, 7)), torch.randint(0, 30, shape),
                  ["logits", "h", "c"], axes)


def test_char_lstm_with_a_static_batch():
    from rosenblatt.text.models import CharLSTM

    model = CharLSTM(30, 8, 16, num_layers=1).eval()
    # no dynamic axis: the zero initial state is left implicit
    _run_both(model, torch.randint(0, 30, (2, 7)), torch.randint(0, 30, (2, 7)),
              ["logits", "h", "c"], {})


def test_gpt():
    from rosenblatt.text.models import GPT

    torch.manual_seed(0)
    model = GPT(30, block_size=16, n_layer=2, n_head=2, n_embd=32).eval()
    axes = {"input": {0: "batch", 1: "seq"}, "logits": {0: "batch", 1: "seq"}}
    for shape in [(3, 7), (1, 16), (4, 3)]:  # positions and the causal mask follow the length
        _run_both(model, torch.randint(0, 30, (2, 7)), torch.randint(0, 30, shape),
                  ["logits"], axes)


class RandomOffset(nn.Module):
    def forward(self, x):
        return x + torch.randn(x.shape[1])  # made outside the ops: its size is not traced


class ShapeBranch(nn.Module):
    def forward(self, x):
        return x * 2 if x.shape[0] > 2 else x + 1


def test_what_a_dynamic_axis_cannot_follow_is_an_error():
    with pytest.raises(RuntimeError, match="changes with the input's dynamic axes"):
        torch.onnx.export(RandomOffset(), torch.randn(2, 3), io.BytesIO(),
                          dynamic_axes={"input": {1: "n"}})
    torch.onnx.export(RandomOffset(), torch.randn(2, 3), io.BytesIO(),
                      dynamic_axes={"input": {0: "batch"}})  # a fixed-size constant is fine
    with pytest.raises(RuntimeError, match="different ops"):
        torch.onnx.export(ShapeBranch(), torch.randn(2, 3), io.BytesIO(),
                          dynamic_axes={"input": [0]})


class Masks(nn.Module):
    def forward(self, x):
        keep = (x > 0.1) & ~(x >= 1.0) | (x == 0)
        return torch.where(keep, x, x * 0.5) + (x != 0.3).float() - (x < -1).float()


class SelfAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn = nn.MultiheadAttention(8, 2, batch_first=True)

    def forward(self, x):
        return self.attn(x, x, x, need_weights=False)[0]


class Decoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, batch_first=True)

    def forward(self, x):
        return self.layer(x, x)


class Reductions(nn.Module):
    def forward(self, x):
        return x.mean(dim=-1) + x.sum(2) * x.mean() + x.clamp(min=-0.5).sum(dim=(1, 2))[:, None]


@pytest.mark.parametrize("make,shape", [
    (lambda: nn.Sequential(nn.Conv1d(3, 4, 3, padding=1), nn.MaxPool1d(2)), (2, 3, 8)),
    (lambda: nn.GroupNorm(2, 4), (2, 4, 3, 3)),
    (lambda: nn.InstanceNorm2d(4), (2, 4, 3, 3)),
    (lambda: nn.TransformerEncoderLayer(8, 2, 16, batch_first=True, dropout=0.0), (2, 5, 8)),
    (lambda: nn.Upsample(scale_factor=2), (2, 3, 4, 4)),
    (lambda: nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1, output_padding=1), (2, 3, 5, 5)),
    (lambda: nn.Sequential(nn.Linear(4, 6), nn.BatchNorm1d(6), nn.Hardtanh(),
                           nn.Softplus(beta=2), nn.ReLU6()), (3, 4)),
    (lambda: Reductions(), (2, 3, 4)),
    (lambda: nn.Sequential(nn.PReLU(6), nn.SELU(), nn.CELU(0.5), nn.Mish(), nn.Hardswish(),
                           nn.Hardsigmoid(), nn.Softsign(), nn.Threshold(0.1, 2.0),
                           nn.Hardshrink(), nn.Softshrink(), nn.LogSigmoid(), nn.Tanhshrink(),
                           nn.LogSoftmax(dim=1)), (3, 6)),
    (lambda: Masks(), (3, 6)),
    (lambda: nn.Sequential(nn.AvgPool2d(3, 2, padding=1), nn.MaxPool2d(2, ceil_mode=True),
                           nn.AdaptiveMaxPool2d(3), nn.Dropout2d(0.3)), (2, 3, 9, 9)),
    (lambda: SelfAttention(), (2, 5, 8)),
    (lambda: Decoder(), (2, 5, 8)),
    (lambda: nn.Sequential(nn.PixelShuffle(2), nn.Upsample(scale_factor=2, mode="bilinear")),
     (2, 4, 3, 3)),
], ids=["conv1d-maxpool1d", "groupnorm", "instancenorm",
        "transformer-encoder-layer", "upsample", "convtranspose2d", "batchnorm1d-clamps",
        "reductions", "activations", "comparisons", "pools", "multihead-attention",
        "transformer-decoder-layer", "pixelshuffle-bilinear"])
def test_more_layers(make, shape):
    torch.manual_seed(0)
    model = make().eval()
    bigger = (shape[0] + 2,) + shape[1:]
    _run_both(model, torch.randn(*shape), torch.randn(*bigger), ["output"],
              {"input": {0: "batch"}, "output": {0: "batch"}})


def test_bidirectional_two_layer_lstm():
    torch.manual_seed(0)
    model = nn.LSTM(4, 8, 2, batch_first=True, bidirectional=True).eval()
    _run_both(model, torch.randn(2, 5, 4), torch.randn(4, 5, 4), ["y", "h", "c"],
              {"input": {0: "batch"}, "y": {0: "batch"}, "h": {1: "batch"}, "c": {1: "batch"}})


class GivenState(nn.Module):
    """An LSTM started from a learned (non-zero) state."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(4, 8)
        self.h0 = nn.Parameter(torch.randn(1, 3, 8))
        self.c0 = nn.Parameter(torch.randn(1, 3, 8))

    def forward(self, x):
        return self.lstm(x, (self.h0, self.c0))[0]


def test_lstm_with_a_given_initial_state():
    torch.manual_seed(0)
    model = GivenState().eval()
    _run_both(model, torch.randn(5, 3, 4), torch.randn(5, 3, 4), ["y"], {})


@pytest.mark.parametrize("make", [lambda: nn.GRU(4, 8, 2, batch_first=True),
                                  lambda: nn.RNN(4, 8, nonlinearity="relu", bidirectional=True)],
                         ids=["gru-2-layers", "rnn-relu-bidirectional"])
def test_gru_and_rnn(make):
    torch.manual_seed(0)
    model = make().eval()
    batch = 0 if model.batch_first else 1
    example, x = ((2, 5, 4), (4, 5, 4)) if batch == 0 else ((5, 2, 4), (5, 4, 4))
    _run_both(model, torch.randn(*example), torch.randn(*x), ["y", "h"],
              {"input": {batch: "b"}, "y": {batch: "b"}, "h": {1: "b"}})
