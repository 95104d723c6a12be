"""Activation functions fused into one node each (fewer temporaries, exact gradients at 0)."""

from __future__ import annotations

import importlib
import math
from typing import Any

from .._backend import np, parallel
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from .elementwise import Silu, refuse_non_float, sigmoid_array


class LeakyRelu(Function):
    @staticmethod
    def forward(ctx, x, slope):
        ctx.save_for_backward(x)
        ctx.slope = slope
        return _leaky(ctx.xp, x, x, slope)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return _leaky(ctx.xp, x, grad, ctx.slope)


@parallel.elementwise  # (the kernels of this file split over the kernel threads when large)
def _leaky(xp: Any, x: Any, value: Any, slope: float) -> Any:
    """value where x > 0, else value * slope: leaky ReLU's value (value x) and gradient."""
    return xp.where(x > 0, value, value * slope)


class Elu(Function):
    """x for x > 0, else alpha (exp(s x) - 1), s the input scale (1 / alpha for celu)."""

    @staticmethod
    def forward(ctx, x, alpha, scale=1.0):
        ctx.save_for_backward(x)
        ctx.alpha, ctx.scale = alpha, scale
        with np.errstate(over="ignore"):
            return _elu(ctx.xp, x, alpha, scale)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        with np.errstate(over="ignore"):
            return _elu_grad(ctx.xp, x, grad, ctx.alpha * ctx.scale, ctx.scale)


@parallel.elementwise
def _elu(xp: Any, x: Any, alpha: float, scale: float) -> Any:
    # (0 first: on a tie NumPy's minimum returns its second operand, so -0.0 stays)
    negative = alpha * xp.expm1(xp.minimum(0, x) * scale)
    return xp.where(x > 0, x, negative)


@parallel.elementwise
def _elu_grad(xp: Any, x: Any, grad: Any, slope: float, scale: float) -> Any:
    # PyTorch's test is x <= 0, so a NaN input passes the gradient unchanged
    return xp.where(x <= 0, grad * slope * xp.exp(xp.minimum(x, 0) * scale), grad)


class Hardswish(Function):
    """x * relu6(x + 3) / 6, with PyTorch's derivative: 0 up to -3, x / 3 + 1 / 2 below 3,
    1 from 3 on (and at NaN)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(invalid="ignore"):  # -inf * 0 is NaN, as in PyTorch
            return x * ctx.xp.clip(x + 3, 0, 6) / 6

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        xp = ctx.xp
        inner = xp.where(x < 3, grad * (x / 3 + 0.5), grad)
        return xp.where(x <= -3, grad.dtype.type(0), inner)


class Gelu(Function):
    """x * Phi(x), exactly (erf) or with PyTorch's tanh approximation."""

    @staticmethod
    def forward(ctx, x, approximate):
        ctx.save_for_backward(x)
        ctx.approximate = approximate
        if approximate == "tanh":
            ctx.t, out = _gelu_tanh(ctx.xp, x)
        else:
            ctx.cdf, out = _gelu_erf(ctx.xp, x)  # cdf kept so backward needs no second erf
        return out

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        if ctx.approximate == "tanh":
            return _gelu_tanh_grad(x, ctx.t, grad)
        return _gelu_erf_grad(ctx.xp, x, ctx.cdf, grad)


_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)


# GELU's kernels: elementwise chains, split over the kernel threads when large
@parallel.elementwise
def _gelu_tanh(xp: Any, x: Any) -> tuple:
    t = xp.tanh(_SQRT_2_OVER_PI * (x + 0.044715 * (x * x * x)))
    return t, 0.5 * x * (1 + t)


@parallel.elementwise
def _gelu_erf(xp: Any, x: Any) -> tuple:
    cdf = erf(xp, x * (1 / math.sqrt(2)))
    cdf += 1
    cdf *= 0.5
    return cdf, x * cdf


@parallel.elementwise
def _gelu_tanh_grad(x: Any, t: Any, grad: Any) -> Any:
    dinner = _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * (x * x))
    return grad * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * dinner)


@parallel.elementwise
def _gelu_erf_grad(xp: Any, x: Any, cdf: Any, grad: Any) -> Any:
    pdf = xp.exp(-0.5 * (x * x))
    pdf *= x * (1 / math.sqrt(2 * math.pi))
    pdf += cdf
    return grad * pdf


class Mish(Function):
    """x * tanh(softplus(x)) in one node, with PyTorch's derivative
    tanh(sp) + x * sigmoid(x) * (1 - tanh(sp)^2): one product, so an infinite gradient does
    not meet two terms of opposite signs (inf - inf)."""

    @staticmethod
    def forward(ctx, x):
        xp = ctx.xp
        softplus = xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))
        t = xp.tanh(softplus)
        ctx.save_for_backward(x)
        with np.errstate(invalid="ignore"):  # -inf * 0 is NaN, as in PyTorch
            return x * t

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        xp = ctx.xp
        t = xp.tanh(xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x))))
        with np.errstate(invalid="ignore"):
            return grad * (t + x * sigmoid_array(xp, x) * (1 - t * t))


