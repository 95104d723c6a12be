"""The CUDA backend (CuPy) against the CPU one: every op of the table, the layers, the
losses and the optimizers give the same values and gradients on both devices.

Skipped where CuPy sees no GPU (CI has none): run it on a machine with one.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

import rosenblatt as rb
from rosenblatt import nn
from tests.ops.op_specs import SPECS, Const, OpSpec, sample

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not rb.cuda.is_available(), reason="no CUDA device (CuPy or GPU missing)"),
]


def _host(t: rb.Tensor) -> np.ndarray:
    return t.detach().cpu().numpy()


def _run_op(spec: OpSpec, arrays: list, device: str) -> tuple[list, list]:
    """spec.fn on `device`; then the gradients of sum(out * v) for fixed random v."""
    leaves = []
    for array, entry in zip(arrays, spec.inputs):
        t = rb.tensor(array, device=device)
        if not isinstance(entry, Const) and spec.grad:
            t.requires_grad_(True)
        leaves.append(t)
    result = spec.fn(rb, *leaves)
    outs = list(result) if isinstance(result, (tuple, list)) else [result]
    grads: list = [None] * len(leaves)
    if spec.grad:
        rng = np.random.default_rng(1)
        terms = [(o * rb.tensor(rng.standard_normal(tuple(o.shape)), dtype=o.dtype,
                                device=device)).sum()
                 for o in outs if o.dtype.is_floating_point and o.requires_grad]
        if terms:
            sum(terms[1:], terms[0]).backward()
        grads = [t.grad for t in leaves]
    return outs, grads


@pytest.mark.parametrize("spec", SPECS, ids=repr)
def test_op_matches_cpu(spec: OpSpec) -> None:
    rng = np.random.default_rng(0)
    arrays = [e.make(rng) if isinstance(e, Const) else sample(rng, e, spec.domain, np.float64)
              for e in spec.inputs]
    cpu_outs, cpu_grads = _run_op(spec, arrays, "cpu")
    gpu_outs, gpu_grads = _run_op(spec, arrays, "cuda")
    for ours, ref in zip(gpu_outs, cpu_outs):
        assert ours.device == "cuda" and ours.dtype == ref.dtype, spec.name
        np.testing.assert_allclose(_host(ours), _host(ref), rtol=1e-9, atol=max(spec.atol, 1e-12),
                                   err_msg=f"{spec.name} forward")
    for i, (ours, ref) in enumerate(zip(gpu_grads, cpu_grads)):
        if ref is None:
            continue
        assert ours is not None and ours.device == "cuda", f"{spec.name}: gradient {i}"
        np.testing.assert_allclose(_host(ours), _host(ref), rtol=1e-9, atol=1e-12,
                                   err_msg=f"{spec.name} gradient of input {i}")


LAYERS = {
    "linear": (lambda: nn.Linear(6, 4), (3, 6)),
    "conv1d": (lambda: nn.Conv1d(3, 4, 3, padding=1, stride=2), (2, 3, 9)),
    "conv2d": (lambda: nn.Conv2d(3, 4, 3, padding=1, dilation=1, groups=1), (2, 3, 7, 7)),
    "conv2d_groups": (lambda: nn.Conv2d(4, 6, 3, stride=2, groups=2), (2, 4, 8, 8)),
    "conv_transpose2d": (lambda: nn.ConvTranspose2d(3, 2, 3, stride=2), (2, 3, 5, 5)),
    "conv3d": (lambda: nn.Conv3d(2, 3, 3, padding=1), (1, 2, 4, 5, 5)),
    "maxpool2d": (lambda: nn.MaxPool2d(2), (2, 3, 6, 6)),
    "avgpool2d": (lambda: nn.AvgPool2d(3, stride=2, padding=1), (2, 3, 7, 7)),
    "adaptive_avgpool2d": (lambda: nn.AdaptiveAvgPool2d((2, 3)), (2, 3, 7, 8)),
    "batchnorm2d": (lambda: nn.BatchNorm2d(3), (4, 3, 5, 5)),
    "batchnorm1d": (lambda: nn.BatchNorm1d(5), (6, 5)),
    "layernorm": (lambda: nn.LayerNorm(5), (3, 4, 5)),
    "groupnorm": (lambda: nn.GroupNorm(2, 4), (3, 4, 5)),
    "embedding": (lambda: nn.Embedding(10, 4), None),
    "rnn": (lambda: nn.RNN(4, 5, num_layers=2, batch_first=True), (2, 6, 4)),
    "lstm": (lambda: nn.LSTM(4, 5, bidirectional=True), (6, 2, 4)),
    "gru": (lambda: nn.GRU(4, 5, batch_first=True), (2, 6, 4)),
    "multihead_attention": (lambda: nn.MultiheadAttention(8, 2, batch_first=True), (2, 5, 8)),
    "transformer_encoder_layer": (
        lambda: nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0,
                                           batch_first=True), (2, 5, 8)),
    "gelu_softmax": (lambda: nn.Sequential(nn.GELU(), nn.Softmax(-1)), (3, 7)),
}


def _first(out):
    return out[0] if isinstance(out, tuple) else out


@pytest.mark.parametrize("name", list(LAYERS))
def test_layer_matches_cpu(name: str) -> None:
    build, shape = LAYERS[name]
    rb.manual_seed(0)
    cpu_layer = build()
    gpu_layer = copy.deepcopy(cpu_layer).to("cuda")
    rng = np.random.default_rng(0)
    if shape is None:
        x = rng.integers(0, 10, (3, 4))
    else:
        x = rng.standard_normal(shape).astype(np.float32)
    results = []
    for layer, device in ((cpu_layer, "cpu"), (gpu_layer, "cuda")):
        inp = rb.tensor(x, device=device, requires_grad=shape is not None)
        args = (inp, inp, inp) if name == "multihead_attention" else (inp,)
        out = _first(layer(*args))
        v = rb.tensor(np.random.default_rng(1).standard_normal(tuple(out.shape)),
                      dtype=out.dtype, device=device)
        (out * v).sum().backward()
        grads = {k: _host(p.grad) for k, p in layer.named_parameters()}
        buffers = {k: _host(b) for k, b in layer.named_buffers()}
        results.append((_host(out), None if shape is None else _host(inp.grad), grads, buffers))
    (out_c, gx_c, g_c, b_c), (out_g, gx_g, g_g, b_g) = results
    np.testing.assert_allclose(out_g, out_c, rtol=1e-4, atol=1e-5, err_msg="output")
    if gx_c is not None:
        np.testing.assert_allclose(gx_g, gx_c, rtol=1e-4, atol=1e-5, err_msg="input grad")
    for k in g_c:
        np.testing.assert_allclose(g_g[k], g_c[k], rtol=1e-4, atol=1e-5, err_msg=k)
    for k in b_c:
        np.testing.assert_allclose(b_g[k], b_c[k], rtol=1e-4, atol=1e-5, err_msg=k)


LOSSES = {
    "cross_entropy": lambda x, t, p: nn.functional.cross_entropy(x, t),
    "cross_entropy_weighted": lambda x, t, p: nn.functional.cross_entropy(
        x, t, weight=rb.linspace(0.5, 2, 5, device=x.device), ignore_index=2,
        label_smoothing=0.1),
    "cross_entropy_probabilities": lambda x, t, p: nn.functional.cross_entropy(x, p.softmax(1)),
    "nll_loss": lambda x, t, p: nn.functional.nll_loss(x.log_softmax(1), t),
    "mse_loss": lambda x, t, p: nn.functional.mse_loss(x, p),
    "l1_loss": lambda x, t, p: nn.functional.l1_loss(x, p),
    "smooth_l1_loss": lambda x, t, p: nn.functional.smooth_l1_loss(x, p, beta=0.5),
    "huber_loss": lambda x, t, p: nn.functional.huber_loss(x, p),
    "bce": lambda x, t, p: nn.functional.binary_cross_entropy(x.sigmoid(), p.sigmoid()),
    "bce_with_logits": lambda x, t, p: nn.functional.binary_cross_entropy_with_logits(
        x, p.sigmoid(), pos_weight=rb.ones(5, device=x.device) * 2),
    "kl_div": lambda x, t, p: nn.functional.kl_div(x.log_softmax(1), p.softmax(1),
                                                   reduction="batchmean"),
}


@pytest.mark.parametrize("name", list(LOSSES))
def test_loss_matches_cpu(name: str) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 5))
    target = rng.integers(0, 5, 6)
    other = rng.standard_normal((6, 5))
    results = []
    for device in ("cpu", "cuda"):
        inp = rb.tensor(x, device=device, requires_grad=True)
        loss = LOSSES[name](inp, rb.tensor(target, device=device), rb.tensor(other, device=device))
        loss.backward()
        assert loss.device == device
        results.append((_host(loss), _host(inp.grad)))
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-10)
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-9, atol=1e-12)


OPTIMIZERS = {
    "sgd_nesterov": lambda ps: rb.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True,
                                            weight_decay=1e-2),
    "adam": lambda ps: rb.optim.Adam(ps, lr=0.01, amsgrad=True),
    "adamw": lambda ps: rb.optim.AdamW(ps, lr=0.01),
    "rmsprop": lambda ps: rb.optim.RMSprop(ps, lr=0.01, momentum=0.5, centered=True),
    "adagrad": lambda ps: rb.optim.Adagrad(ps, lr=0.1),
}


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_training_steps_match_cpu(name: str) -> None:
    """Five steps of a small MLP with clipping and a scheduler: the same weights after."""
    rb.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 3)).double()
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((16, 4)), rng.integers(0, 3, 16)
    weights = []
    for device in ("cpu", "cuda"):
        m = copy.deepcopy(model).to(device)
        opt = OPTIMIZERS[name](m.parameters())
        sched = rb.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        xs, ys = rb.tensor(x, device=device), rb.tensor(y, device=device)
        for _ in range(5):
            opt.zero_grad()
            nn.functional.cross_entropy(m(xs), ys).backward()
            nn.utils.clip_grad_norm_(m.parameters(), 0.5)
            opt.step()
            sched.step()
        weights.append({k: _host(v) for k, v in m.state_dict().items()})
    for k in weights[0]:
        np.testing.assert_allclose(weights[1][k], weights[0][k], rtol=1e-9, atol=1e-12,
                                   err_msg=k)


def test_lenet_trains_on_gpu() -> None:
    """A LeNet-5 learns a clearly-learnable task on the GPU: the loss falls below a tenth."""
    from rosenblatt.models import lenet5

    rb.manual_seed(0)
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, 256)
    x = np.zeros((256, 1, 28, 28), np.float32)
    for i, label in enumerate(y):  # class k: a bright bar in row band k
        x[i, 0, 2 + 2 * label : 4 + 2 * label, 4:24] = 1.0
    x += 0.1 * rng.standard_normal(x.shape).astype(np.float32)
    model = lenet5().to("cuda")
    opt = rb.optim.Adam(model.parameters(), lr=2e-3)
    xs, ys = rb.tensor(x, device="cuda"), rb.tensor(y, device="cuda")
    first = None
    for _ in range(60):
        loss = nn.functional.cross_entropy(model(xs), ys)
        first = first if first is not None else float(loss.item())
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(loss.item()) < first / 10
    assert model.features[0].weight.grad.device == "cuda"


def test_elastic_distortion_on_gpu_matches_cpu() -> None:
    """The same seed gives the same distortions whether the batch lives on the CPU or GPU."""
    import cupy

    from rosenblatt.apps.digits.model import elastic_distort

    x = np.random.default_rng(0).random((16, 1, 28, 28)).astype(np.float32)
    cpu = elastic_distort(x, np.random.default_rng(3))
    gpu = elastic_distort(cupy.asarray(x), np.random.default_rng(3))
    assert isinstance(gpu, cupy.ndarray)
    np.testing.assert_allclose(cupy.asnumpy(gpu), cpu, rtol=1e-5, atol=1e-5)


def test_train_cnn_on_gpu_returns_a_cpu_model_that_reads() -> None:
    from rosenblatt.apps.digits.model import train_cnn

    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, 600)
    x = 0.1 * rng.standard_normal((600, 1, 28, 28)).astype(np.float32)
    for i, label in enumerate(y):
        x[i, 0, 2 + 2 * label : 4 + 2 * label, 4:24] += 1.0
    model = train_cnn(x, y, epochs=3, lr=3e-3, batch_size=50, elastic=True, device="cuda",
                      member={"channels": (8, 20), "hidden": (120, 84)})
    assert model.module.features[0].weight.device == "cpu"
    assert (model(x).argmax(axis=1) == y).mean() > 0.9
