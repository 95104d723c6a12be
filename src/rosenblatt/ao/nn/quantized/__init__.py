"""`torch.ao.nn.quantized`: int8 layers (`dynamic`: weights int8, activations per call)."""

from . import dynamic, modules

__all__ = ["dynamic", "modules"]
