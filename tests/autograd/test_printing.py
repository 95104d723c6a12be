"""repr(tensor) laid out exactly as str(torch_tensor), modulo the library name."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

import rosenblatt as rb

RNG = np.random.default_rng(0)
CASES = {
    "row": np.array([[0.3930, -1.1067]], np.float32),
    "integral_floats": np.array([1.0, 2.0, 3.0], np.float32),
    "mixed_widths": np.array([1.5, -20.25, 300.125], np.float32),
    "scientific": np.array([1e-5, 1.0, 1e5], np.float32),
    "large": np.array([123456789.0, 1.0], np.float32),
    "nonfinite": np.array([np.nan, np.inf, -1.5], np.float32),
    "signed_zero": np.array([0.0, -0.0, 2.0], np.float32),
    "scalar": np.array(3.5, np.float32),
    "float64": np.arange(12, dtype=np.float64).reshape(3, 4) / 7,
    "3d": RNG.standard_normal((3, 2, 4)).astype(np.float32),
    "wraps_lines": RNG.standard_normal((5, 12)).astype(np.float32),
    "summarized_1d": np.arange(2000, dtype=np.float32),
    "summarized_2d": RNG.standard_normal((40, 30)).astype(np.float32),
    "int64": np.array([[1, -2], [30, 4]], np.int64),
    "int_scalar": np.array(7, np.int64),
    "int32": np.array([1, 2], np.int32),
    "uint8": np.array([[255, 0, 7]], np.uint8),
    "bool": np.array([True, False, True]),
    "bool_2d": np.array([[True], [False]]),
    "empty": np.zeros((0,), np.float32),
    "empty_2d": np.zeros((2, 0), np.float32),
    "empty_int": np.zeros((0,), np.int64),
}


def _same(ours: str, theirs: str) -> None:
    theirs = theirs.replace("torch.", "rosenblatt.")
    theirs = re.sub(r"grad_fn=<(\w+?)\d*>", r"grad_fn=<\1>", theirs)
    assert ours == theirs


@pytest.mark.parametrize("name", list(CASES))
def test_repr_matches_pytorch(name):
    array = CASES[name]
    _same(repr(rb.from_numpy(array.copy())), str(torch.from_numpy(array.copy())))


def test_requires_grad_and_grad_fn_suffixes():
    data = [[0.3930, -1.1067]]
    x, tx = rb.tensor(data, requires_grad=True), torch.tensor(data, requires_grad=True)
    _same(repr(x), str(tx))
    _same(repr(x * 2), str(tx * 2))
    _same(repr((x * 2).sum()), str((tx * 2).sum()))
    d = rb.tensor([1.0, 2.0], dtype=rb.float64, requires_grad=True)
    _same(repr(d), str(torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)))
    wide = RNG.standard_normal((2, 9)).astype(np.float32)
    _same(repr(rb.tensor(wide) * rb.ones(9, requires_grad=True)),
          str(torch.tensor(wide) * torch.ones(9, requires_grad=True)))


def test_default_dtype_changes_what_is_shown():
    rb.set_default_dtype(rb.float64)
    torch.set_default_dtype(torch.float64)
    try:
        for array in (np.array([1.5, 2.0]), np.array([1.5], np.float32)):
            _same(repr(rb.from_numpy(array)), str(torch.from_numpy(array)))
    finally:
        rb.set_default_dtype(rb.float32)
        torch.set_default_dtype(torch.float32)
