"""Elementwise ops: arithmetic with broadcasting, math functions, comparisons and casts."""

from __future__ import annotations

import math
import operator
import warnings
from typing import Any, Callable

from .. import dtypes
from .._backend import array_module, ndarray, np, parallel
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._util import iterator_layout, unbroadcast


def constant(value: Any, like: Tensor, dtype: dtypes.dtype | None = None) -> Tensor:
    """A Python number as a 0-d tensor on `like`'s device (no gradient); an integer outside
    the dtype's range wraps around, as PyTorch converts it (uint8 tensor - 300)."""
    d = (dtype or like.dtype).np
    xp = array_module(like._data)
    try:
        data = xp.asarray(value, dtype=d)
    except OverflowError:
        data = xp.asarray(value).astype(d)
    return Tensor._make(data, False, None)


def _scalar(value: Any, like: Any) -> Tensor:
    """A Python number as a 0-d tensor of `like`'s dtype and device (no gradient).

    CPU constants are cached (read-only): `y * 1.0` in a loop allocates nothing new."""
    cpu = like.__class__ is ndarray
    if cpu:
        key = (value, like.dtype)
        t = _CONSTANTS.get(key)
        if t is not None:
            return t
    t = _new(Tensor)
    t._data = (np if cpu else array_module(like)).asarray(value, dtype=like.dtype)
    t.requires_grad = False
    t.grad = None
    t._node = None
    t._version_box = [0]
    if cpu:
        t._data.flags.writeable = False
        if len(_CONSTANTS) > 1024:
            _CONSTANTS.clear()
        _CONSTANTS[key] = t
    return t


_CONSTANTS: dict = {}


_new = object.__new__


def quiet() -> Any:
    """Silence NumPy's divide/overflow/invalid warnings: inf and nan are results, as in PyTorch
    (anomaly mode is the tool for finding them)."""
    return np.errstate(divide="ignore", invalid="ignore", over="ignore")


def _operands(a: Any, b: Any, dtype: dtypes.dtype | None = None) -> tuple[Tensor, Tensor]:
    """Promote two operands (tensors or numbers) to one dtype, as PyTorch does."""
    if dtype is None:
        # Fast paths (every binary op comes here): two tensors of one dtype, or a float
        # tensor and a Python int/float, which keeps the tensor's dtype.
        if isinstance(a, Tensor):
            if isinstance(b, Tensor):
                if a._data.dtype == b._data.dtype:
                    return a, b
            elif (b.__class__ is float or b.__class__ is int) and a._data.dtype.kind == "f":
                return a, _scalar(b, a._data)
        elif (a.__class__ is float or a.__class__ is int) and isinstance(b, Tensor) \
                and b._data.dtype.kind == "f":
            return _scalar(a, b._data), b
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        raise TypeError(
            f"expected at least one tensor, got {type(a).__name__} and {type(b).__name__}"
        )
    target = dtype or dtypes.result_type(a, b)
    like = a if isinstance(a, Tensor) else b
    return _as(a, target, like), _as(b, target, like)


def _as(x: Any, target: dtypes.dtype, like: Tensor) -> Tensor:
    """`x` as a tensor of dtype `target`."""
    if isinstance(x, Tensor):
        return x if x._data.dtype == target.np else cast(x, target)
    return constant(x, like, target)


def refuse_non_float(x: Tensor, kernel: str) -> None:
    """PyTorch's kernels of activations and rounding compute in floating point only."""
    if x._data.dtype.kind != "f":
        raise NotImplementedError(
            f"\"{kernel}\" not implemented for '{dtypes.scalar_type_name(x.dtype)}'")


def refuse_bool_kernel(x: Tensor, kernel: str) -> None:
    """PyTorch has no bool loop for some kernels (abs, rounding, rounding division)."""
    if x._data.dtype.kind == "b":
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")


def refuse_bool(x: Tensor, message: str) -> None:
    """Raise PyTorch's RuntimeError for an op it does not define on bool tensors."""
    if x._data.dtype.kind == "b":
        raise RuntimeError(message)


def _float_operands(a: Any, b: Any) -> tuple[Tensor, Tensor]:
    """Operands promoted, then to the default float type if integral (true division)."""
    target = dtypes.result_type(a, b)
    if not target.is_floating_point:
        target = dtypes.get_default_dtype()
    return _operands(a, b, target)


# ------------------------------------------------------------------ arithmetic
# the operators, split over the kernel threads when large (bit for bit the same)
_ADD, _SUB, _MUL, _DIV = (parallel.elementwise(f) for f in (
    operator.add, operator.sub, operator.mul, operator.truediv))


class Add(Function):
    _kernel = staticmethod(_ADD)

    @staticmethod
    def forward(ctx, a, b):
        ctx.shapes = a.shape, b.shape
        return iterator_layout(ctx._kernel(a, b), a, b)

    @staticmethod
    def backward(ctx, grad):
        sa, sb = ctx.shapes
        need_a, need_b = ctx.needs_input_grad
        shape = grad.shape  # same-shape operands (the common case) skip unbroadcast
        return (None if not need_a else grad if sa == shape else unbroadcast(grad, sa),
                None if not need_b else grad if sb == shape else unbroadcast(grad, sb))


class Sub(Add):
    """a - b: Add's node with the other kernel, and b's gradient negated."""

    _kernel = staticmethod(_SUB)

    @staticmethod
    def backward(ctx, grad):
        grad_a, grad_b = Add.backward(ctx, grad)
        return grad_a, None if grad_b is None else -grad_b


