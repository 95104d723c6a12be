"""torch.testing.assert_close: PyTorch's default tolerances and its verdicts."""

from __future__ import annotations

import pytest
import torch

import rosenblatt as rb
from rosenblatt.testing import assert_close

CASES = [
    ([1.0, 2.0], [1.0, 2.0 + 1e-7], "float32"),
    ([1.0, 2.0], [1.0, 2.0 + 1e-4], "float32"),
    ([1.0, 2.0], [1.0, 2.0 + 1e-9], "float64"),
    ([1.0, 2.0], [1.0, 2.0 + 1e-6], "float64"),
    ([1, 2], [1, 3], "int64"),
    ([1, 2], [1, 2], "int64"),
]


@pytest.mark.parametrize(("a", "b", "dtype"), CASES)
def test_verdicts_match_pytorch(a, b, dtype) -> None:
    def verdict(lib):
        try:
            lib.testing.assert_close(lib.tensor(a, dtype=getattr(lib, dtype)),
                                     lib.tensor(b, dtype=getattr(lib, dtype)))
        except AssertionError:
            return False
        return True

    assert verdict(rb) == verdict(torch)


def test_messages_shapes_dtypes_and_containers() -> None:
    with pytest.raises(AssertionError, match="Mismatched elements: 1 / 3"):
        assert_close(rb.tensor([1.0, 2.0, 3.0]), rb.tensor([1.0, 2.5, 3.0]))
    with pytest.raises(AssertionError, match="'shape' do not match"):
        assert_close(rb.zeros(2), rb.zeros(3))
    with pytest.raises(AssertionError, match="'dtype' do not match"):
        assert_close(rb.zeros(2), rb.zeros(2, dtype=rb.float64))
    assert_close({"a": [rb.ones(2), 3.0]}, {"a": [rb.ones(2), 3.0]})
    with pytest.raises(AssertionError, match=r"item \['a'\]\[1\]"):
        assert_close({"a": [rb.ones(2), rb.tensor(3.0)]}, {"a": [rb.ones(2), rb.tensor(4.0)]})
    assert_close(rb.tensor([1.0]), rb.tensor([1.1]), rtol=0.2, atol=0.0)
    with pytest.raises(AssertionError, match="custom"):
        assert_close(rb.tensor(1.0), rb.tensor(2.0), msg="custom")
