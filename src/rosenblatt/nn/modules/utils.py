"""`torch.nn.modules.utils`: the tuple helpers custom layers import (_pair, _single, ...)."""

from __future__ import annotations

import collections.abc
import itertools
from typing import Any, Callable

__all__ = ["_single", "_pair", "_triple", "_quadruple", "_ntuple", "_reverse_repeat_tuple"]


def _ntuple(n: int, name: str = "parse") -> Callable[[Any], tuple]:
    """A function making x an n-tuple: an iterable as a tuple, anything else repeated n times."""
    def parse(x: Any) -> tuple:
        if isinstance(x, collections.abc.Iterable):
            return tuple(x)
        return tuple(itertools.repeat(x, n))

    parse.__name__ = name
    return parse


_single = _ntuple(1, "_single")
_pair = _ntuple(2, "_pair")
_triple = _ntuple(3, "_triple")
_quadruple = _ntuple(4, "_quadruple")


def _reverse_repeat_tuple(t: Any, n: int) -> tuple:
    """Each element of reversed(t) repeated n times (F.pad's order from a conv padding)."""
    return tuple(x for x in reversed(t) for _ in range(n))