class Mul(Function):
    @staticmethod
    def forward(ctx, a, b):
        # as PyTorch, each operand is kept only for the other's gradient: `y * 0.4` keeps
        # nothing of y, which may then change in place
        need_a, need_b = ctx.needs_input_grad
        ctx.save_for_backward(a if need_b else None, b if need_a else None)
        ctx.shapes = a.shape, b.shape
        return iterator_layout(_MUL(a, b), a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        sa, sb = ctx.shapes
        need_a, need_b = ctx.needs_input_grad
        shape = grad.shape  # same-shape operands (the common case) skip unbroadcast
        return (None if not need_a else _MUL(grad, b) if sa == shape
                else unbroadcast(_MUL(grad, b), sa),
                None if not need_b else _MUL(grad, a) if sb == shape
                else unbroadcast(_MUL(grad, a), sb))


class Div(Function):
    @staticmethod
    def forward(ctx, a, b):
        # PyTorch keeps the dividend only for the divisor's gradient
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b)
        ctx.shapes = a.shape, b.shape
        with quiet():
            return iterator_layout(_DIV(a, b), a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        sa, sb = ctx.shapes
        need_a, need_b = ctx.needs_input_grad
        with quiet():
            grad_a = grad / b
            return (unbroadcast(grad_a, sa) if need_a else None,
                    unbroadcast(-grad_a * a / b, sb) if need_b else None)


class Pow(Function):
    @staticmethod
    def forward(ctx, a, b, bool_exponent=False):
        with quiet():
            out = a**b if a.dtype.kind == "f" else _integer_power(ctx.xp, a, b)
        ctx.save_for_backward(a, b, out)
        ctx.bool_exponent = bool_exponent
        return out

    @staticmethod
    def backward(ctx, grad):
        a, b, out = ctx.saved_tensors
        need_a, need_b = ctx.needs_input_grad
        if need_a and ctx.bool_exponent:  # PyTorch's formula subtracts 1 from the bool b
            _refuse_bool_subtraction(True, True)
        xp = ctx.xp
        grad_a = grad_b = None
        with quiet():
            if need_a:
                # b * a**(b-1), written so a == 0 with b == 0 gives 0 as PyTorch does
                grad_a = unbroadcast(xp.where(b == 0, 0, grad * b * a ** (b - 1)), a.shape)
            if need_b:  # out * log(a): 0 ** -1 gives -inf, a < 0 NaN, as in PyTorch, which
                # masks the factor, not the product (an infinite grad times the 0 is NaN)
                grad_b = grad * xp.where((a == 0) & (b >= 0), 0, out * xp.log(a))
                grad_b = unbroadcast(grad_b, b.shape)
        return grad_a, grad_b


class PowScalar(Function):
    """x ** p for a Python-number exponent p."""

    @staticmethod
    def forward(ctx, x, exponent):
        ctx.save_for_backward(x)
        ctx.exponent = exponent
        with quiet():
            return _power(ctx.xp, x, exponent)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        p = ctx.exponent
        if p == 0 and not isinstance(p, bool):  # PyTorch's Scalar(False) is not equal to 0.0
            return ctx.xp.zeros_like(grad)
        if p == 2:
            return grad * 2 * x
        with quiet():
            return grad * p * _power(ctx.xp, x, p - 1)


def _integer_power(xp: Any, a: Any, b: Any) -> Any:
    """a ** b for integer tensors; PyTorch's value for a negative exponent: 1 for a base of 1,
    +-1 for -1, 0 otherwise (NumPy refuses negative integer powers)."""
    negative = b < 0
    if not negative.any():
        return a**b
    out = a ** xp.where(negative, 0, b)
    odd = (b % 2).astype(bool)
    inverse = xp.where(a == 1, 1, xp.where(a == -1, xp.where(odd, -1, 1), 0))
    return xp.where(negative, inverse, out).astype(out.dtype, copy=False)


def _power(xp: Any, x: Any, p: Any) -> Any:
    """x ** p; PyTorch computes the power -0.5 as rsqrt, so -0.0 ** -0.5 is -inf there."""
    if p == -0.5:
        return 1 / xp.sqrt(x)
    return (x**p).astype(x.dtype, copy=False)  # bool ** bool is bool, not NumPy's int8


class Neg(Function):
    @staticmethod
    def forward(ctx, x):
        return -x

    @staticmethod
    def backward(ctx, grad):
        return -grad


def _number_as_tensor(a: Any) -> Tensor:
    """A number as a 0-d tensor of its own dtype: torch.add(2.5, 2), two numbers, is a tensor."""
    from .creation import tensor

    return tensor(a, dtype=dtypes.scalar_dtype(a))


def require_tensor(name: str, other: Any, input: Any = None) -> None:  # noqa: A002
    """PyTorch's functions without a Scalar overload refuse a Python number operand (`input`
    is checked when given: its first operand)."""
    for position, arg, value in ((1, "input", input), (2, "other", other)):
        if value is not None and not isinstance(value, Tensor):
            raise TypeError(f"{name}(): argument '{arg}' (position {position}) must be Tensor, "
                            f"not {type(value).__name__}")


def add(a: Any, b: Any, *, alpha: Any = 1) -> Tensor:
    """a + alpha * b, broadcasting."""
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = _number_as_tensor(a)
    if alpha != 1:
        return Add.apply(*_scaled_operands(a, b, alpha))
    return Add.apply(*_operands(a, b))


def sub(a: Any, b: Any, *, alpha: Any = 1) -> Tensor:
    """a - alpha * b, broadcasting; bool tensors are refused, as in PyTorch."""
    _refuse_bool_subtraction(a, b)
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = _number_as_tensor(a)
    if alpha != 1:
        return Sub.apply(*_scaled_operands(a, b, alpha))
    return Sub.apply(*_operands(a, b))


def _scaled_operands(a: Any, b: Any, alpha: Any) -> tuple[Tensor, Tensor]:
    """a and alpha * b in the dtype of a and b alone: alpha takes no part in the promotion."""
    a, b = _operands(a, b)
    kind = a._data.dtype.kind
    if kind in "iu" and isinstance(alpha, float):
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating "
                           "point number.")
    if kind != "b" and isinstance(alpha, bool):
        raise RuntimeError("Boolean alpha only supported for Boolean results.")
    return a, Scale.apply(b, factor=bool(alpha) if kind == "b" else alpha)


