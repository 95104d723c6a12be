"""`torch.onnx`: importable, so programs that only mention it run; exporting is not there yet.

The export itself belongs to another piece of work; until it lands, `export` raises at the
call (never at import), saying so.
"""

from __future__ import annotations

from typing import Any

__all__ = ["export", "is_in_onnx_export"]


def export(model: Any, args: Any = (), f: Any = None, *more: Any, **kwargs: Any) -> Any:
    """Raises NotImplementedError: Rosenblatt cannot export ONNX from torch.onnx.export yet."""
    raise NotImplementedError("torch.onnx.export: Rosenblatt does not export ONNX models yet")


def is_in_onnx_export() -> bool:
    """False: no export is ever in progress."""
    return False
