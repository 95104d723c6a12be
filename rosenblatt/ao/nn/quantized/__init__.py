"""`torch.ao.nn.quantized`: int8 layers (`dynamic`: weights int8, activations per call)."""

from . import dynamic

__all__ = ["dynamic"]