class Scale(Function):
    """x * factor for a Python number factor (alpha of add/sub): it saves no tensor, so, as
    PyTorch's add/sub with alpha, backward may run through it again."""

    @staticmethod
    def forward(ctx, x, factor):
        ctx.factor = factor
        return x * factor

    @staticmethod
    def backward(ctx, grad):
        return grad * ctx.factor


def _refuse_bool_subtraction(a: Any, b: Any) -> None:
    """PyTorch has no bool subtraction (it is ambiguous: xor or not?); say what to use."""
    bools = [x._data.dtype.kind == "b" if isinstance(x, Tensor) else isinstance(x, bool)
             for x in (a, b)]
    if all(bools):
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                           "supported. Use the `^` or `logical_xor()` operator instead.")
    if any(bools):
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")


def mul(a: Any, b: Any) -> Tensor:
    """a * b, broadcasting."""
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = _number_as_tensor(a)
    return Mul.apply(*_operands(a, b))


def div(a: Any, b: Any, *, rounding_mode: str | None = None) -> Tensor:
    """a / b (true division; integers give floats), broadcasting."""
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        a = _number_as_tensor(a)
    if rounding_mode == "floor":
        return FloorDivide.apply(*_operands(a, b), zero_grad=True)
    if rounding_mode == "trunc":
        a, b = _operands(a, b)
        _refuse_integer_division_by_zero(a._data, b._data)
        return trunc(Div.apply(*_float_operands(a, b))).to(a.dtype)
    return Div.apply(*_float_operands(a, b))


true_divide = divide = div
multiply, subtract = mul, sub


def pow(a: Any, b: Any) -> Tensor:  # noqa: A001 - PyTorch's name
    """a ** b, broadcasting; a number exponent has a simpler gradient rule."""
    if isinstance(a, Tensor) and not isinstance(b, Tensor):
        target = dtypes.result_type(a, b)
        return PowScalar.apply(_as(a, target, a), exponent=b)
    bool_exponent = b.dtype is dtypes.bool
    a, b = _operands(a, b)
    refuse_bool_kernel(a, "pow")
    return Pow.apply(a, b, bool_exponent=bool_exponent)


NEGATION_OF_BOOL = ("Negation, the `-` operator, on a bool tensor is not supported. If you are "
                    "trying to invert a mask, use the `~` or `logical_not()` operator instead.")


def neg(x: Tensor) -> Tensor:
    """-x; bool tensors are refused, as in PyTorch."""
    refuse_bool(x, NEGATION_OF_BOOL)
    return Neg.apply(x)


negative = neg


def floor_divide(a: Any, b: Any) -> Tensor:
    """floor(a / b), broadcasting; not differentiable (backward raises, as in PyTorch)."""
    a, b = _operands(a, b)
    refuse_bool_kernel(a, "div_floor_cpu")
    return FloorDivide.apply(a, b, zero_grad=False)


def remainder(a: Any, b: Any) -> Tensor:
    """a - floor(a / b) * b, sign of the divisor (Python's %); gradients 1 and -floor(a / b)."""
    number_self = not isinstance(a, Tensor)  # remainder.Scalar_Tensor: no derivative
    a, b = _operands(a, b)
    refuse_bool_kernel(a, "remainder_cpu")
    return Remainder.apply(a, b, toward_zero=False, number_self=number_self)



fmod_python = remainder


# ------------------------------------------------------------- unary functions
class Unary(Function):
    """An elementwise function of one tensor: one line of the table UNARY (the class
    attributes `value`, `grad`, `keeps`, `quiet`); _unary_class writes its forward and
    backward from them."""

    keeps = ""  # what backward reads: "x" the input, "y" the output, "" nothing
    quiet = ""  # the passes ("f" forward, "b" backward) that may make inf/nan of finite values


def sign_array(xp: Any, x: Any) -> Any:
    """-1, 0 or 1 in x's dtype, and 0 at NaN as PyTorch's sign (NumPy's gives NaN)."""
    if x.dtype.kind == "b":  # a bool is its own sign
        return x.copy()
    if x.dtype.kind != "f":
        return xp.sign(x)
    return (x > 0).astype(x.dtype) - (x < 0)


def sigmoid_array(xp: Any, x: Any) -> Any:
    """1 / (1 + exp(-x)) without overflow for large |x|."""
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _silu_grad(xp: Any, g: Any, x: Any) -> Any:
    """g * d/dx x sigmoid(x) = g s (1 + x (1 - s))."""
    s = sigmoid_array(xp, x)
    return g * s * (1 + x * (1 - s))


_LN2, _LN10, _DEGREE, _RADIAN = math.log(2.0), math.log(10.0), math.pi / 180, 180 / math.pi

