"""`torchvision.models` for Rosenblatt: the classic architectures with torchvision's module
names and state-dict keys (weights=None only: nothing is downloaded)."""

from .resnet import (
    BasicBlock,
    Bottleneck,
    ResNet,
    resnet18,
    resnet34,
    resnet50,
    resnet101,
    resnet152,
)

__all__ = ["ResNet", "BasicBlock", "Bottleneck", "resnet18", "resnet34", "resnet50",
           "resnet101", "resnet152"]
