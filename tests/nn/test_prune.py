"""nn.utils.prune against torch.nn.utils.prune on the same weights."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.utils.prune as tprune

import rosenblatt as rb
from rosenblatt.nn.utils import prune


def _pair(kind: str = "linear", seed: int = 0):
    """A Rosenblatt layer and a PyTorch one with the same parameters."""
    torch.manual_seed(seed)
    theirs = torch.nn.Linear(12, 8) if kind == "linear" else torch.nn.Conv2d(3, 6, 3)
    ours = rb.nn.Linear(12, 8) if kind == "linear" else rb.nn.Conv2d(3, 6, 3)
    ours.load_state_dict({k: rb.tensor(v.numpy()) for k, v in theirs.state_dict().items()})
    return ours, theirs


def _same_state(ours, theirs) -> None:
    mine, ref = ours.state_dict(), theirs.state_dict()
    assert list(mine) == list(ref)
    for key in ref:
        np.testing.assert_array_equal(mine[key].numpy(), ref[key].numpy(), err_msg=key)


@pytest.mark.parametrize("amount", [0.0, 0.3, 0.5, 7, 96])
def test_l1_unstructured_masks_and_state_dict_as_torch(amount):
    ours, theirs = _pair()
    prune.l1_unstructured(ours, "weight", amount)
    tprune.l1_unstructured(theirs, "weight", amount)
    _same_state(ours, theirs)
    assert prune.is_pruned(ours)
    np.testing.assert_array_equal(ours.weight.detach().numpy(), theirs.weight.detach().numpy())


@pytest.mark.parametrize("n,dim,amount", [(1, 0, 0.5), (2, 0, 2), (2, 1, 0.4),
                                          (float("inf"), 0, 3), (3, -1, 0.3)])
def test_ln_structured_as_torch(n, dim, amount):
    ours, theirs = _pair("conv")
    prune.ln_structured(ours, "weight", amount, n, dim)
    tprune.ln_structured(theirs, "weight", amount, n, dim)
    _same_state(ours, theirs)


def test_repeated_pruning_combines_masks_as_torch():
    ours, theirs = _pair("conv", seed=1)
    for lib, p in ((ours, prune), (theirs, tprune)):
        p.l1_unstructured(lib, "weight", 0.2)
        p.ln_structured(lib, "weight", 2, 2, 0)
        p.l1_unstructured(lib, "weight", 10)
        p.l1_unstructured(lib, "bias", 1)
    _same_state(ours, theirs)
    hooks = [h for h in ours._forward_pre_hooks.values()]
    assert len(hooks) == 2 and isinstance(hooks[0], prune.PruningContainer) and len(hooks[0]) == 3


def test_global_unstructured_as_torch():
    (a, ta), (b, tb) = _pair(seed=2), _pair("conv", seed=3)
    prune.l1_unstructured(a, "weight", 0.1)  # a mask already there is respected
    tprune.l1_unstructured(ta, "weight", 0.1)
    prune.global_unstructured([(a, "weight"), (b, "weight"), (b, "bias")],
                              pruning_method=prune.L1Unstructured, amount=0.4)
    tprune.global_unstructured([(ta, "weight"), (tb, "weight"), (tb, "bias")],
                               pruning_method=tprune.L1Unstructured, amount=0.4)
    _same_state(a, ta)
    _same_state(b, tb)
    total = sum(float((m.weight == 0).sum()) for m in (a, b)) + float((b.bias == 0).sum())
    pruned_before = round(0.1 * 96)  # the amount counts the entries still unpruned
    assert total == pruned_before + round(0.4 * (96 + 162 + 6 - pruned_before))


def test_importance_scores_decide_the_mask():
    ours, theirs = _pair()
    scores = np.random.default_rng(0).random((8, 12)).astype(np.float32)
    prune.l1_unstructured(ours, "weight", 0.5, importance_scores=rb.tensor(scores))
    tprune.l1_unstructured(theirs, "weight", 0.5, importance_scores=torch.tensor(scores))
    _same_state(ours, theirs)


def test_random_pruning_counts():
    ours, _ = _pair("conv")
    prune.random_unstructured(ours, "weight", 0.25)
    assert float((ours.weight_mask == 0).sum()) == round(0.25 * 162)
    prune.random_structured(ours, "weight", 2, dim=0)
    channels = ours.weight_mask.numpy().reshape(6, -1).any(axis=1)
    assert channels.sum() == 4


def test_the_hook_recomputes_the_weight_and_gradients_are_masked():
    ours, theirs = _pair()
    for lib, p in ((ours, prune), (theirs, tprune)):
        p.l1_unstructured(lib, "weight", 0.5)
    with rb.no_grad():
        ours.weight_orig.mul_(2)
    with torch.no_grad():
        theirs.weight_orig.mul_(2)
    x = np.random.default_rng(1).standard_normal((4, 12)).astype(np.float32)
    out, ref = ours(rb.tensor(x)), theirs(torch.tensor(x))
    np.testing.assert_allclose(out.detach().numpy(), ref.detach().numpy(), rtol=1e-6, atol=1e-6)
    out.sum().backward()
    ref.sum().backward()
    np.testing.assert_allclose(ours.weight_orig.grad.numpy(), theirs.weight_orig.grad.numpy(),
                               rtol=1e-6, atol=1e-6)
    assert np.all(ours.weight_orig.grad.numpy()[ours.weight_mask.numpy() == 0] == 0)


def test_remove_makes_it_permanent_as_torch():
    ours, theirs = _pair("conv")
    for lib, p in ((ours, prune), (theirs, tprune)):
        p.ln_structured(lib, "weight", 0.5, 1, 0)
        p.remove(lib, "weight")
    _same_state(ours, theirs)
    assert isinstance(ours.weight, rb.nn.Parameter) and not prune.is_pruned(ours)
    assert "weight" in dict(ours.named_parameters())
    with pytest.raises(ValueError, match="has to be pruned before"):
        prune.remove(ours, "weight")


def test_identity_and_custom_mask():
    ours, theirs = _pair()
    prune.identity(ours, "bias")
    tprune.identity(theirs, "bias")
    mask = (np.arange(96).reshape(8, 12) % 3 != 0).astype(np.float32)
    prune.custom_from_mask(ours, "weight", rb.tensor(mask))
    tprune.custom_from_mask(theirs, "weight", torch.tensor(mask))
    _same_state(ours, theirs)


def test_bad_arguments():
    ours, _ = _pair()
    with pytest.raises(ValueError, match="non-negative integer"):
        prune.l1_unstructured(ours, "weight", 1.5)
    with pytest.raises(TypeError, match="Must be int or float"):
        prune.l1_unstructured(ours, "weight", "half")
    with pytest.raises(ValueError, match="smaller than the number of parameters"):
        prune.l1_unstructured(ours, "weight", 97)
    assert not prune.is_pruned(ours) and "weight" in dict(ours.named_parameters())
    with pytest.raises(ValueError, match="multidimensional"):
        prune.ln_structured(ours, "bias", 1, 2, 0)
    with pytest.raises(TypeError, match="unstructured"):
        prune.global_unstructured([(ours, "weight")], prune.LnStructured, amount=1, n=2)


def test_summary_shows_the_sparsity_of_pruned_layers():
    from rosenblatt.models import lenet5

    model = lenet5()
    assert "Sparsity" not in str(rb.summary(model, (1, 28, 28)))  # no column when unpruned
    prune.l1_unstructured(model.features[0], "weight", 75)  # 75 of 150 weights, 6 biases kept
    prune.ln_structured(model.classifier[1], "weight", 0.5, 1, 0)
    s = rb.summary(model, (1, 28, 28))
    rows = {layer.name: layer for layer in s.layers}
    assert rows["features.0"].sparsity == pytest.approx(75 / 156)
    assert rows["classifier.1"].sparsity == pytest.approx(60 * 400 / 48_120)
    assert rows["features.3"].sparsity == 0.0
    assert "Sparsity" in str(s) and "48.1%" in str(s)