# name: (value f(xp, x), gradient (xp, g, v) -> g f'(x) from v, the kept x or y, what backward
# keeps, the quiet passes). Forward and backward rules side by side; each line becomes a Unary
# class named after it (Exp, Log2, ...). Python-float constants keep float32 float32.
UNARY: dict[str, tuple[Any, Any, str, str]] = {
    "exp": (lambda xp, x: xp.exp(x), lambda xp, g, y: g * y, "y", "f"),
    "log": (lambda xp, x: xp.log(x), lambda xp, g, x: g / x, "x", "fb"),
    "sqrt": (lambda xp, x: xp.sqrt(x), lambda xp, g, y: g / (2 * y), "y", "fb"),
    "rsqrt": (lambda xp, x: 1 / xp.sqrt(x), lambda xp, g, y: -0.5 * g * y * y * y, "y", "f"),
    "abs": (lambda xp, x: xp.abs(x), lambda xp, g, x: g * sign_array(xp, x), "x", ""),
    "sin": (lambda xp, x: xp.sin(x), lambda xp, g, x: g * xp.cos(x), "x", ""),
    "cos": (lambda xp, x: xp.cos(x), lambda xp, g, x: -g * xp.sin(x), "x", ""),
    "tanh": (lambda xp, x: xp.tanh(x), lambda xp, g, y: g * (1 - y * y), "y", ""),
    "sigmoid": (sigmoid_array, lambda xp, g, y: g * y * (1 - y), "y", ""),
    # x * sigmoid(x): keeps x, as PyTorch's SiluBackward
    "silu": (lambda xp, x: x * sigmoid_array(xp, x), _silu_grad, "x", ""),
    "tan": (lambda xp, x: xp.tan(x), lambda xp, g, y: g * (1 + y * y), "y", "fb"),
    "asin": (lambda xp, x: xp.arcsin(x), lambda xp, g, x: g * (1 / xp.sqrt(1 - x * x)), "x",
             "fb"),
    "acos": (lambda xp, x: xp.arccos(x), lambda xp, g, x: g * (-1 / xp.sqrt(1 - x * x)), "x",
             "fb"),
    "atan": (lambda xp, x: xp.arctan(x), lambda xp, g, x: g * (1 / (1 + x * x)), "x", "fb"),
    "sinh": (lambda xp, x: xp.sinh(x), lambda xp, g, x: g * xp.cosh(x), "x", "fb"),
    "cosh": (lambda xp, x: xp.cosh(x), lambda xp, g, x: g * xp.sinh(x), "x", "fb"),
    "asinh": (lambda xp, x: xp.arcsinh(x), lambda xp, g, x: g * (1 / xp.sqrt(x * x + 1)), "x",
              "fb"),
    "acosh": (lambda xp, x: xp.arccosh(x), lambda xp, g, x: g * (1 / xp.sqrt(x * x - 1)), "x",
              "fb"),
    "atanh": (lambda xp, x: xp.arctanh(x), lambda xp, g, x: g * (1 / (1 - x * x)), "x", "fb"),
    "log2": (lambda xp, x: xp.log2(x), lambda xp, g, x: g * (1 / (x * _LN2)), "x", "fb"),
    "log10": (lambda xp, x: xp.log10(x), lambda xp, g, x: g * (1 / (x * _LN10)), "x", "fb"),
    "log1p": (lambda xp, x: xp.log1p(x), lambda xp, g, x: g * (1 / (1 + x)), "x", "fb"),
    "expm1": (lambda xp, x: xp.expm1(x), lambda xp, g, y: g * (y + 1), "y", "fb"),
    "exp2": (lambda xp, x: xp.exp2(x), lambda xp, g, y: g * (y * _LN2), "y", "fb"),
    "reciprocal": (lambda xp, x: 1 / x, lambda xp, g, y: g * (-y * y), "y", "fb"),
    # sin(pi x) / (pi x), 1 at 0; its derivative (cos(pi x) - sinc(x)) / x, 0 at 0
    "sinc": (lambda xp, x: xp.sinc(x),
             lambda xp, g, x: g * xp.where(x == 0, 0, (xp.cos(math.pi * x) - xp.sinc(x))
                                           / xp.where(x == 0, 1, x)), "x", "fb"),
    "deg2rad": (lambda xp, x: x * _DEGREE, lambda xp, g, _: g * _DEGREE, "", "fb"),
    "rad2deg": (lambda xp, x: x * _RADIAN, lambda xp, g, _: g * _RADIAN, "", "fb"),
    # x - trunc(x): slope 1, as PyTorch has it
    "frac": (lambda xp, x: x - xp.trunc(x), lambda xp, g, _: g * 1, "", "fb"),
}


def _unary_class(name: str) -> type:
    """The Unary class of one line of UNARY (its forward and backward are closures over the
    line: as fast as hand-written ones)."""
    value, grad, keeps, passes = UNARY[name]
    value, grad = parallel.elementwise(value), parallel.elementwise(grad)  # large: threads
    loud_forward, loud_backward = "f" not in passes, "b" not in passes

    def forward(ctx: Any, x: Any) -> Any:
        if loud_forward:
            out = value(ctx.xp, x)
        else:
            with quiet():
                out = value(ctx.xp, x)
        if keeps:  # as PyTorch, one of x and y, so the other may change in place
            ctx.save_for_backward(out if keeps == "y" else x)
        return out

    def backward(ctx: Any, g: Any) -> Any:
        kept = ctx.saved_tensors[0] if keeps else None
        if loud_backward:
            return grad(ctx.xp, g, kept)
        with quiet():
            return grad(ctx.xp, g, kept)

    return type(name.capitalize(), (Unary,), {
        "forward": staticmethod(forward), "backward": staticmethod(backward),
        "value": staticmethod(value.__wrapped__), "grad": staticmethod(grad.__wrapped__),
        "keeps": keeps,
        "quiet": passes, "__module__": __name__,
        "__doc__": f"{name}, elementwise (a line of the table UNARY)."})


UNARY_OPS: dict[str, type] = {name: _unary_class(name) for name in UNARY}
Exp, Log, Sqrt, Rsqrt, Abs = (UNARY_OPS[n] for n in ("exp", "log", "sqrt", "rsqrt", "abs"))
Sin, Cos, Tanh, Sigmoid, Silu = (UNARY_OPS[n] for n in ("sin", "cos", "tanh", "sigmoid",
                                                          "silu"))


