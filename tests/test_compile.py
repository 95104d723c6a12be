"""rosenblatt.compile: captured plans give exactly eager's results (lowered kernels: up to
float rounding), re-capture when what they depend on changes, follow the batch size when
asked, and fall back to eager with a reason for what they cannot capture."""

from __future__ import annotations

import numpy as np
import pytest

import rosenblatt as rb
from rosenblatt import nn
from rosenblatt._compile import lower
from rosenblatt.models.cnn import CNN3
from rosenblatt.models.lenet import LeNet5
from rosenblatt.text.models import GPT
from rosenblatt.vision.models.resnet import BasicBlock


class LayerNormMLP(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1, self.norm, self.act = nn.Linear(12, 32), nn.LayerNorm(32), nn.GELU()
        self.fc2, self.out = nn.Linear(32, 5), nn.LogSoftmax(dim=-1)

    def forward(self, x):
        return self.out(self.fc2(self.act(self.norm(self.fc1(x)))))


class Encoder(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(50, 16)
        self.layer = nn.TransformerEncoderLayer(16, 4, dim_feedforward=32, dropout=0.1,
                                                batch_first=True)
        self.head = nn.Linear(16, 3)

    def forward(self, ids):
        return self.head(self.layer(self.emb(ids)).mean(dim=1))


class Inplace(nn.Module):
    def forward(self, x):
        y = x * 2
        y += 1
        return y.relu_().mul_(3)


class Attention(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.attn = nn.MultiheadAttention(16, 2, batch_first=True)

    def forward(self, x):
        return self.attn(x, x, x)  # (output, averaged weights)


def _cases():
    return {
        "mlp_softmax": (lambda: nn.Sequential(nn.Linear(20, 16), nn.ReLU(), nn.Linear(16, 4),
                                              nn.Softmax(dim=1)), lambda n: rb.randn(n, 20)),
        "lenet5": (LeNet5, lambda n: rb.randn(n, 1, 28, 28)),
        "cnn_batchnorm": (lambda: CNN3(), lambda n: rb.randn(n, 1, 28, 28)),
        "layernorm_gelu": (LayerNormMLP, lambda n: rb.randn(n, 12)),
        "embedding_encoder": (Encoder, lambda n: rb.randint(0, 50, (n, 7))),
        "attention": (Attention, lambda n: rb.randn(n, 5, 16)),
        "resnet_block": (lambda: nn.Sequential(nn.Conv2d(3, 8, 3), BasicBlock(8, 8),
                                               nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                                               nn.Linear(8, 2)),
                         lambda n: rb.randn(n, 3, 10, 10)),  # (ReLU(inplace=True), out += x)
        "inplace_ops": (Inplace, lambda n: rb.randn(n, 5)),
        "lstm": (lambda: nn.LSTM(6, 8, num_layers=2, batch_first=True),
                 lambda n: rb.randn(n, 4, 6)),
        "gpt": (lambda: GPT(40, block_size=16, n_layer=2, n_head=2, n_embd=16),
                lambda n: rb.randint(0, 40, (n, 9))),
    }


def _same(a, b) -> None:
    """a and b are the same structure of tensors with the same dtypes, shapes and values."""
    if isinstance(a, tuple):
        assert isinstance(b, tuple) and len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
        return
    assert a.dtype == b.dtype and a.shape == b.shape
    np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("dtype", [rb.float64, rb.float32])
@pytest.mark.parametrize("name", list(_cases()))
def test_compiled_output_equals_eager_exactly(name, dtype, monkeypatch):
    monkeypatch.setattr(lower, "ENABLED", False)  # the ops' own kernels, bit for bit
    make, example = _cases()[name]
    rb.manual_seed(0)
    model = make().to(dtype).eval()
    compiled = rb.compile(model)
    with rb.no_grad():
        for n in (1, 3):
            x = example(n)
            x = x.to(dtype) if x.is_floating_point() else x
            expected = model(x)
            _same(compiled(x), expected)  # the capturing call
            _same(compiled(x), expected)  # the plan
            _same(compiled(x), expected)
    assert "eager" not in compiled.explain(), compiled.explain()
    assert compiled.explain().startswith("2 captured plan(s)")



@pytest.mark.parametrize("dtype", [rb.float64, rb.float32])
@pytest.mark.parametrize("name", ["lenet5", "cnn_batchnorm", "resnet_block"])
def test_lowered_convolutions_give_eagers_values_up_to_rounding(name, dtype):
    """Convolutions with their ReLU and 2x2 max pooling run as one channels-last kernel."""
    make, example = _cases()[name]
    rb.manual_seed(0)
    model = make().to(dtype).eval()
    compiled = rb.compile(model)
    tol = 1e-5 if dtype == rb.float32 else 1e-12
    with rb.no_grad():
        for n in (1, 3, 3):
            x = example(n).to(dtype)
            expected = model(x).numpy()
            np.testing.assert_allclose(compiled(x).numpy(), expected, rtol=tol,
                                       atol=tol * np.abs(expected).max())
    sources = [p.source for p in compiled._plans.values()]
    assert all("ConvReluPool" in s for s in sources) and "eager" not in compiled.explain()
    if name == "lenet5":  # both convolutions with their ReLU and pooling: one step each
        assert all(s.count("# ConvReluPool") == 2 and "MaxPool" not in s for s in sources)
        assert all(s.count("# ReluInPlace") == 2 for s in sources)  # after the Linears
        with rb.no_grad():  # an in-place change of a weight is seen (the banded copy too)
            model.features[3].weight.mul_(-0.5)
            expected = model(x).numpy()
            np.testing.assert_allclose(compiled(x).numpy(), expected, rtol=tol,
                                       atol=tol * np.abs(expected).max())


def test_other_pooling_and_relus_are_lowered_without_touching_inputs():
    """A strided convolution is not lowered, its ReLU and pooling are (`Pool2x2`); a ReLU of
    the input itself is not written in place."""
    rb.manual_seed(0)
    model = nn.Sequential(nn.ReLU(), nn.Conv2d(3, 4, 3, stride=2), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(64, 5), nn.ReLU()).eval()
    compiled = rb.compile(model)
    x = rb.randn(2, 3, 19, 19)
    before = x.numpy().copy()
    with rb.no_grad():
        expected = model(x).numpy()
        for _ in range(2):
            np.testing.assert_allclose(compiled(x).numpy(), expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(x.numpy(), before)
    (source,) = [p.source for p in compiled._plans.values()]
    assert "# Pool2x2" in source and "# ConvNd" in source and "ConvReluPool" not in source
    assert source.count("# ReluInPlace") == 1 and source.count("# Relu\n") == 1


def test_a_dynamic_plan_serves_every_batch_size():
    rb.manual_seed(0)
    model = LeNet5().eval()
    compiled = rb.compile(model, dynamic=True)
    with rb.no_grad():
        for n in (5, 9, 1, 64, 3):
            x = rb.randn(n, 1, 28, 28)
            expected = model(x).numpy()
            np.testing.assert_allclose(compiled(x).numpy(), expected, rtol=1e-5,
                                       atol=1e-5 * np.abs(expected).max())
    assert compiled.explain() == "1 captured plan(s), 8 op(s) in all"
    # static: a plan for each batch size, as without dynamic
    static = rb.compile(model)
    with rb.no_grad():
        for n in (5, 9):
            static(rb.randn(n, 1, 28, 28))
    assert static.explain().startswith("2 captured plan(s)")


class AddsRowNumbers(nn.Module):
    def forward(self, x):
        return x + rb.arange(x.shape[0], dtype=x.dtype).reshape(-1, 1)  # made outside the ops


def test_a_plan_with_a_batch_sized_constant_serves_only_its_batch_size():
    compiled = rb.compile(AddsRowNumbers(), dynamic=True)
    with rb.no_grad():
        for n in (4, 6, 4, 6):
            x = rb.randn(n, 3)
            np.testing.assert_array_equal(compiled(x).numpy(),
                                          x.numpy() + np.arange(n, dtype=np.float32)[:, None])
    explained = compiled.explain()
    assert explained.startswith("2 captured plan(s)") and "eager" not in explained
    assert "static: a plan differs from the forward at another batch size" in explained


def _mlp():
    rb.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 3),
                         nn.Softmax(dim=1))


def test_recaptures_on_a_new_batch_size_and_a_train_eval_switch():
    model = _mlp().eval()
    compiled = rb.compile(model)
    with rb.no_grad():
        for n in (1, 4, 1):
            x = rb.randn(n, 6)
            _same(compiled(x), model(x))
        assert compiled.explain().startswith("2 captured plan(s)")
        model.train()  # dropout draws masks now: eager, with the reason
        compiled(rb.randn(2, 6))
        assert "draws random numbers" in compiled.explain()
        compiled.eval()
        assert not model.training
        x = rb.randn(2, 6)
        _same(compiled(x), model(x))
        assert compiled.explain().startswith("1 captured plan(s)")  # the old plans went


def test_parameter_updates_are_seen_without_recapture():
    model = _mlp().eval()
    compiled = rb.compile(model)
    x = rb.randn(3, 6)
    optimizer = rb.optim.SGD(model.parameters(), lr=0.5)
    with rb.no_grad():
        before = compiled(x)
    for _ in range(2):  # training through the compiled module runs eagerly
        optimizer.zero_grad()
        compiled(x).log().mean().neg().backward()
        optimizer.step()
    assert "backward is not captured" in compiled.explain()
    with rb.no_grad():
        after = compiled(x)
        _same(after, model(x))
        assert not np.array_equal(after.numpy(), before.numpy())
        model.load_state_dict({k: v * 2 for k, v in model.state_dict().items()})
        _same(compiled(x), model(x))
    assert compiled.explain().startswith("1 captured plan(s)")


def test_batch_norm_statistics_are_watched():
    # eval-mode batch norm turns its running statistics into the op's arguments with NumPy,
    # outside the ops: the plan keeps those, watches the buffers, and captures again
    rb.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2)).eval()
    compiled = rb.compile(model)
    x = rb.randn(1, 1, 5, 5)
    with rb.no_grad():
        compiled(x)
        _same(compiled(x), model(x))
        model.load_state_dict({k: v + 1 for k, v in model.state_dict().items()})
        _same(compiled(x), model(x))
        model[1].running_var.mul_(3.0)
        _same(compiled(x), model(x))
    assert compiled.explain().startswith("1 captured plan(s)"), compiled.explain()


