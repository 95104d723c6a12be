"""dtypes and PyTorch's type promotion: tensors, 0-d tensors and Python scalars."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

import rosenblatt as rb

NAMES = ["bool", "uint8", "int32", "int64", "float16", "float32", "float64"]
SCALARS = [True, 2, 2.5]


def _pair(name: str, ndim: int):
    shape = (2,) * ndim
    array = np.ones(shape, dtype=np.dtype(name))
    return rb.from_numpy(array), torch.from_numpy(array.copy())


def _name(dtype) -> str:
    return str(dtype).split(".")[-1]


def test_defaults():
    assert rb.get_default_dtype() is rb.float32
    assert rb.tensor([1.0]).dtype is rb.float32 and rb.tensor(1.5).dtype is rb.float32
    assert rb.tensor([1, 2]).dtype is rb.int64 and rb.tensor(3).dtype is rb.int64
    assert rb.tensor([True]).dtype is rb.bool
    assert rb.zeros(2).dtype is rb.float32 and rb.arange(3).dtype is rb.int64
    assert rb.arange(0.0, 1.0, 0.5).dtype is rb.float32
    assert rb.float is rb.float32 and rb.double is rb.float64 and rb.long is rb.int64
    assert rb.int is rb.int32 and rb.half is rb.float16
    assert rb.float32.is_floating_point and not rb.int64.is_floating_point
    assert repr(rb.float32) == "rosenblatt.float32"


@pytest.mark.parametrize("a, b", list(itertools.product(NAMES, NAMES)))
@pytest.mark.parametrize("dims", [(1, 1), (1, 0), (0, 1), (0, 0)])
def test_result_type_of_tensors(a, b, dims):
    (ra, ta), (rb_, tb) = _pair(a, dims[0]), _pair(b, dims[1])
    assert rb.result_type(ra, rb_).name == _name(torch.result_type(ta, tb))
    assert rb.promote_types(getattr(rb, a), getattr(rb, b)).name == _name(
        torch.promote_types(getattr(torch, a), getattr(torch, b)))


@pytest.mark.parametrize("a", NAMES)
@pytest.mark.parametrize("scalar", SCALARS, ids=repr)
@pytest.mark.parametrize("ndim", [0, 1])
def test_result_type_with_python_scalars(a, scalar, ndim):
    ra, ta = _pair(a, ndim)
    assert rb.result_type(ra, scalar).name == _name(torch.result_type(ta, scalar))


@pytest.mark.parametrize("a", ["bool", "int64", "float32", "float64", "int32"])
@pytest.mark.parametrize("b", ["bool", "int64", "float32", "float64", "uint8"])
@pytest.mark.parametrize("op", ["add", "mul", "sub", "div", "maximum", "lt"])
def test_ops_follow_promotion(a, b, op):
    (ra, ta), (rb_, tb) = _pair(a, 1), _pair(b, 0)
    if op == "sub" and "bool" in (a, b):  # both refuse, with the same words
        with pytest.raises(RuntimeError) as theirs:
            torch.sub(ta, tb)
        with pytest.raises(RuntimeError, match=r"Subtraction, the `-` operator") as ours:
            rb.sub(ra, rb_)
        assert str(ours.value) == str(theirs.value)
        return
    ours, theirs = getattr(rb, op)(ra, rb_), getattr(torch, op)(ta, tb)
    assert ours.dtype.name == _name(theirs.dtype)
    for scalar in (3, 0.5) if op != "maximum" else ():  # torch.maximum takes tensors only
        assert getattr(rb, op)(ra, scalar).dtype.name == _name(getattr(torch, op)(ta, scalar).dtype)


def test_reflected_scalar_ops_keep_float32():
    x = rb.ones(2)
    for y in (2 * x, x * 2.0, 1 - x, 2.0 / x, x**2, 2**x, x / 3, -x):
        assert y.dtype is rb.float32 and y._data.dtype == np.float32


def test_integer_division_gives_float():
    assert (rb.tensor([3, 4]) / 2).dtype is rb.float32
    assert (rb.tensor([3, 4]) // 2).dtype is rb.int64


def test_casts():
    x = rb.tensor([1.7, -2.2])
    assert x.double().dtype is rb.float64 and x.long().tolist() == [1, -2]
    assert x.int().dtype is rb.int32 and x.bool().tolist() == [True, True]
    assert x.float() is x and x.to(rb.float32) is x
    assert x.to(rb.float64).dtype is rb.float64
    assert x.to("cpu") is x and x.to(rb.ones(1, dtype=rb.float64)).dtype is rb.float64
    assert x.to("cpu", rb.int64).dtype is rb.int64
    assert x.half().dtype is rb.float16
    assert x.type(rb.float64).dtype is rb.float64


def test_set_default_dtype():
    rb.set_default_dtype(rb.float64)
    try:
        assert rb.tensor([1.0]).dtype is rb.float64 and rb.randn(2).dtype is rb.float64
        assert rb.result_type(rb.tensor([1]), 1.0) is rb.float64
    finally:
        rb.set_default_dtype(rb.float32)
    with pytest.raises(TypeError):
        rb.set_default_dtype(rb.int64)


def test_unsupported_numpy_dtype():
    with pytest.raises(TypeError, match="supported types"):
        rb.from_numpy(np.zeros(2, dtype=np.complex64))
