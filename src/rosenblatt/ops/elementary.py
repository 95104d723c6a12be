"""More elementary functions: trigonometric and hyperbolic, the log/exp family, and the
binary functions built on them (atan2, hypot, logaddexp, xlogy, copysign, ...).

Each unary function is one line of the table `UNARY` in elementwise.py (with exp, log, sin,
tanh, ...): its value and its gradient rule, side by side, so the forward and the backward rule
are read together. Integer inputs become the default float type first, as in PyTorch.
"""

from __future__ import annotations

from typing import Any

from .. import dtypes
from .._backend import np
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._util import unbroadcast
from .elementwise import (
    NEGATION_OF_BOOL,
    _float_input,
    _float_operands,
    _no_grad_result,
    _operands,
    _refuse_bool_subtraction,
    _xp,
    cast,
    clamp,
    mul,
    predicate,
    quiet,
    refuse_bool,
    refuse_non_float,
    require_tensor,
    unary,
)
from .elementwise import pow as power

tan = unary("tan", "Tangent, elementwise; same shape.")
asin = unary("asin", "Inverse sine (nan outside [-1, 1]); same shape.")
acos = unary("acos", "Inverse cosine (nan outside [-1, 1]); same shape.")
atan = unary("atan", "Inverse tangent; same shape.")
sinh = unary("sinh", "Hyperbolic sine; same shape.")
cosh = unary("cosh", "Hyperbolic cosine; same shape.")
asinh = unary("asinh", "Inverse hyperbolic sine; same shape.")
acosh = unary("acosh", "Inverse hyperbolic cosine (nan below 1); same shape.")
atanh = unary("atanh", "Inverse hyperbolic tangent (nan outside [-1, 1]); same shape.")
log2 = unary("log2", "Base-2 logarithm; same shape.")
log10 = unary("log10", "Base-10 logarithm; same shape.")
log1p = unary("log1p", "log(1 + x), accurate for small x; same shape.")
expm1 = unary("expm1", "exp(x) - 1, accurate for small x; same shape.")
exp2 = unary("exp2", "2 ** x; same shape.")
reciprocal = unary("reciprocal", "1 / x; same shape.")
sinc = unary("sinc", "The normalized sinc, sin(pi x) / (pi x) (1 at 0); same shape.")
deg2rad = unary("deg2rad", "Degrees to radians; same shape.")
rad2deg = unary("rad2deg", "Radians to degrees; same shape.")
_frac = unary("frac", "The fractional part x - trunc(x) (sign of x); same shape.")


def frac(x: Tensor) -> Tensor:
    """The fractional part x - trunc(x), with the sign of x; float x only, same shape."""
    if not x.dtype.is_floating_point:
        raise NotImplementedError(f"frac is not implemented for {x.dtype.name} tensors")
    return _frac(x)


arcsin, arccos, arctan = asin, acos, atan
arcsinh, arccosh, arctanh = asinh, acosh, atanh


def square(x: Tensor) -> Tensor:
    """x * x (integers stay integers, bool becomes int64 as PyTorch's pow(x, 2)); same shape."""
    if x._data.dtype.kind == "b":
        x = cast(x, dtypes.int64)
    return mul(x, x)


class Logit(Function):
    """log(p / (1 - p)), p = x clamped into [eps, 1 - eps] when eps is given. PyTorch's
    derivative: 1 / (x (1 - x)), grad * inf at 0 and 1, and outside the domain NaN (no eps)
    or 0 (outside [eps, 1 - eps]); a NaN x gives NaN either way."""

    @staticmethod
    def forward(ctx, x, eps):
        xp = ctx.xp
        p = x if eps is None else xp.clip(x, eps, 1 - eps)
        ctx.save_for_backward(x)
        ctx.eps = eps
        with quiet():
            return xp.log(p / (1 - p)).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        xp, eps = ctx.xp, ctx.eps
        with quiet():
            edge = (x == 0) | (x == 1)
            out = xp.where(edge, grad * np.inf, grad / xp.where(edge, 1, x * (1 - x)))
            if eps is None:
                return xp.where((x < 0) | (x > 1), np.nan, out).astype(grad.dtype, copy=False)
            return xp.where((x < eps) | (x > 1 - eps), 0, out).astype(grad.dtype, copy=False)


