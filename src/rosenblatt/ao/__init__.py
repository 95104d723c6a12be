"""`torch.ao`: architecture optimization; so far dynamic int8 quantization (`ao.quantization`)."""

from . import nn, quantization

__all__ = ["nn", "quantization"]
