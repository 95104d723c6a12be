"""torch.cuda / torch.accelerator / torch.mps / torch.backends answer truthfully for this
machine (CUDA only through CuPy with a GPU), and the flags programs set are accepted."""

from __future__ import annotations

import pytest
import torch

import rosenblatt as rb
from rosenblatt._backend import cuda_is_available


def test_cuda_queries_match_what_cupy_sees() -> None:
    available = cuda_is_available()
    assert rb.cuda.is_available() is available
    assert (rb.cuda.device_count() > 0) is available
    assert rb.accelerator.is_available() is available
    if available:
        assert rb.accelerator.current_accelerator() == rb.device("cuda")
        assert isinstance(rb.cuda.get_device_name(), str)
    else:
        assert rb.accelerator.current_accelerator() is None
        assert rb.accelerator.device_count() == 0
        assert rb.cuda.memory_allocated() == 0
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            rb.cuda.current_device()
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            rb.cuda.synchronize()


def test_no_mps_and_no_cudnn() -> None:
    assert rb.mps.is_available() is False and rb.backends.mps.is_available() is False
    assert rb.backends.mps.is_built() is False
    assert rb.backends.cudnn.is_available() is False and rb.backends.cudnn.version() is None
    with pytest.raises(RuntimeError, match="no MPS"):
        rb.mps.synchronize()


def test_flags_are_accepted_as_in_pytorch() -> None:
    import rosenblatt.backends.cudnn as cudnn

    saved = (rb.backends.cuda.matmul.allow_tf32, cudnn.benchmark, cudnn.deterministic)
    try:
        rb.backends.cuda.matmul.allow_tf32 = True
        cudnn.benchmark, cudnn.deterministic = True, True
        assert rb.backends.cudnn.benchmark is True
        x = rb.ones(2, 2)
        assert (x @ x).dtype == rb.float32
    finally:
        rb.backends.cuda.matmul.allow_tf32, cudnn.benchmark, cudnn.deterministic = saved
    rb.backends.cuda.enable_flash_sdp(False)
    assert rb.backends.cuda.flash_sdp_enabled() is False
    rb.backends.cuda.enable_flash_sdp(True)


def test_float32_matmul_precision() -> None:
    assert rb.get_float32_matmul_precision() == torch.get_float32_matmul_precision()
    rb.set_float32_matmul_precision("high")
    assert rb.get_float32_matmul_precision() == "high"
    rb.set_float32_matmul_precision("highest")
    with pytest.raises(RuntimeError, match="invalid precision"):
        rb.set_float32_matmul_precision("fast")


def test_cuda_seeding_seeds_the_shared_generator() -> None:
    rb.cuda.manual_seed_all(3)
    a = rb.rand(3)
    rb.cuda.manual_seed(3)
    assert rb.equal(a, rb.rand(3))


def test_onnx_imports_and_no_export_is_in_progress() -> None:
    import rosenblatt.onnx as onnx  # the exporter itself: tests/onnx

    assert onnx.is_in_onnx_export() is False
    assert callable(onnx.export)


def test_thread_and_determinism_settings() -> None:
    from threadpoolctl import threadpool_limits

    with threadpool_limits(2):
        rb.set_num_threads(1)
        assert rb.get_num_threads() == 1
    with pytest.raises(RuntimeError, match="positive integer"):
        rb.set_num_threads(0)
    rb.use_deterministic_algorithms(True)
    assert rb.are_deterministic_algorithms_enabled() is True
    rb.use_deterministic_algorithms(False)
    assert rb.are_deterministic_algorithms_enabled() is False


def test_absent_parts_are_attribute_errors_for_hasattr(monkeypatch) -> None:
    monkeypatch.setattr(rb, "_SUBMODULES", {*rb._SUBMODULES, "no_such_part"})
    assert not hasattr(rb, "no_such_part")  # a listed part missing from the build