def logit(x: Tensor, eps: float | None = None) -> Tensor:
    """log(p / (1 - p)), p = x clamped into [eps, 1 - eps] when eps is given; same shape."""
    return Logit.apply(_float_input(x), eps=eps)


def clamp_min(x: Tensor, min: Any) -> Tensor:  # noqa: A002 - PyTorch's name
    """max(x, min) elementwise."""
    return clamp(x, min=min)


def clamp_max(x: Tensor, max: Any) -> Tensor:  # noqa: A002 - PyTorch's name
    """min(x, max) elementwise."""
    return clamp(x, max=max)


def positive(x: Tensor) -> Tensor:
    """x itself (the unary plus); bool tensors are refused, as in PyTorch."""
    refuse_bool(x, "The `+` operator, on a bool tensor is not supported.")
    return x


signbit = predicate("signbit", "True where the sign bit is set (negative numbers and -0.0); "
                    "bool, same shape.", __name__)
isposinf = predicate("isposinf", "True where x is +inf; bool, same shape.", __name__)
isneginf = predicate("isneginf", "True where x is -inf; bool, same shape.", __name__)


def isreal(x: Tensor) -> Tensor:
    """True everywhere (rosenblatt has no complex dtypes); bool, same shape."""
    return _no_grad_result(_xp(x).ones(x._data.shape, bool))


# ----------------------------------------------------------------------- binary functions


class Atan2(Function):
    """atan2(y, x): the angle of the point (x, y), in (-pi, pi]."""

    @staticmethod
    def forward(ctx, y, x, bool_y=False):
        ctx.save_for_backward(y, x)
        ctx.bool_y = bool_y
        return ctx.xp.arctan2(y, x)

    @staticmethod
    def backward(ctx, grad):
        if ctx.bool_y and ctx.needs_input_grad[1]:  # PyTorch's formula negates the bool y
            raise RuntimeError(NEGATION_OF_BOOL)
        y, x = ctx.saved_tensors
        with quiet():
            squared = x * x + y * y  # 0 at the origin, where PyTorch's gradient is 0
            scale = grad / ctx.xp.where(squared == 0, 1, squared) * (squared != 0)
        need_y, need_x = ctx.needs_input_grad
        return (unbroadcast(scale * x, y.shape) if need_y else None,
                unbroadcast(-scale * y, x.shape) if need_x else None)


