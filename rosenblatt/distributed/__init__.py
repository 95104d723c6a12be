"""`torch.distributed`: Rosenblatt has no distributed training yet (one process, one device).

The queries programs make before deciding to go distributed answer truthfully
(`is_available()` and `is_initialized()` are False); calls that would start or use a
process group raise, saying so.
"""

from __future__ import annotations

from typing import Any, NoReturn

__all__ = ["is_available", "is_initialized", "is_torchelastic_launched", "init_process_group",
           "get_rank", "get_world_size", "barrier", "all_reduce", "destroy_process_group"]


def is_available() -> bool:
    """False: no distributed backend."""
    return False


def is_initialized() -> bool:
    """False: no process group is ever started."""
    return False


def is_torchelastic_launched() -> bool:
    """False: not started by torchrun."""
    return False


def _missing(name: str) -> NoReturn:
    raise RuntimeError(f"torch.distributed.{name}: Rosenblatt has no distributed training yet "
                       "(one process, one device)")


def init_process_group(*args: Any, **kwargs: Any) -> None:
    """Raises: no distributed backend."""
    _missing("init_process_group")


def get_rank(group: Any = None) -> int:
    """Raises, as PyTorch does without a process group."""
    _missing("get_rank")


def get_world_size(group: Any = None) -> int:
    """Raises, as PyTorch does without a process group."""
    _missing("get_world_size")


def barrier(*args: Any, **kwargs: Any) -> None:
    """Raises: no process group."""
    _missing("barrier")


def all_reduce(*args: Any, **kwargs: Any) -> None:
    """Raises: no process group."""
    _missing("all_reduce")


def destroy_process_group(*args: Any, **kwargs: Any) -> None:
    """Raises: no process group."""
    _missing("destroy_process_group")
