"""Tensor methods that are the op functions themselves (`x.sum(1)` is `ops.reduce.sum(x, 1)`).

One table, so each op is written once, in `rosenblatt.ops`, and reached both ways.
"""

from __future__ import annotations

from typing import Any

from ..ops import elementary as el
from ..ops import elementwise as ew
from ..ops import fused, index, linalg, linalg_decomp, reduce, search, shape
from .tensor import Tensor

_METHODS = {
    ew: "add sub mul div true_divide divide pow neg negative exp log sqrt rsqrt abs absolute "
        "sign sgn sin cos tanh sigmoid relu clamp clip maximum minimum floor ceil round trunc "
        "isnan isinf isfinite eq ne lt le gt ge greater greater_equal less less_equal not_equal "
        "logical_and logical_or logical_xor logical_not equal allclose isclose floor_divide "
        "remainder fmod erf erfc lerp nan_to_num multiply subtract",
    el: "tan asin acos atan sinh cosh asinh acosh atanh arcsin arccos arctan arcsinh arccosh "
        "arctanh log2 log10 log1p expm1 exp2 reciprocal sinc deg2rad rad2deg frac square logit "
        "clamp_min clamp_max positive signbit isposinf isneginf isreal atan2 arctan2 hypot "
        "logaddexp logaddexp2 xlogy copysign heaviside float_power addcmul addcdiv",
    reduce: "sum mean prod amax amin max min var std logsumexp norm cumsum argmax argmin all "
            "any count_nonzero cumprod nansum nanmean median nanmedian mode kthvalue cummax "
            "cummin logcumsumexp aminmax quantile nanquantile bincount dist",
    shape: "reshape view view_as reshape_as permute transpose swapaxes swapdims t expand "
           "expand_as broadcast_to squeeze unsqueeze flatten unflatten ravel split chunk "
           "tensor_split unbind repeat flip movedim roll tile narrow diff repeat_interleave "
           "rot90 fliplr flipud trace",
    index: "masked_fill masked_select gather scatter_add scatter index_select tril triu nonzero "
           "sort argsort topk diag index_add index_copy index_fill take_along_dim take diagonal "
           "diag_embed select argwhere masked_scatter",  # (torch.Tensor has no isin method)
    linalg: "matmul mm bmm mv dot outer addmm baddbmm addbmm kron cross",
    fused: "softmax log_softmax",
}

for module, names in _METHODS.items():
    for name in names.split():
        setattr(Tensor, name, getattr(module, name))


def _inplace_method(op: Any, name: str) -> Any:
    """`x.name_(...)`: x's values replaced by `op(x, ...)`, recorded like other in-place ops."""
    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        self._refuse_partial_overlap((*args, *kwargs.values()))
        return self._inplace(lambda: op(self, *args, **kwargs))

    method.__name__ = name + "_"
    method.__doc__ = f"In-place {name}."
    return method


_INPLACE = {
    ew: "fmod erf erfc lerp nan_to_num abs absolute sign sgn sin cos tanh sigmoid log rsqrt "
        "floor ceil round trunc eq ne lt le gt ge greater greater_equal less less_equal "
        "not_equal logical_and logical_or logical_xor logical_not floor_divide remainder "
        "multiply subtract divide true_divide negative",
    el: "tan asin acos atan sinh cosh asinh acosh atanh arcsin arccos arctan arcsinh arccosh "
        "arctanh log2 log10 log1p expm1 exp2 reciprocal sinc deg2rad rad2deg frac square logit "
        "clamp_min clamp_max atan2 arctan2 hypot xlogy copysign heaviside addcmul addcdiv",
    reduce: "cumprod cumsum",
    index: "scatter scatter_add tril triu index_add index_copy index_fill masked_scatter",
    linalg: "addmm baddbmm addbmm",
}
for module, names in _INPLACE.items():
    for name in names.split():
        setattr(Tensor, name + "_", _inplace_method(getattr(module, name), name))

Tensor.T = property(shape.T, doc="All dimensions reversed.")  # type: ignore[attr-defined]
Tensor.mT = property(shape.mT, doc="The last two dimensions swapped.")  # type: ignore[attr-defined]
Tensor.where = lambda self, condition, other: ew.where(condition, self, other)  # type: ignore

# Operators go straight to the op functions: one Python call fewer on the hottest path.
Tensor.__add__ = ew.add  # type: ignore[method-assign]
Tensor.__sub__ = ew.sub  # type: ignore[method-assign]
Tensor.__mul__ = ew.mul  # type: ignore[method-assign]
Tensor.__truediv__ = ew.div  # type: ignore[method-assign]
Tensor.__pow__ = ew.pow  # type: ignore[method-assign]
Tensor.__neg__ = ew.neg  # type: ignore[method-assign]
Tensor.__matmul__ = linalg.matmul  # type: ignore[method-assign]

# Matrix functions and searches (ops.linalg_decomp, ops.search), under PyTorch's method names.
Tensor.inverse = linalg_decomp.inv  # type: ignore[attr-defined]
Tensor.det = linalg_decomp.det  # type: ignore[attr-defined]
Tensor.logdet = linalg_decomp.logdet  # type: ignore[attr-defined]
Tensor.slogdet = linalg_decomp.slogdet  # type: ignore[attr-defined]
Tensor.cholesky = linalg_decomp.legacy_cholesky  # type: ignore[attr-defined]
Tensor.matrix_exp = linalg_decomp.matrix_exp  # type: ignore[attr-defined]
Tensor.pinverse = linalg_decomp.pinverse  # type: ignore[attr-defined]
Tensor.unique = search.unique  # type: ignore[attr-defined]
Tensor.histc = search.histc  # type: ignore[attr-defined]
