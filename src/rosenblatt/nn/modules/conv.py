"""Convolution layers: Conv1d/2d/3d, ConvTranspose2d (PyTorch's arguments and state keys)."""

from __future__ import annotations

from typing import Any

from ...autograd.tensor import Tensor
from ...ops import conv as ops_conv
from ...ops.resample import pad as pad_op
from .linear import _kaiming_reset, _weight_and_bias
from .module import Module

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class _ConvNd(Module):
    """Weight (out, in/groups, *kernel) [or (in, out/groups, *kernel) transposed] and bias."""

    _dims = 2

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any,
                 padding: Any, dilation: Any, transposed: bool, output_padding: Any,
                 groups: int, bias: bool, padding_mode: str, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__()
        name = type(self).__name__
        if groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer")
        if in_channels % groups:
            raise ValueError(f"{name}: in_channels must be divisible by groups")
        if out_channels % groups:
            raise ValueError(f"{name}: out_channels must be divisible by groups")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {list(_PADDING_MODES)}, but got "
                             f"padding_mode='{padding_mode}'")
        n = self._dims
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = ops_conv._ntuple(kernel_size, n, "kernel_size")
        self.stride = ops_conv._ntuple(stride, n, "stride")
        self.dilation = ops_conv._ntuple(dilation, n, "dilation")
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"Invalid padding string '{padding}', should be one of "
                                 "['valid', 'same']")
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
            self.padding = padding
        else:
            self.padding = ops_conv._ntuple(padding, n, "padding")
        self.transposed = transposed
        self.output_padding = ops_conv._ntuple(output_padding, n, "output_padding")
        self.groups = groups
        self.padding_mode = padding_mode
        shape = (in_channels, out_channels // groups) if transposed \
            else (out_channels, in_channels // groups)
        _weight_and_bias(self, shape + self.kernel_size, out_channels if bias else None, device,
                         dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """PyTorch's default: kaiming_uniform_(a=sqrt(5)) weight, U(+-1/sqrt(fan_in)) bias."""
        _kaiming_reset(self.weight, self.bias)

    def _label(self) -> str:
        """'Conv2d(3, 16, kernel_size=(3, 3))', the layer as errors name it."""
        return (f"{type(self).__name__}({self.in_channels}, {self.out_channels}, "
                f"kernel_size={self.kernel_size})")

    def _check_input(self, input: Tensor) -> None:  # noqa: A002
        n = self._dims
        if not isinstance(input, Tensor) or input.ndim not in (n + 1, n + 2):
            shape = tuple(input.shape) if isinstance(input, Tensor) else type(input).__name__
            raise RuntimeError(f"{self._label()}: expected a {n + 1}-D (unbatched) or "
                               f"{n + 2}-D (batched) input, got shape {shape}")
        channels = input.shape[-n - 1]
        if channels != self.in_channels:
            raise RuntimeError(f"{self._label()}: expected input with {self.in_channels} "
                               f"channels, got shape {tuple(input.shape)}")

    def _border_pad(self, input: Tensor) -> Tensor:  # noqa: A002
        """Pad with padding_mode (reflect/replicate/circular) before a padding-0 conv."""
        if self.padding == "same":
            pads: list[int] = []
            for k, d in zip(reversed(self.kernel_size), reversed(self.dilation)):
                total = d * (k - 1)
                pads += [total // 2, total - total // 2]
        elif self.padding == "valid":
            return input
        else:
            pads = [p for p in reversed(self.padding) for _ in range(2)]
        return pad_op(input, pads, mode=self.padding_mode)

    def extra_repr(self) -> str:
        n = self._dims
        s = (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
             f"stride={self.stride}")
        if self.padding != (0,) * n:
            s += f", padding={self.padding}"
        if self.dilation != (1,) * n:
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * n:
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s

    def _conv_forward(self, input: Tensor, conv: Any) -> Tensor:  # noqa: A002
        """Check the input, apply the border padding mode if any, then `conv`."""
        self._check_input(input)
        if self.padding_mode != "zeros":
            return conv(self._border_pad(input), self.weight, self.bias, self.stride, 0,
                        self.dilation, self.groups)
        return conv(input, self.weight, self.bias, self.stride, self.padding, self.dilation,
                    self.groups)


class _Conv(_ConvNd):
    """Conv1d/2d/3d: PyTorch's constructor arguments; `_dims` picks the dimension."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         False, 0, groups, bias, padding_mode, device, dtype)


class Conv1d(_Conv):
    """1-D convolution: (N, C_in, L) -> (N, C_out, L_out)."""

    _dims = 1

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """(N, C_in, L) -> (N, C_out, L_out)."""
        return self._conv_forward(input, ops_conv.conv1d)


class Conv2d(_Conv):
    """2-D convolution: (N, C_in, H, W) -> (N, C_out, H_out, W_out)."""

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """(N, C_in, H, W) -> (N, C_out, H_out, W_out)."""
        return self._conv_forward(input, ops_conv.conv2d)


class Conv3d(_Conv):
    """3-D convolution: (N, C_in, D, H, W) -> (N, C_out, D_out, H_out, W_out)."""

    _dims = 3

    def forward(self, input: Tensor) -> Tensor:  # noqa: A002
        """(N, C_in, D, H, W) -> (N, C_out, D_out, H_out, W_out)."""
        return self._conv_forward(input, ops_conv.conv3d)


class ConvTranspose2d(_ConvNd):
    """Transposed 2-D convolution (learned upsampling): (N, C_in, H, W) -> (N, C_out, Ho, Wo).

    Ho = (H - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1,
                 padding: Any = 0, output_padding: Any = 0, groups: int = 1, bias: bool = True,
                 dilation: Any = 1, padding_mode: str = "zeros", device: Any = None,
                 dtype: Any = None) -> None:
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}')
        if isinstance(padding, str):
            raise ValueError(f"{type(self).__name__}: padding must be an int or a tuple")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         True, output_padding, groups, bias, padding_mode, device, dtype)

    def forward(self, input: Tensor, output_size: Any = None) -> Tensor:  # noqa: A002
        """(N, C_in, H, W) -> (N, C_out, Ho, Wo); output_size picks output_padding."""
        self._check_input(input)
        output_padding = self.output_padding
        if output_size is not None:
            output_padding = self._output_padding(input, list(output_size)[-2:])
        return ops_conv.conv_transpose2d(input, self.weight, self.bias, self.stride,
                                         self.padding, output_padding, self.groups,
                                         self.dilation)

    def _output_padding(self, input: Tensor, size: list) -> tuple:  # noqa: A002
        """The output_padding that gives `size` (must be within [min, min + stride))."""
        pads = []
        for i, want in enumerate(size):
            n = input.shape[-2 + i]
            least = (n - 1) * self.stride[i] - 2 * self.padding[i] \
                + self.dilation[i] * (self.kernel_size[i] - 1) + 1
            if not least <= want < least + self.stride[i]:
                raise ValueError(f"{self._label()}: requested an output size of {size}, but "
                                 f"valid sizes range from {least} to {least + self.stride[i] - 1}"
                                 f" (for an input of {list(input.shape[-2:])})")
            pads.append(want - least)
        return tuple(pads)
