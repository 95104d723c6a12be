"""Pooling layers: MaxPool1d/2d/3d, AvgPool1d/2d/3d, AdaptiveAvgPool1d/2d."""

from __future__ import annotations

from typing import Any, Callable

from ...autograd.tensor import Tensor
from ...ops import pool as P
from .module import Module


class _MaxPoolNd(Module):
    """Max over sliding windows, PyTorch's arguments; `_pool` is the 1d, 2d or 3d function."""

    _pool: Callable[..., Any]

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 dilation: Any = 1, return_indices: bool = False,
                 ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def forward(self, input: Tensor) -> Any:  # noqa: A002
        """(N, C, *spatial) -> (N, C, *spatial_out) [, indices]."""
        return self._pool(input, self.kernel_size, self.stride, self.padding, self.dilation,
                          self.ceil_mode, self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
                f", dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPoolNd):
    """Max over sliding windows: (N, C, L) -> (N, C, L_out) [, indices]."""

    _pool = staticmethod(P.max_pool1d)


class MaxPool2d(_MaxPoolNd):
    """Max over sliding windows: (N, C, H, W) -> (N, C, H_out, W_out) [, indices]."""

    _pool = staticmethod(P.max_pool2d)


class MaxPool3d(_MaxPoolNd):
    """Max over sliding windows: (N, C, D, H, W) -> (N, C, D_out, H_out, W_out) [, indices]."""

    _pool = staticmethod(P.max_pool3d)


class AvgPool1d(Module):
    """Mean over sliding windows: (N, C, L) -> (N, C, L_out)."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True) -> None:
        super().__init__()
        self.kernel_size = P._ntuple(kernel_size, 1, "kernel_size")
        self.stride = P._ntuple(stride if stride is not None else kernel_size, 1, "stride")
        self.padding = P._ntuple(padding, 1, "padding")
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """(N, C, L) -> (N, C, L_out)."""
        return P.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _AvgPoolNd(Module):
    """Mean over sliding windows, PyTorch's arguments; `_pool` is the 2d or 3d function."""

    _pool: Callable[..., Any]

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True,
                 divisor_override: int | None = None) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if stride is not None else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """(N, C, *spatial) -> (N, C, *spatial_out)."""
        return self._pool(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                          self.count_include_pad, self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


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


class MaxUnpool2d(Module):
    """Partial inverse of MaxPool2d: values back at their max positions, zeros elsewhere."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0) -> None:
        super().__init__()
        self.kernel_size = P._ntuple(kernel_size, 2, "kernel_size")
        self.stride = P._ntuple(stride if stride is not None else kernel_size, 2, "stride")
        self.padding = P._ntuple(padding, 2, "padding")

    def forward(self, input: Tensor, indices: Tensor,  # noqa: A002
                output_size: Any = None) -> Tensor:
        """(N, C, h, w), indices from MaxPool2d(return_indices=True) -> (N, C, H, W)."""
        return P.max_unpool2d(input, indices, self.kernel_size, self.stride, self.padding,
                              output_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"
