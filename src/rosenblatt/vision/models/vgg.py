"""torchvision's VGG (Simonyan & Zisserman, 2014): configurations A (vgg11), B (vgg13), D
(vgg16), E (vgg19), each with or without BatchNorm; torchvision's module names and keys."""

from __future__ import annotations

from typing import Any, Sequence

from ... import nn
from ...autograd.tensor import Tensor
from ._api import model_builder, weights_enum

__all__ = ["VGG", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn",
           "vgg19", "vgg19_bn", "VGG11_Weights", "VGG11_BN_Weights", "VGG13_Weights",
           "VGG13_BN_Weights", "VGG16_Weights", "VGG16_BN_Weights", "VGG19_Weights",
           "VGG19_BN_Weights"]

CFGS: dict[str, list] = {  # output channels of each 3x3 convolution; "M" a 2x2 max pool
    "A": [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "B": [64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"],
    "D": [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"],
    "E": [64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M", 512, 512,
          512, 512, "M"],
}


class VGG(nn.Module):
    """(N, 3, H, W) -> (N, num_classes): convolutions, 7x7 adaptive pool, three Linear layers."""

    def __init__(self, features: Any, num_classes: int = 1000, init_weights: bool = True,
                 dropout: float = 0.5) -> None:
        super().__init__()
        self.features = features
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, 4096), nn.ReLU(True), nn.Dropout(p=dropout),
            nn.Linear(4096, num_classes))
        if init_weights:
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                    if m.bias is not None:
                        nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.constant_(m.weight, 1)
                    nn.init.constant_(m.bias, 0)
                elif isinstance(m, nn.Linear):
                    nn.init.normal_(m.weight, 0, 0.01)
                    nn.init.constant_(m.bias, 0)

    def forward(self, x: Tensor) -> Tensor:
        """(N, 3, H, W) -> (N, num_classes)."""
        return self.classifier(self.avgpool(self.features(x)).flatten(1))


def make_layers(cfg: Sequence[Any], batch_norm: bool = False) -> Any:
    """The convolution stack of one configuration, as one Sequential (torchvision's indices)."""
    layers: list = []
    channels = 3
    for v in cfg:
        if v == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
            continue
        layers.append(nn.Conv2d(channels, v, kernel_size=3, padding=1))
        if batch_norm:
            layers.append(nn.BatchNorm2d(v))
        layers.append(nn.ReLU(inplace=True))
        channels = v
    return nn.Sequential(*layers)


VGG11_Weights = weights_enum("VGG11_Weights", {"IMAGENET1K_V1": 256}, "IMAGENET1K_V1")
VGG11_BN_Weights = weights_enum("VGG11_BN_Weights", {"IMAGENET1K_V1": 256}, "IMAGENET1K_V1")
VGG13_Weights = weights_enum("VGG13_Weights", {"IMAGENET1K_V1": 256}, "IMAGENET1K_V1")
VGG13_BN_Weights = weights_enum("VGG13_BN_Weights", {"IMAGENET1K_V1": 256}, "IMAGENET1K_V1")
VGG16_Weights = weights_enum("VGG16_Weights", {"IMAGENET1K_V1": 256}, "IMAGENET1K_V1")
VGG16_BN_Weights = weights_enum("VGG16_BN_Weights", {"IMAGENET1K_V1": 256}, "IMAGENET1K_V1")
VGG19_Weights = weights_enum("VGG19_Weights", {"IMAGENET1K_V1": 256}, "IMAGENET1K_V1")
VGG19_BN_Weights = weights_enum("VGG19_BN_Weights", {"IMAGENET1K_V1": 256}, "IMAGENET1K_V1")


def _vgg(name: str, cfg: str, batch_norm: bool, doc: str) -> Any:
    """The registered builder of one configuration: VGG(make_layers(CFGS[cfg], batch_norm))."""
    return model_builder(name, lambda **kwargs: VGG(make_layers(CFGS[cfg], batch_norm), **kwargs),
                         doc)


vgg11 = _vgg("vgg11", "A", False, "VGG-11, configuration A (132,863,336 parameters).")
vgg11_bn = _vgg("vgg11_bn", "A", True, "VGG-11 with BatchNorm.")
vgg13 = _vgg("vgg13", "B", False, "VGG-13, configuration B.")
vgg13_bn = _vgg("vgg13_bn", "B", True, "VGG-13 with BatchNorm.")
vgg16 = _vgg("vgg16", "D", False, "VGG-16, configuration D (138,357,544 parameters).")
vgg16_bn = _vgg("vgg16_bn", "D", True, "VGG-16 with BatchNorm.")
vgg19 = _vgg("vgg19", "E", False, "VGG-19, configuration E.")
vgg19_bn = _vgg("vgg19_bn", "E", True, "VGG-19 with BatchNorm.")