class WeightNormalized(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(rb.randn(3, 3))

    def forward(self, x):  # the weight read outside the ops
        return x @ rb.tensor(self.weight._data / np.abs(self.weight._data).sum())


def test_parameters_used_outside_the_ops_end_the_capture():
    compiled = rb.compile(WeightNormalized())
    with rb.no_grad():
        x = rb.randn(2, 3)
        _same(compiled(x), compiled._orig_mod(x))
        compiled.weight.mul_(2.0)
        _same(compiled(x), compiled._orig_mod(x))
    assert "computes from parameters outside the ops" in compiled.explain()


class ReadsValues(nn.Module):
    def forward(self, x):
        return x * 2 if x.sum().item() > 0 else x * 3


class ComputesOutsideTheOps(nn.Module):
    def forward(self, x):
        return x + rb.tensor(np.sort(x.detach().numpy(), axis=1))


class ReadsTheArray(nn.Module):
    def forward(self, x):  # as library code may: the array itself, no Tensor method
        return x + rb.tensor(np.sort(x._data, axis=1))


class WritesItsInput(nn.Module):
    def forward(self, x):
        return x.add_(1.0).relu()


class Masked(nn.Module):
    def forward(self, x):
        return rb.where(x > 0.5, x, x.new_zeros(())).masked_fill(x < -1, 2.0)


def test_comparisons_on_the_input_are_captured():
    compiled = rb.compile(Masked())
    with rb.no_grad():
        for _ in range(3):
            x = rb.randn(3, 5)
            _same(compiled(x), compiled._orig_mod(x))
    assert compiled.explain().startswith("1 captured plan(s)"), compiled.explain()
    assert "_Compare" in next(iter(compiled._plans.values())).source


class PaddingMask(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.emb = nn.Embedding(10, 8, padding_idx=0)
        self.attn = nn.MultiheadAttention(8, 2, batch_first=True)

    def forward(self, ids):
        x = self.emb(ids)
        return self.attn(x, x, x, key_padding_mask=ids == 0, need_weights=False)[0]


def test_a_mask_made_outside_the_ops_is_caught_by_the_probe():
    # MultiheadAttention turns a boolean mask into an additive one with NumPy directly
    # (ops/attention.py attention_bias): no op records it, so the plan would keep it fixed
    rb.manual_seed(0)
    model = PaddingMask().eval()
    compiled = rb.compile(model)
    with rb.no_grad():
        for ids in ([[3, 4, 0, 0]], [[5, 0, 0, 0]], [[1, 2, 3, 4]]):
            ids = rb.tensor(ids)
            _same(compiled(ids), model(ids))
    assert "eager: on a second input the plan differs" in compiled.explain()


class NamedArgument(nn.Module):
    def forward(self, x, scale=1.0, cache=None):
        return x * scale


@pytest.mark.parametrize("module, reason", [
    (ReadsValues(), "reads a tensor's values (Tensor.item)"),
    (ComputesOutsideTheOps(), "reads a tensor's values (Tensor.numpy)"),
    (WritesItsInput(), "writes a tensor in place"),
    (ReadsTheArray(), "on a second input the plan differs from the forward"),
])
def test_what_cannot_be_captured_runs_eagerly_with_a_reason(module, reason):
    compiled = rb.compile(module)
    with rb.no_grad():
        for sign in (1, -1, 1):
            x = rb.randn(2, 3) * sign  # (clones: one module writes into its input)
            _same(compiled(x.clone()), module(x.clone()))
    assert f"eager: {'' if 'second' in reason else 'the forward '}{reason}" in \
        compiled.explain(), compiled.explain()


def test_hooks_and_unguardable_arguments_run_eagerly():
    model = _mlp().eval()
    compiled = rb.compile(model)
    seen = []
    handle = model[0].register_forward_hook(lambda m, i, o: seen.append(o.shape))
    with rb.no_grad():
        compiled(rb.randn(1, 6))
        compiled(rb.randn(1, 6))
    assert len(seen) == 2 and "module 0 has hooks" in compiled.explain()
    handle.remove()
    with rb.no_grad():
        compiled(rb.randn(1, 6))
    assert compiled.explain().startswith("1 captured plan(s)")
    named = rb.compile(NamedArgument())
    x = rb.randn(2)
    with rb.no_grad():
        _same(named(x, scale=3.0), x * 3.0)
        _same(named(x, scale=3.0), x * 3.0)
        _same(named(x, scale=2.0), x * 2.0)  # another value, another plan
        assert named.explain().startswith("2 captured plan(s)")
        _same(named(x, cache=object()), x)
    assert "argument of type object cannot be guarded" in named.explain()


def test_recompile_limit_as_pytorch():
    model = rb.compile(nn.Linear(2, 2), recompile_limit=2)
    with rb.no_grad():
        for n in (1, 2, 3):
            model(rb.randn(n, 2))
    assert "recompile_limit (2) reached" in model.explain()


def test_the_wrapper_is_pytorchs_optimized_module():
    model = _mlp()
    compiled = rb.compile(model)
    assert isinstance(compiled, rb.compiler.OptimizedModule) and compiled._orig_mod is model
    assert list(compiled.state_dict()) == ["_orig_mod." + k for k in model.state_dict()]
    assert all(a is b for a, b in zip(compiled.parameters(), model.parameters(), strict=True))
    assert getattr(compiled, "0") is model[0]
    compiled.eval()
    assert not model.training and not compiled.training
    compiled.extra = 3  # attributes write through to the module, as PyTorch's
    assert model.extra == 3 and compiled.extra == 3
    assert rb.compile(model, disable=True) is model
    assert repr(compiled).startswith("OptimizedModule(\n  (_orig_mod): Sequential(")


def test_outputs_do_not_share_memory_with_the_plan():
    class Constant(nn.Module):
        def forward(self, x):
            return x.sum() + rb.zeros(3), rb.ones(2)  # the second is a constant of the plan

    compiled = rb.compile(Constant())
    with rb.no_grad():
        x = rb.randn(3)
        compiled(x)
        _, ones = compiled(x)
        ones.add_(1)
        _same(compiled(x)[1], rb.ones(2))


def test_a_compiled_module_inside_a_compiled_module_is_captured_into_the_outer_plan():
    inner = rb.compile(nn.Sequential(nn.Linear(4, 4), nn.ReLU()))
    outer = rb.compile(nn.Sequential(inner, nn.Linear(4, 2), nn.LogSoftmax(dim=1)))
    x = rb.randn(3, 4)
    with rb.no_grad():
        inner(x)  # the inner one has a plan of its own already
        expected = outer._orig_mod(x)
        _same(outer(x), expected)
        _same(outer(x), expected)
    assert outer.explain() == "1 captured plan(s), 4 op(s) in all", outer.explain()


def test_plans_run_on_the_inputs_device(device):
    rb.manual_seed(0)
    model = LayerNormMLP().to(device).eval()
    compiled = rb.compile(model)
    with rb.no_grad():
        x = rb.randn(2, 12, device=device)
        compiled(x)
        out = compiled(x)
        assert out.device == x.device
        np.testing.assert_array_equal(out.cpu().numpy(), model(x).cpu().numpy())
    assert compiled.explain().startswith("1 captured plan(s)"), compiled.explain()


def test_a_failing_forward_raises_as_eager_and_leaves_the_ops_as_they_were():
    from rosenblatt.autograd.function import Function
    from rosenblatt.autograd.tensor import Tensor
    from rosenblatt.ops import elementwise

    originals = (Function.__dict__["apply"], elementwise._compare, Tensor.__dict__["_write"],
                 Tensor.__dict__["_ufunc_"], Tensor.__dict__["item"])
    compiled = rb.compile(_mlp().eval())
    with rb.no_grad():
        with pytest.raises(RuntimeError, match="7 features"):
            compiled(rb.randn(2, 7))
        compiled(rb.randn(2, 6))
    assert (Function.__dict__["apply"], elementwise._compare, Tensor.__dict__["_write"],
            Tensor.__dict__["_ufunc_"], Tensor.__dict__["item"]) == originals
