"""Activation layers: thin Modules over nn.functional."""

from __future__ import annotations

from typing import Any, Callable

from ...autograd.tensor import Tensor
from ...ops.creation import empty
from .. import functional as F
from .. import init as nn_init
from ..parameter import Parameter
from .module import Module


class _Pointwise(Module):
    """A layer with no parameters (activations, pixel shuffles): forward is
    `_function(input, *settings)`, the settings being the named attributes (extra_repr shows
    them, but for inplace)."""

    _function: Callable[..., Tensor]
    settings: tuple[str, ...] = ()

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """(*) -> (*)."""
        if not self.settings:  # the common cases first: they run in every training step
            return self._function(input)
        return self._function(input, *[getattr(self, k) for k in self.settings])

    def extra_repr(self) -> str:
        shown = [f"{k}={getattr(self, k)}" for k in self.settings if k != "inplace"]
        return ", ".join(shown + ["inplace=True"] * bool(getattr(self, "inplace", False)))


class _InplaceOnly(_Pointwise):
    """An activation whose one setting is `inplace`."""

    settings = ("inplace",)

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """(*) -> (*)."""
        return self._function(input, self.inplace)


class _AlongDim(_Pointwise):
    """An activation over one dimension, whose one setting is `dim`."""

    settings = ("dim",)

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim


class ReLU(_InplaceOnly):
    """max(0, x), elementwise."""

    _function = staticmethod(F.relu)


class SiLU(_InplaceOnly):
    """x * sigmoid(x)."""

    _function = staticmethod(F.silu)


class Mish(_InplaceOnly):
    """x * tanh(softplus(x))."""

    _function = staticmethod(F.mish)


class SELU(_InplaceOnly):
    """Self-normalising ELU: scale * elu(x, alpha) with fixed constants."""

    _function = staticmethod(F.selu)


class LeakyReLU(_Pointwise):
    """x for x > 0, negative_slope * x otherwise."""

    _function, settings = staticmethod(F.leaky_relu), ("negative_slope", "inplace")

    def __init__(self, negative_slope: float = 1e-2, inplace: bool = False) -> None:
        super().__init__()
        self.negative_slope, self.inplace = negative_slope, inplace


class ELU(_Pointwise):
    """x for x > 0, alpha * (exp(x) - 1) otherwise."""

    _function, settings = staticmethod(F.elu), ("alpha", "inplace")

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha, self.inplace = alpha, inplace


class GELU(Module):
    """x * Phi(x); approximate='tanh' uses the tanh approximation."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        self.approximate = approximate

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """(*) -> (*)."""
        return F.gelu(input, approximate=self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class Hardtanh(_Pointwise):
    """x clamped into [min_val, max_val]."""

    _function, settings = staticmethod(F.hardtanh), ("min_val", "max_val", "inplace")

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0,
                 inplace: bool = False) -> None:
        super().__init__()
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace


class ReLU6(Hardtanh):
    """min(max(0, x), 6)."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__(0.0, 6.0, inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class PReLU(Module):
    """x if x > 0 else a * x, with a learnable a (shared or one per channel)."""

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        self.num_parameters = num_parameters
        self.init = init
        self.weight = Parameter(empty(num_parameters, device=device, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every slope set to `init`."""
        nn_init.constant_(self.weight, self.init)

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """(N, C, *) or (*) -> same shape."""
        return F.prelu(input, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"




class Sigmoid(_Pointwise):
    """1 / (1 + exp(-x))."""

    _function = staticmethod(F.sigmoid)


class Tanh(_Pointwise):
    """Hyperbolic tangent."""

    _function = staticmethod(F.tanh)


class LogSigmoid(_Pointwise):
    """log(sigmoid(x)), stable."""

    _function = staticmethod(F.logsigmoid)


class Softplus(_Pointwise):
    """log(1 + exp(beta x)) / beta, linear above threshold."""

    _function, settings = staticmethod(F.softplus), ("beta", "threshold")

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        self.beta = beta
        self.threshold = threshold


class Softmax(_AlongDim):
    """exp(x) / sum(exp(x)) along `dim`: (*) -> (*), rows along dim sum to 1."""

    _function = staticmethod(F.softmax)


class LogSoftmax(_AlongDim):
    """log(softmax(x)) along `dim`, computed stably."""

    _function = staticmethod(F.log_softmax)


class Softmin(_AlongDim):
    """softmax(-x) along `dim`."""

    _function = staticmethod(F.softmin)


class Hardsigmoid(_Pointwise):
    """relu6(x + 3) / 6."""

    _function, settings = staticmethod(F.hardsigmoid), ("inplace",)

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = inplace

    def extra_repr(self) -> str:
        return ""  # PyTorch's shows no settings, inplace or not


class Hardswish(Hardsigmoid):
    """x * relu6(x + 3) / 6."""

    _function = staticmethod(F.hardswish)


class CELU(_Pointwise):
    """max(0, x) + min(0, alpha (exp(x / alpha) - 1))."""

    _function, settings = staticmethod(F.celu), ("alpha", "inplace")

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__()
        self.alpha, self.inplace = alpha, inplace


class Softsign(_Pointwise):
    """x / (1 + |x|)."""

    _function = staticmethod(F.softsign)


class Tanhshrink(_Pointwise):
    """x - tanh(x)."""

    _function = staticmethod(F.tanhshrink)


class Softshrink(_Pointwise):
    """Shrink towards 0 by lambd; 0 within [-lambd, lambd]."""

    _function, settings = staticmethod(F.softshrink), ("lambd",)

    def __init__(self, lambd: float = 0.5) -> None:
        super().__init__()
        self.lambd = lambd

    def extra_repr(self) -> str:
        return str(self.lambd)  # PyTorch's: Softshrink(0.5)


class Hardshrink(Softshrink):
    """x outside [-lambd, lambd], 0 inside."""

    _function = staticmethod(F.hardshrink)


class Threshold(_Pointwise):
    """x where x > threshold, else value."""

    _function, settings = staticmethod(F.threshold), ("threshold", "value", "inplace")

    def __init__(self, threshold: float, value: float, inplace: bool = False) -> None:
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, inplace


class GLU(_Pointwise):
    """a * sigmoid(b) over the two halves of dim."""

    _function, settings = staticmethod(F.glu), ("dim",)

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim


class Softmax2d(Module):
    """Softmax over the channels of (N, C, H, W) or (C, H, W)."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """(N, C, H, W) -> same, each pixel's channels summing to 1."""
        if input.ndim not in (3, 4):
            raise ValueError(f"Softmax2d: expected input to be 3D or 4D, got {input.ndim}D "
                             "instead")
        return F.softmax(input, -3)

# torch defines MultiheadAttention in this module; allowlists name it by that path
from .attention import MultiheadAttention  # noqa: E402, F401