_ZEROS: dict = {}


def _zero(dtype: Any) -> Any:
    """A cached read-only 0-d NumPy zero of `dtype`."""
    zero = _ZEROS.get(dtype)
    if zero is None:
        zero = _ZEROS[dtype] = np.zeros((), dtype=dtype)
        zero.flags.writeable = False
    return zero


class Relu(Function):
    @staticmethod
    def forward(ctx, x):
        xp = ctx.xp
        # a 0-d zero of x's dtype spares NumPy converting a Python 0 on every call; zero
        # first, so a tie keeps x: relu(-0.0) is -0.0, as PyTorch's
        out = (_MAXIMUM if xp is np else xp.maximum)(_zero(x.dtype) if xp is np else 0, x)
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, grad):
        # PyTorch's rule: zero where out <= 0 (even an inf or NaN gradient), so a NaN input
        # passes its gradient
        xp = ctx.xp
        return _RELU_GRAD(xp, ctx.saved_tensors[0], _zero(grad.dtype) if xp is np else 0, grad)


_MAXIMUM = parallel.elementwise(np.maximum)
_RELU_GRAD = parallel.elementwise(lambda xp, out, zero, grad: xp.where(out <= 0, zero, grad))


class Clamp(Function):
    """Where the gradient passes, by PyTorch's kernels' rules: low <= x <= high for clamp,
    low < x < high for "open" (hardsigmoid) and "hardtanh" (hardtanh, relu6); a NaN input
    passes none (PyTorch's vectorized CPU loop; its scalar tail passes hardtanh's, a quirk of
    the kernel that the fuzzer does not compare)."""

    @staticmethod
    def forward(ctx, x, low, high, rule="clamp"):
        ctx.save_for_backward(x)
        ctx.low, ctx.high, ctx.rule = low, high, rule
        # NumPy's maximum/minimum return the second operand on a tie, PyTorch's the first:
        # the bound goes first, so clamp(-0.0, min=0) stays -0.0 as in PyTorch
        if high is None:
            return ctx.xp.maximum(low, x)
        if low is None:
            return ctx.xp.minimum(high, x)
        return ctx.xp.clip(x, low, high)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        low, high, rule = ctx.low, ctx.high, ctx.rule
        strict = rule != "clamp"
        keep = x == x  # False at NaN
        if low is not None:
            keep &= (x > low) if strict else (x >= low)
        if high is not None:
            keep &= (x < high) if strict else (x <= high)
        # where, not grad * keep: inf * 0 is NaN
        return ctx.xp.where(keep, grad, grad.dtype.type(0))


class ClampTensor(Function):
    """min(max(x, low), high) for tensor bounds (either may be None), NaN from any operand.
    PyTorch's gradients: x where low <= x <= high (ties included), low where x < low < high,
    high where x > high or high < low."""

    @staticmethod
    def forward(ctx, x, low, high):
        xp = ctx.xp
        ctx.save_for_backward(x, low, high)
        out = x if low is None else xp.maximum(low, x)  # (bounds first: see Clamp)
        return out if high is None else xp.minimum(high, out)

    @staticmethod
    def backward(ctx, grad):
        x, low, high = ctx.saved_tensors
        xp = ctx.xp
        need_x, need_low, need_high = ctx.needs_input_grad
        zero = grad.dtype.type(0)
        grad_x = grad_low = grad_high = None
        if need_x:
            keep = x == x if low is None else x >= low
            if high is not None:
                keep = keep & (x <= high)
            grad_x = unbroadcast(xp.where(keep, grad, zero), x.shape)
        if need_low:
            below = x < low if high is None else (x < low) & (low < high)
            grad_low = unbroadcast(xp.where(below, grad, zero), low.shape)
        if need_high:
            above = x > high if low is None else (x > high) | (high < low)
            grad_high = unbroadcast(xp.where(above, grad, zero), high.shape)
        return grad_x, grad_low, grad_high


