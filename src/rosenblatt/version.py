"""`torch.version`: what this build is (Rosenblatt's version; no CUDA or ROCm toolkit is
compiled in: CUDA, when used, comes through CuPy)."""

from __future__ import annotations

from . import __version__ as __version__

cuda = None
hip = None
git_version = "unknown"
debug = False
