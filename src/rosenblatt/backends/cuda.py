"""`torch.backends.cuda`: matmul and attention-kernel flags (stored; products stay float32)."""

from __future__ import annotations

from typing import Any

from .._backend import cuda_is_available


class _MatmulFlags:
    """`torch.backends.cuda.matmul.allow_tf32 = True` and its siblings: stored, no effect."""

    def __init__(self) -> None:
        self.allow_tf32 = False
        self.allow_fp16_reduced_precision_reduction = True
        self.allow_bf16_reduced_precision_reduction = True
        self.allow_fp16_accumulation = False


matmul = _MatmulFlags()
_sdp = {"flash": True, "mem_efficient": True, "math": True, "cudnn": True}


def is_built() -> bool:
    """True when CUDA can be used (Rosenblatt reaches CUDA through CuPy, when installed)."""
    return cuda_is_available()


def _switch(kind: str) -> tuple[Any, Any]:
    def enable(enabled: bool) -> None:
        _sdp[kind] = bool(enabled)

    def enabled() -> bool:
        return _sdp[kind]

    enable.__doc__ = f"Record whether the {kind} attention kernel may be used (one kernel here)."
    enabled.__doc__ = f"Whether the {kind} attention kernel was left enabled."
    return enable, enabled


enable_flash_sdp, flash_sdp_enabled = _switch("flash")
enable_mem_efficient_sdp, mem_efficient_sdp_enabled = _switch("mem_efficient")
enable_math_sdp, math_sdp_enabled = _switch("math")
enable_cudnn_sdp, cudnn_sdp_enabled = _switch("cudnn")