class Maximum(Function):
    """Elementwise max; ties share the gradient equally, as in PyTorch."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        # b first: NumPy returns the second operand on a tie, PyTorch the first (-0.0 vs 0.0)
        return iterator_layout(ctx.xp.maximum(b, a), a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return _split_by_winner(ctx, grad, a < b, a > b, a == b, a.shape, b.shape)


class Minimum(Function):
    """Elementwise min; ties share the gradient equally, as in PyTorch."""

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return iterator_layout(ctx.xp.minimum(b, a), a, b)  # (b first: see Maximum)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return _split_by_winner(ctx, grad, a > b, a < b, a == b, a.shape, b.shape)


def _split_by_winner(ctx: Any, grad: Any, a_loses: Any, b_loses: Any, tie: Any, sa: tuple,
                     sb: tuple) -> tuple:
    """Gradient to each operand that did not lose, half each on ties (PyTorch's rule: where
    either is NaN, neither lost, and both get it)."""
    xp = ctx.xp
    need_a, need_b = ctx.needs_input_grad
    grad_a = grad_b = None
    zero = grad.dtype.type(0)  # masked, not multiplied: an inf or NaN gradient gives 0 there
    if need_a:
        grad_a = unbroadcast(xp.where(a_loses, zero, xp.where(tie, grad * 0.5, grad)), sa)
    if need_b:
        grad_b = unbroadcast(xp.where(b_loses, zero, xp.where(tie, grad * 0.5, grad)), sb)
    return grad_a, grad_b


class Where(Function):
    @staticmethod
    def forward(ctx, condition, a, b):
        ctx.save_for_backward(condition)
        ctx.shapes = a.shape, b.shape
        return ctx.xp.where(condition, a, b)

    @staticmethod
    def backward(ctx, grad):
        (condition,) = ctx.saved_tensors
        sa, sb = ctx.shapes
        _, need_a, need_b = ctx.needs_input_grad
        zero = grad.dtype.type(0)
        return (None,
                unbroadcast(ctx.xp.where(condition, grad, zero), sa) if need_a else None,
                unbroadcast(ctx.xp.where(condition, zero, grad), sb) if need_b else None)


class Piecewise(Function):
    """Piecewise-constant functions (sign, floor, round...): gradient zero everywhere."""

    @staticmethod
    def forward(ctx, x, fn, decimals=0):
        ctx.shape = x.shape
        if fn == "round":
            return ctx.xp.round(x, decimals)
        if fn == "sign":
            return sign_array(ctx.xp, x)
        return getattr(ctx.xp, fn)(x)

    @staticmethod
    def backward(ctx, grad):
        return ctx.xp.zeros_like(grad)


class Cast(Function):
    @staticmethod
    def forward(ctx, x, dtype):
        ctx.source = x.dtype
        # NumPy keeps an expanded input's layout; PyTorch's result is then row-major
        return x.astype(dtype.np, order="C" if 0 in x.strides else "K")

    @staticmethod
    def backward(ctx, grad):
        return grad.astype(ctx.source) if ctx.source.kind == "f" else None


def _float_input(x: Tensor) -> Tensor:
    """Integer inputs of float functions (exp, sin, ...) become the default float type."""
    return x if x._data.dtype.kind == "f" else cast(x, dtypes.get_default_dtype())


def _named(function: Callable, name: str, doc: str, module: str | None = None) -> Callable:
    """A function made by a factory (unary, predicate, ...) as the public function `name` of
    its factory's module, or of `module` when given."""
    function.__name__ = function.__qualname__ = name
    function.__doc__ = doc
    if module is not None:
        function.__module__ = module
    return function


def unary(name: str, doc: str) -> Callable[[Tensor], Tensor]:
    """The public function of the line `name` of UNARY (integers become floats first)."""
    function = UNARY_OPS[name]

    def op(x: Tensor) -> Tensor:
        return function.apply(_float_input(x))

    return _named(op, name, doc)


exp = unary("exp", "e ** x; same shape.")
log = unary("log", "Natural logarithm (nan below 0, -inf at 0); same shape.")
sqrt = unary("sqrt", "Square root; same shape.")
rsqrt = unary("rsqrt", "1 / sqrt(x); same shape.")
sin = unary("sin", "Sine; same shape.")
cos = unary("cos", "Cosine; same shape.")
tanh = unary("tanh", "Hyperbolic tangent; same shape.")
sigmoid = unary("sigmoid", "1 / (1 + e ** -x), computed without overflow; same shape.")


def abs(x: Tensor) -> Tensor:  # noqa: A001 - PyTorch's name
    """|x|; gradient sign(x) (0 at 0)."""
    refuse_bool_kernel(x, "abs_cpu")
    return Abs.apply(x)


absolute = abs


def sign(x: Tensor) -> Tensor:
    """-1, 0 or 1; zero gradient."""
    return Piecewise.apply(x, fn="sign")


sgn = sign


def relu(x: Tensor) -> Tensor:
    """max(x, 0); bool tensors are refused, as in PyTorch."""
    if x._data.dtype.kind == "b":
        raise RuntimeError("Boolean inputs not supported for relu")
    return Relu.apply(x)


