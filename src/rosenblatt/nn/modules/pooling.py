"""Pooling layers: MaxPool1d/2d/3d, AvgPool1d/2d/3d, AdaptiveAvgPool1d/2d."""

from __future__ import annotations

from typing import Any, Callable

from ...autograd.tensor import Tensor
from ...ops import pool as P
from .module import Module


class _Window(Module):
    """What the sliding-window layers share: kernel_size, stride (kernel_size when None) and
    padding, kept as given or, where `ndim` is set, as ndim-tuples (as PyTorch's AvgPool1d and
    MaxUnpool keep them); extra_repr shows the three. Forward is `_pool(input, kernel_size,
    stride, padding, *settings)`, the settings being the named attributes (as activations')."""

    _pool: Callable[..., Any]
    settings: tuple[str, ...] = ()

    def __init__(self, kernel_size: Any, stride: Any, padding: Any,
                 ndim: int | None = None) -> None:
        super().__init__()
        stride = stride if stride is not None else kernel_size
        if ndim is not None:
            kernel_size, stride, padding = (P._ntuple(value, ndim, name) for value, name in (
                (kernel_size, "kernel_size"), (stride, "stride"), (padding, "padding")))
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding

    def forward(self, input: Tensor) -> Any:  # noqa: A002
        """(N, C, *spatial) -> (N, C, *spatial_out) [, indices with return_indices]."""
        return self._pool(input, self.kernel_size, self.stride, self.padding,
                          *[getattr(self, k) for k in self.settings])

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _MaxPoolNd(_Window):
    """Max over sliding windows, PyTorch's arguments; `_pool` is the 1d, 2d or 3d function."""

    settings = ("dilation", "ceil_mode", "return_indices")

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 dilation: Any = 1, return_indices: bool = False,
                 ceil_mode: bool = False) -> None:
        super().__init__(kernel_size, stride, padding)
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, dilation={self.dilation}, ceil_mode={self.ceil_mode}"


class MaxPool1d(_MaxPoolNd):
    """Max over sliding windows: (N, C, L) -> (N, C, L_out) [, indices]."""

    _pool = staticmethod(P.max_pool1d)


class MaxPool2d(_MaxPoolNd):
    """Max over sliding windows: (N, C, H, W) -> (N, C, H_out, W_out) [, indices]."""

    _pool = staticmethod(P.max_pool2d)


class MaxPool3d(_MaxPoolNd):
    """Max over sliding windows: (N, C, D, H, W) -> (N, C, D_out, H_out, W_out) [, indices]."""

    _pool = staticmethod(P.max_pool3d)


class AvgPool1d(_Window):
    """Mean over sliding windows: (N, C, L) -> (N, C, L_out)."""

    _pool, settings = staticmethod(P.avg_pool1d), ("ceil_mode", "count_include_pad")

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True) -> None:
        super().__init__(kernel_size, stride, padding, 1)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad


class _AvgPoolNd(_Window):
    """Mean over sliding windows, PyTorch's arguments; `_pool` is the 2d or 3d function."""

    settings = ("ceil_mode", "count_include_pad", "divisor_override")

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override: int | None = None) -> None:
        super().__init__(kernel_size, stride, padding)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override


class AvgPool2d(_AvgPoolNd):
    """Mean over sliding windows: (N, C, H, W) -> (N, C, H_out, W_out)."""

    _pool = staticmethod(P.avg_pool2d)


class AvgPool3d(_AvgPoolNd):
    """Mean over sliding windows: (N, C, D, H, W) -> (N, C, D_out, H_out, W_out)."""

    _pool = staticmethod(P.avg_pool3d)


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed size: (N, C, H, W) -> (N, C, *output_size)."""

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """(N, C, H, W) -> (N, C, *output_size)."""
        return P.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(AdaptiveAvgPool2d):
    """Average pooling to a fixed length: (N, C, L) -> (N, C, output_size)."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """(N, C, L) -> (N, C, output_size)."""
        return P.adaptive_avg_pool1d(input, self.output_size)


class AdaptiveMaxPool2d(Module):
    """Max pooling to a fixed size: (N, C, H, W) -> (N, C, *output_size) [, indices]."""

    def __init__(self, output_size: Any, return_indices: bool = False) -> None:
        super().__init__()
        self.output_size = output_size
        self.return_indices = return_indices

    def forward(self, input: Tensor) -> Any:  # noqa: A002
        """(N, C, H, W) -> (N, C, *output_size)."""
        return P.adaptive_max_pool2d(input, self.output_size, self.return_indices)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(AdaptiveMaxPool2d):
    """Max pooling to a fixed length: (N, C, L) -> (N, C, output_size) [, indices]."""

    def forward(self, input: Tensor) -> Any:  # noqa: A002
        """(N, C, L) -> (N, C, output_size)."""
        return P.adaptive_max_pool1d(input, self.output_size, self.return_indices)


class MaxUnpool2d(_Window):
    """Partial inverse of MaxPool2d: values back at their max positions, zeros elsewhere."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0) -> None:
        super().__init__(kernel_size, stride, padding, 2)

    def forward(self, input: Tensor, indices: Tensor,  # noqa: A002
                output_size: Any = None) -> Tensor:
        """(N, C, h, w), indices from MaxPool2d(return_indices=True) -> (N, C, H, W)."""
        return P.max_unpool2d(input, indices, self.kernel_size, self.stride, self.padding,
                              output_size)