class LogSigmoid(Function):
    """log(sigmoid(x)) = -softplus(-x), stable for any x; derivative sigmoid(-x). The result
    is contiguous, as PyTorch's (its kernel allocates a fresh output)."""

    @staticmethod
    def forward(ctx, x):
        xp = ctx.xp
        ctx.save_for_backward(x)
        out = -(xp.maximum(-x, 0) + xp.log1p(xp.exp(-xp.abs(x))))
        # (ascontiguousarray would make a 0-d result 1-d)
        return out if out.flags.c_contiguous else xp.ascontiguousarray(out)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * sigmoid_array(ctx.xp, -x)


class Softplus(Function):
    """log(1 + exp(beta x)) / beta, linear above `threshold` (PyTorch's definition)."""

    @staticmethod
    def forward(ctx, x, beta, threshold):
        ctx.save_for_backward(x)
        ctx.beta, ctx.threshold = beta, threshold
        return _softplus(ctx.xp, x, beta, threshold)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return _softplus_grad(ctx.xp, x, grad, ctx.beta, ctx.threshold)


@parallel.elementwise
def _softplus(xp: Any, x: Any, beta: float, threshold: float) -> Any:
    bx = x * beta
    soft = xp.log1p(xp.exp(xp.minimum(bx, threshold))) / beta
    return xp.where(bx > threshold, x, soft)


@parallel.elementwise
def _softplus_grad(xp: Any, x: Any, grad: Any, beta: float, threshold: float) -> Any:
    bx = x * beta
    return xp.where(bx > threshold, grad, grad * sigmoid_array(xp, bx))


def erf(xp: Any, x: Any) -> Any:
    """The error function, elementwise (SciPy's when installed, else a series)."""
    special = _special(xp)
    if special is not None:
        return special.erf(x)
    return _erf_series(xp, x)


def erfc(xp: Any, x: Any) -> Any:
    """1 - erf(x), elementwise, without the cancellation where erf(x) is near 1."""
    special = _special(xp)
    if special is not None:
        return special.erfc(x)
    if xp.__name__ == "numpy":
        return np.frompyfunc(math.erfc, 1, 1)(x).astype(x.dtype)
    return 1 - _erf_series(xp, x)


_SPECIAL: dict[str, Any] = {}


def _special(xp: Any) -> Any:
    """scipy.special (or cupyx.scipy.special on the GPU), or None if not installed."""
    name = "cupyx.scipy.special" if xp.__name__ == "cupy" else "scipy.special"
    if name not in _SPECIAL:
        try:
            _SPECIAL[name] = importlib.import_module(name)
        except ImportError:
            _SPECIAL[name] = None
    return _SPECIAL[name]


def _erf_series(xp: Any, x: Any) -> Any:
    """erf(x) = 2/sqrt(pi) exp(-x^2) sum 2^n x^(2n+1) / (2n+1)!!, all terms positive.

    Exact to double precision for |x| < 6; erf is +-1 in double precision beyond that.
    """
    a = xp.minimum(xp.abs(x), 6.0)
    term = a.copy()
    total = a.copy()
    for n in range(1, 160):
        term = term * (2 * a * a) / (2 * n + 1)
        total = total + term
    out = (2 / math.sqrt(math.pi)) * xp.exp(-a * a) * total
    return xp.sign(x) * xp.minimum(out, 1.0)


def leaky_relu(x: Tensor, negative_slope: float = 0.01) -> Tensor:
    """max(0, x) + negative_slope * min(0, x)."""
    refuse_non_float(x, "leaky_relu_cpu")
    return LeakyRelu.apply(x, slope=negative_slope)


def elu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""
    refuse_non_float(x, "elu_cpu")
    return Elu.apply(x, alpha=alpha)


def celu(x: Tensor, alpha: float = 1.0) -> Tensor:
    """x for x > 0, alpha * (exp(x / alpha) - 1) otherwise (PyTorch's elu with input scale)."""
    if alpha == 0:
        raise ValueError("ZeroDivisionError: alpha cannot be 0 for CELU")
    refuse_non_float(x, "elu_cpu")
    return Elu.apply(x, alpha=alpha, scale=1 / alpha)


def hardswish(x: Tensor) -> Tensor:
    """x * relu6(x + 3) / 6 (MobileNetV3)."""
    refuse_non_float(x, "hardswish_cpu")
    return Hardswish.apply(x)


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """x * Phi(x) with Phi the standard normal CDF ('tanh': the tanh approximation)."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"approximate argument must be either none or tanh, got "
                         f"'{approximate}'")
    refuse_non_float(x, "GeluKernelImpl")
    return Gelu.apply(x, approximate=approximate)


def silu(x: Tensor) -> Tensor:
    """x * sigmoid(x) (also called swish)."""
    refuse_non_float(x, "silu_cpu")
    return Silu.apply(x)


def logsigmoid(x: Tensor) -> Tensor:
    """log(sigmoid(x)), stable for any x."""
    refuse_non_float(x, "log_sigmoid_cpu")
    return LogSigmoid.apply(x)


def mish(x: Tensor) -> Tensor:
    """x * tanh(softplus(x))."""
    refuse_non_float(x, "mish_cpu")
    return Mish.apply(x)


def softplus(x: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta * x)) / beta, reverting to x where beta * x > threshold."""
    refuse_non_float(x, "softplus_cpu")
    return Softplus.apply(x, beta=beta, threshold=threshold)
