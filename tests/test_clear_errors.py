"""Errors a newcomer meets first say what PyTorch says, not what NumPy says (issue 21)."""

import pytest
import torch

import rosenblatt as rb


@pytest.mark.parametrize("data", [
    [[1, 2], [3]],
    [[[1, 2], [3, 4]], [[1, 2], [3]]],
    [[1.0, 2.0, 3.0], [4.0, 5.0]],
])
def test_ragged_lists_give_pytorchs_message(data):
    with pytest.raises(ValueError) as expected:
        torch.tensor(data)
    with pytest.raises(ValueError) as got:
        rb.tensor(data)
    assert str(got.value) == str(expected.value)
    assert "inhomogeneous" not in str(got.value)


@pytest.mark.parametrize("data", [[[1, 2], 3], [1, [2, 3]]])
def test_mixed_numbers_and_lists_are_type_errors(data):
    with pytest.raises(TypeError):
        torch.tensor(data)
    with pytest.raises(TypeError, match="at dim 1"):
        rb.tensor(data)


def test_cross_entropy_with_float_class_indices_says_so():
    logits, target = rb.randn(4, 3), rb.tensor([0.0, 1.0, 2.0, 1.0])
    with pytest.raises(RuntimeError) as expected:
        torch.nn.CrossEntropyLoss()(torch.randn(4, 3), torch.tensor([0.0, 1.0, 2.0, 1.0]))
    with pytest.raises(RuntimeError) as got:
        rb.nn.CrossEntropyLoss()(logits, target)
    assert "expected target dtype to be Long or Byte" in str(expected.value)
    assert "expected target dtype to be Long or Byte" in str(got.value)
    assert "target.long()" in str(got.value) and "(4, 3)" in str(got.value)
    assert rb.nn.CrossEntropyLoss()(logits, target.long()).ndim == 0