def clamp(x: Tensor, min: Any = None, max: Any = None,  # noqa: A002
          *, rule: str = "clamp") -> Tensor:
    """Limit values to [min, max]; gradient passes where min <= x <= max, or strictly inside
    with rule="open" (hardtanh's and hardsigmoid's rule)."""
    if min is None and max is None:
        raise RuntimeError("clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        target = dtypes.result_type(x, *(v for v in (min, max) if v is not None))
        low, high = (None if v is None else _as(v, target, x) for v in (min, max))
        return ClampTensor.apply(_as(x, target, x), low, high)
    target = dtypes.result_type(x, *(v for v in (min, max) if v is not None))
    return Clamp.apply(_as(x, target, x), low=min, high=max, rule=rule)


clip = clamp


def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise larger value, broadcasting."""
    require_tensor("maximum", b, a)
    return Maximum.apply(*_operands(a, b))


def minimum(a: Any, b: Any) -> Tensor:
    """Elementwise smaller value, broadcasting."""
    require_tensor("minimum", b, a)
    return Minimum.apply(*_operands(a, b))


def where(condition: Tensor, a: Any = None, b: Any = None) -> Any:
    """`a` where condition is True, else `b` (broadcasting); with one argument, nonzero()."""
    if a is None and b is None:
        from .index import nonzero

        return nonzero(condition, as_tuple=True)
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):  # where(c, 1.0, 0.0)
        a = constant(a, condition, dtypes.result_type(a, b))
    a, b = _operands(a, b)
    if condition.dtype is not dtypes.bool:
        if condition.dtype is not dtypes.uint8:
            raise RuntimeError(f"where expected condition to be a boolean tensor, but got a "
                               f"tensor with dtype {dtypes.scalar_type_name(condition.dtype)}")
        warnings.warn("where received a uint8 condition tensor. This behavior is deprecated "
                      "and will be removed in a future version of PyTorch. Use a boolean "
                      "condition instead.", UserWarning, stacklevel=2)
        condition = condition.bool()
    return Where.apply(condition, a, b)


def cast(x: Tensor, dtype: dtypes.dtype) -> Tensor:
    """x converted to `dtype` (gradient flows between float types)."""
    if x._data.dtype == dtype.np:
        return x
    return Cast.apply(x, dtype=dtype)


def trunc(x: Tensor) -> Tensor:
    """Round toward zero; zero gradient."""
    refuse_bool_kernel(x, "trunc_vml_cpu")
    return Piecewise.apply(x, fn="trunc")


def floor(x: Tensor) -> Tensor:
    """Round down; zero gradient."""
    refuse_bool_kernel(x, "floor_vml_cpu")
    return Piecewise.apply(x, fn="floor")


def ceil(x: Tensor) -> Tensor:
    """Round up; zero gradient."""
    refuse_bool_kernel(x, "ceil_vml_cpu")
    return Piecewise.apply(x, fn="ceil")


def round(x: Tensor, decimals: int = 0) -> Tensor:  # noqa: A001 - PyTorch's name
    """Round half to even; zero gradient."""
    refuse_bool_kernel(x, "round_vml_cpu")
    return Piecewise.apply(x, fn="round", decimals=decimals)



def predicate(name: str, doc: str, module: str | None = None) -> Callable[[Tensor], Tensor]:
    """The public bool test `name` of the array module (isnan, signbit, ...): no gradient."""

    def test(x: Tensor) -> Tensor:
        return _no_grad_result(getattr(_xp(x), name)(x._data))

    return _named(test, name, doc, module)


isnan = predicate("isnan", "True where x is NaN.")
isinf = predicate("isinf", "True where x is +-inf.")
isfinite = predicate("isfinite", "True where x is neither NaN nor inf.")


def _xp(x: Tensor) -> Any:
    return array_module(x._data)


def _no_grad_result(array: Any) -> Tensor:
    """Wrap the result of a non-differentiable op."""
    return Tensor._make(array, False, None)


# ------------------------------------------------------------------ comparisons
def _compare(op: str, a: Any, b: Any) -> Tensor:
    a, b = _operands(a, b)
    return _no_grad_result(iterator_layout(getattr(a._data, op)(b._data), a._data, b._data))


def _comparison(method: str, symbol: str) -> Callable[[Any, Any], Tensor]:
    """The public function `a <symbol> b` elementwise (bool tensor), e.g. eq for "__eq__"."""

    def compare(a: Any, b: Any) -> Tensor:
        return _compare(method, a, b)  # looked up at each call: graph capture replaces it

    return _named(compare, method.strip("_"), f"a {symbol} b elementwise (bool tensor).")


eq = _comparison("__eq__", "==")
ne = _comparison("__ne__", "!=")
lt = _comparison("__lt__", "<")
le = _comparison("__le__", "<=")
gt = _comparison("__gt__", ">")
ge = _comparison("__ge__", ">=")

greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


def equal(a: Tensor, b: Tensor) -> bool:
    """True when both have the same shape and values."""
    return a.shape == b.shape and bool((a._data == b._data).all())


def allclose(a: Tensor, b: Tensor, rtol: float = 1e-5, atol: float = 1e-8,
             equal_nan: bool = False) -> bool:
    """True when |a - b| <= atol + rtol * |b| everywhere."""
    return bool(_xp(a).allclose(a._data, b._data, rtol=rtol, atol=atol, equal_nan=equal_nan))


def isclose(a: Tensor, b: Any, rtol: float = 1e-5, atol: float = 1e-8,
            equal_nan: bool = False) -> Tensor:
    """Elementwise |a - b| <= atol + rtol * |b|."""
    a, b = _operands(a, b)
    return _no_grad_result(_xp(a).isclose(a._data, b._data, rtol=rtol, atol=atol,
                                          equal_nan=equal_nan))


def logical_and(a: Any, b: Any) -> Tensor:
    """Elementwise AND of truth values."""
    a, b = _operands(a, b)
    return _no_grad_result(_xp(a).logical_and(a._data, b._data))


def logical_or(a: Any, b: Any) -> Tensor:
    """Elementwise OR of truth values."""
    a, b = _operands(a, b)
    return _no_grad_result(_xp(a).logical_or(a._data, b._data))


def logical_xor(a: Any, b: Any) -> Tensor:
    """Elementwise XOR of truth values."""
    a, b = _operands(a, b)
    return _no_grad_result(_xp(a).logical_xor(a._data, b._data))


def logical_not(x: Tensor) -> Tensor:
    """Elementwise NOT of truth values."""
    return _no_grad_result(_xp(x).logical_not(x._data))


def bitwise(op: str, a: Any, b: Any) -> Tensor:
    """Integer bitwise and/or/xor/invert."""
    if a._data.dtype.kind == "f":
        raise TypeError(f"bitwise {op} is only supported for integer and bool tensors")
    if op == "invert":
        return _no_grad_result(~a._data)
    a, b = _operands(a, b)
    return _no_grad_result(getattr(_xp(a), f"bitwise_{op}")(a._data, b._data))


# ----------------------------------------------------------- more math functions
class Remainder(Function):
    """a - round(a / b) * b, rounding down (remainder, Python's %: the sign of b) or toward
    zero (fmod, C's: the sign of a); the gradients are 1 and -round(a / b)."""

    @staticmethod
    def forward(ctx, a, b, toward_zero, number_self=False):
        _refuse_integer_division_by_zero(a, b)
        # a and b serve b's gradient only (a's is grad itself): x % 0.7 keeps nothing
        need_b = ctx.needs_input_grad[1]
        ctx.save_for_backward(a if need_b else None, b if need_b else None)
        ctx.a_shape = a.shape
        ctx.toward_zero, ctx.number_self = toward_zero, number_self
        with quiet():
            return (ctx.xp.fmod if toward_zero else ctx.xp.remainder)(a, b)

    @staticmethod
    def backward(ctx, grad):
        if ctx.number_self:
            raise RuntimeError("derivative for aten::remainder is not implemented")
        a, b = ctx.saved_tensors
        xp = ctx.xp
        need_a, need_b = ctx.needs_input_grad
        grad_b = None
        if need_b:
            with quiet():
                rounded = xp.trunc(a / b) if ctx.toward_zero else xp.floor_divide(a, b)
                grad_b = unbroadcast(-grad * rounded, b.shape)
        return (unbroadcast(grad, ctx.a_shape) if need_a else None), grad_b


class FloorDivide(Function):
    """floor(a / b), as Python's //. PyTorch gives `//` no derivative (backward raises) and
    div(rounding_mode='floor') a zero one."""

    @staticmethod
    def forward(ctx, a, b, zero_grad):
        _refuse_integer_division_by_zero(a, b)
        ctx.zero_grad, ctx.shapes = zero_grad, (a.shape, b.shape)
        if zero_grad:  # PyTorch's div keeps its operands even then: backward runs once
            ctx.save_for_backward(a, b)
        with quiet():
            return ctx.xp.floor_divide(a, b)

    @staticmethod
    def backward(ctx, grad):
        if not ctx.zero_grad:
            raise RuntimeError("derivative for aten::floor_divide is not implemented")
        return tuple(ctx.xp.zeros(shape, grad.dtype) if need else None
                     for need, shape in zip(ctx.needs_input_grad, ctx.shapes))


def _refuse_integer_division_by_zero(a: Any, b: Any) -> None:
    """Integer division by zero has no value: PyTorch raises where NumPy gives 0."""
    if b.dtype.kind in "iub" and a.dtype.kind in "iub" and not bool((b != 0).all()):
        raise RuntimeError("ZeroDivisionError")


def fmod(a: Any, b: Any) -> Tensor:
    """Remainder of a / b with the sign of a, broadcasting; gradients 1 and -trunc(a / b)."""
    if not isinstance(a, Tensor):
        raise TypeError(f"fmod(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(a).__name__}")
    a, b = _operands(a, b)
    refuse_bool_kernel(a, "fmod_cpu")
    return Remainder.apply(a, b, toward_zero=True)


class Erf(Function):
    @staticmethod
    def forward(ctx, x, complement):
        from .activation import erf as erf_array
        from .activation import erfc as erfc_array

        ctx.save_for_backward(x)
        ctx.sign = -1 if complement else 1
        return (erfc_array if complement else erf_array)(ctx.xp, x)

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        # a Python float: a NumPy float64 scalar would make a float32 gradient float64
        return grad * (ctx.sign * 2 / math.sqrt(math.pi)) * ctx.xp.exp(-x * x)


def erf(x: Tensor) -> Tensor:
    """The error function 2/sqrt(pi) * integral_0^x exp(-t^2) dt, elementwise."""
    return Erf.apply(_float_input(x), complement=False)


def erfc(x: Tensor) -> Tensor:
    """1 - erf(x), accurate also where erf(x) is near 1."""
    return Erf.apply(_float_input(x), complement=True)


class Lerp(Function):
    """a + w (b - a), computed from the nearer end as PyTorch does (b - (b - a)(1 - w) for
    |w| >= 0.5), so lerp(a, b, 1) is b exactly, and an infinite end gives NaN where PyTorch's
    does; gradients 1 - w, w and b - a."""

    @staticmethod
    def forward(ctx, a, b, w, number=None):
        # kept as PyTorch keeps them: a and b for w's gradient only, a tensor w for theirs;
        # a number weight is no saved tensor, so backward may run again
        need_a, need_b, need_w = ctx.needs_input_grad
        ctx.save_for_backward(a if need_w else None, b if need_w else None,
                              w if need_a or need_b else None)
        ctx.number, ctx.shapes = number, (a.shape, b.shape)
        if w is None:
            w = number
        xp = ctx.xp
        with quiet():
            return xp.where(xp.abs(w) < 0.5, a + w * (b - a), b - (b - a) * (1 - w))

    @staticmethod
    def backward(ctx, grad):
        a, b, w = ctx.saved_tensors
        if w is None:
            w = ctx.number
        sa, sb = ctx.shapes
        need_a, need_b, need_w = ctx.needs_input_grad
        with quiet():
            return (unbroadcast(grad * (1 - w), sa) if need_a else None,
                    unbroadcast(grad * w, sb) if need_b else None,
                    unbroadcast(grad * (b - a), w.shape) if need_w else None)


def lerp(input: Tensor, end: Tensor, weight: Any) -> Tensor:  # noqa: A002 - PyTorch's name
    """input + weight * (end - input), broadcasting; weight a number or a tensor."""
    for name, other in (("end", end), ("weight", weight)):  # a 0-d weight counts as a number
        if isinstance(other, Tensor) and other.dtype is not input.dtype and \
                (name == "end" or other.ndim):
            raise RuntimeError(f"expected dtype {input.dtype.name} for `{name}` but got dtype "
                               f"{other.dtype.name}")
    refuse_non_float(input, "lerp_kernel_scalar")
    if not isinstance(weight, Tensor):
        return Lerp.apply(input, end, None, number=weight)
    return Lerp.apply(input, end, cast(weight, input.dtype))


class NanToNum(Function):
    @staticmethod
    def forward(ctx, x, nan, posinf, neginf):
        ctx.save_for_backward(x)
        return ctx.xp.nan_to_num(x, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def backward(ctx, grad):
        # replaced values are constants: no gradient flows to them
        return grad * ctx.xp.isfinite(ctx.saved_tensors[0])


def nan_to_num(x: Tensor, nan: float = 0.0, posinf: float | None = None,
               neginf: float | None = None) -> Tensor:
    """NaN -> nan, +inf -> posinf, -inf -> neginf (the dtype's extremes by default)."""
    if x._data.dtype.kind != "f":
        return x.clone()
    return NanToNum.apply(x, nan=nan, posinf=posinf, neginf=neginf)
