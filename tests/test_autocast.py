"""amp.autocast: PyTorch's arguments, context manager and decorator; a pass-through that
keeps every dtype (float32 stays float32)."""

from __future__ import annotations

import pytest

import rosenblatt as rb
from rosenblatt import amp


def test_autocast_keeps_float32_and_reports_itself() -> None:
    x = rb.ones(2, 3)
    w = rb.ones(3, 4)
    assert not amp.is_autocast_enabled()
    with rb.autocast(device_type="cpu", dtype=rb.float16):
        assert amp.is_autocast_enabled()
        assert (x @ w).dtype == rb.float32
        with amp.autocast("cpu", enabled=False):
            assert not amp.is_autocast_enabled()
    assert not amp.is_autocast_enabled()


def test_autocast_as_decorator_and_cuda_spelling() -> None:
    @amp.autocast("cuda")
    def inside() -> bool:
        return amp.is_autocast_enabled()

    assert inside() is True
    with rb.cuda.amp.autocast():
        assert amp.is_autocast_enabled()


def test_autocast_rejects_what_pytorch_rejects() -> None:
    with pytest.raises(RuntimeError, match="unsupported autocast device_type"):
        amp.autocast("tpu")
    with pytest.raises(ValueError, match="device_type"):
        amp.autocast(rb.device("cpu"))