class Hypot(Function):
    """sqrt(a^2 + b^2) without overflow."""

    @staticmethod
    def forward(ctx, a, b):
        out = ctx.xp.hypot(a, b)
        ctx.save_for_backward(a, b, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        with quiet():
            scale = grad / out
        need_a, need_b = ctx.needs_input_grad
        return (unbroadcast(scale * a, a.shape) if need_a else None,
                unbroadcast(scale * b, b.shape) if need_b else None)


class LogAddExp(Function):
    """log(exp(a) + exp(b)), stable for large |a|, |b|; base 2 with `base2`."""

    @staticmethod
    def forward(ctx, a, b, base2=False, bool_operand=False):
        xp = ctx.xp
        ctx.save_for_backward(a, b)  # not the result: PyTorch's backward does without it
        ctx.base2, ctx.bool_operand = base2, bool_operand
        return (xp.logaddexp2 if base2 else xp.logaddexp)(a, b)

    @staticmethod
    def backward(ctx, grad):
        if ctx.bool_operand:  # PyTorch's formula subtracts the operands: a bool one refuses
            _refuse_bool_subtraction(True, 0)
        a, b = ctx.saved_tensors
        xp = ctx.xp
        power = xp.exp2 if ctx.base2 else xp.exp
        need_a, need_b = ctx.needs_input_grad
        # PyTorch's d/da = 1 / (1 + e^(b - a)): 1 where b = -inf, 0 where b = +inf
        with quiet():
            return (unbroadcast(grad / (1 + power(b - a)), a.shape) if need_a else None,
                    unbroadcast(grad / (1 + power(a - b)), b.shape) if need_b else None)


def _xlogy(xp: Any, x: Any, y: Any) -> Any:
    """x * log(y) on arrays, 0 where x == 0 unless y is nan."""
    with quiet():
        out = x * xp.log(y)
    return xp.where((x == 0) & ~xp.isnan(y), 0, out).astype(out.dtype, copy=False)


class XLogY(Function):
    """x * log(y), 0 where x == 0 (even where y == 0), nan where y is nan."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(x, y)
        return _xlogy(ctx.xp, x, y)

    @staticmethod
    def backward(ctx, grad):
        x, y = ctx.saved_tensors
        xp = ctx.xp
        need_x, need_y = ctx.needs_input_grad
        gx = gy = None
        if need_x:  # log(y), taken as 0 where x == 0 and y <= 0 (PyTorch's convention)
            gx = xp.where((x == 0) & (y <= 0), 0, _xlogy(xp, grad, y)).astype(grad.dtype)
            gx = unbroadcast(gx, x.shape)
        if need_y:
            with quiet():
                gy = unbroadcast(grad * x / y, y.shape)
        return gx, gy


class CopySign(Function):
    """|a| with the sign of b; the gradient flows to a only (0 where a == 0)."""

    @staticmethod
    def forward(ctx, a, b):
        out = ctx.xp.copysign(a, b)
        ctx.save_for_backward(a, out)
        ctx.b_shape = b.shape
        return out

    @staticmethod
    def backward(ctx, grad):
        a, out = ctx.saved_tensors
        xp = ctx.xp
        with quiet():
            ratio = xp.where(a == 0, 0, out / xp.where(a == 0, 1, a))
        # b only decides a sign: its gradient is zero (present, as in PyTorch)
        return unbroadcast(grad * ratio, a.shape), xp.zeros(ctx.b_shape, grad.dtype)


def _float_only(name: str, kernel: str, input: Any, other: Any) -> tuple[Tensor, Tensor]:  # noqa: A002
    """Two tensors promoted together; PyTorch's kernel takes no integer or bool result."""
    require_tensor(name, other, input)
    a, b = _operands(input, other)
    refuse_non_float(a, kernel)
    return a, b


def atan2(input: Tensor, other: Any) -> Tensor:  # noqa: A002 - PyTorch's name
    """The angle of (other, input) in (-pi, pi], elementwise with broadcasting."""
    require_tensor("atan2", other, input)
    return Atan2.apply(*_float_operands(input, other), bool_y=input.dtype is dtypes.bool)


arctan2 = atan2


def hypot(input: Tensor, other: Any) -> Tensor:  # noqa: A002 - PyTorch's name
    """sqrt(input^2 + other^2), elementwise with broadcasting."""
    return Hypot.apply(*_float_only("hypot", "hypot_cpu", input, other))


def logaddexp(input: Tensor, other: Any) -> Tensor:  # noqa: A002 - PyTorch's name
    """log(exp(input) + exp(other)), stable; elementwise with broadcasting."""
    return LogAddExp.apply(*_float_only("logaddexp", "logaddexp_cpu", input, other),
                           bool_operand=_has_bool(input, other))


def logaddexp2(input: Tensor, other: Any) -> Tensor:  # noqa: A002 - PyTorch's name
    """log2(2^input + 2^other), stable; elementwise with broadcasting."""
    return LogAddExp.apply(*_float_only("logaddexp2", "logaddexp2_cpu", input, other),
                           base2=True, bool_operand=_has_bool(input, other))


def _has_bool(*tensors: Tensor) -> bool:
    return any(t.dtype is dtypes.bool for t in tensors)


def xlogy(input: Any, other: Any) -> Tensor:  # noqa: A002 - PyTorch's name
    """input * log(other), 0 where input == 0 (entropy terms); broadcasting."""
    return XLogY.apply(*_float_operands(input, other))


def copysign(input: Tensor, other: Any) -> Tensor:  # noqa: A002 - PyTorch's name
    """|input| with the sign of other (-0.0 counts as negative); broadcasting."""
    require_tensor("copysign", None, input)
    return CopySign.apply(*_float_operands(input, other))


def heaviside(input: Tensor, values: Tensor) -> Tensor:  # noqa: A002 - PyTorch's name
    """0 where input < 0, 1 where > 0, `values` where == 0 (no gradient); broadcasting."""
    if input.dtype is not values.dtype:
        raise RuntimeError(f"heaviside is not yet implemented for tensors with different "
                           f"dtypes, {input.dtype.name} and {values.dtype.name}")
    a, v = _operands(input, values)
    return _no_grad_result(_xp(a).heaviside(a._data, v._data))


def float_power(input: Any, exponent: Any) -> Tensor:  # noqa: A002 - PyTorch's name
    """input ** exponent computed in float64, as PyTorch does; broadcasting."""
    def double(v: Any) -> Any:
        return cast(v, dtypes.float64) if isinstance(v, Tensor) else float(v)

    return power(double(input), double(exponent))


class AddcOp(Function):
    """input + value * t1 * t2 (or t1 / t2, `divide`) in one node, as PyTorch's kernel: it
    works at the broadcast shape (a factor's gradient summed over an empty result is 0, not
    0 * inf) and keeps each factor only where another's gradient needs it."""

    @staticmethod
    def forward(ctx, x, t1, t2, value, divide, integral_divisor=None):
        _, need_1, need_2 = ctx.needs_input_grad
        ctx.integral_divisor = integral_divisor
        ctx.save_for_backward(t1 if need_2 else None, t2 if need_1 or need_2 else None)
        ctx.shapes, ctx.value, ctx.divide = (x.shape, t1.shape, t2.shape), value, divide
        with quiet():
            return x + value * (t1 / t2 if divide else t1 * t2)

    @staticmethod
    def backward(ctx, grad):
        t1, t2 = ctx.saved_tensors
        sx, s1, s2 = ctx.shapes
        need_x, need_1, need_2 = ctx.needs_input_grad
        g = grad * ctx.value
        with quiet():
            if ctx.divide:
                if need_1 and ctx.integral_divisor:  # PyTorch's rule divides into t2's dtype
                    raise RuntimeError("result type Float can't be cast to the desired output "
                                       f"type {ctx.integral_divisor}")
                g1 = g / t2 if need_1 else None
                g2 = -g * t1 / (t2 * t2) if need_2 else None
            else:
                g1 = g * t2 if need_1 else None
                g2 = g * t1 if need_2 else None
        return (unbroadcast(grad, sx) if need_x else None,
                None if g1 is None else unbroadcast(g1, s1),
                None if g2 is None else unbroadcast(g2, s2))


def addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, *,  # noqa: A002
            value: Any = 1) -> Tensor:
    """input + value * tensor1 * tensor2, broadcasting, in the dtype of the three tensors."""
    x, t1, t2 = _common(input, tensor1, tensor2)
    kind = x._data.dtype.kind
    if kind == "b":
        raise NotImplementedError("\"addcmul_cpu_out\" not implemented for 'Bool'")
    if kind in "iu":  # PyTorch converts value to the integer dtype (0.5 -> 0)
        value = int(value)
    return AddcOp.apply(x, t1, t2, value=value, divide=False)


def addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, *,  # noqa: A002
            value: Any = 1) -> Tensor:
    """input + value * tensor1 / tensor2, broadcasting, in the dtype of the three tensors."""
    integral = [t._data.dtype.kind in "biu" for t in (tensor1, tensor2)]
    x, t1, t2 = _common(input, tensor1, tensor2)
    if not x.is_floating_point() or all(integral):
        raise RuntimeError("Integer division with addcdiv is no longer supported; use "
                           "(input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype)")
    divisor = dtypes.scalar_type_name(tensor2.dtype) if integral[1] else None
    return AddcOp.apply(x, t1, t2, value=value, divide=True, integral_divisor=divisor)


def _common(*tensors: Tensor) -> tuple[Tensor, ...]:
    """The tensors cast to the dtype PyTorch promotes them to together (0-d ones included)."""
    common = dtypes.result_type(*tensors)
    return tuple(cast(t, common) for t in tensors)
