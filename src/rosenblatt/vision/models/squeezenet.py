"""torchvision's SqueezeNet 1.0 and 1.1 (Iandola et al., 2016): Fire modules, no Linear."""

from __future__ import annotations

from ... import nn
from ...autograd.tensor import Tensor
from ...ops.shape import cat
from ._api import model_builder, weights_enum

__all__ = ["SqueezeNet", "Fire", "squeezenet1_0", "squeezenet1_1", "SqueezeNet1_0_Weights",
           "SqueezeNet1_1_Weights"]


class Fire(nn.Module):
    """1x1 squeeze, then 1x1 and 3x3 expands side by side: (N, C, H, W) -> (N, e1 + e3, H, W)."""

    def __init__(self, inplanes: int, squeeze_planes: int, expand1x1_planes: int,
                 expand3x3_planes: int) -> None:
        super().__init__()
        self.inplanes = inplanes
        self.squeeze = nn.Conv2d(inplanes, squeeze_planes, kernel_size=1)
        self.squeeze_activation = nn.ReLU(inplace=True)
        self.expand1x1 = nn.Conv2d(squeeze_planes, expand1x1_planes, kernel_size=1)
        self.expand1x1_activation = nn.ReLU(inplace=True)
        self.expand3x3 = nn.Conv2d(squeeze_planes, expand3x3_planes, kernel_size=3, padding=1)
        self.expand3x3_activation = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        """(N, inplanes, H, W) -> (N, expand1x1 + expand3x3, H, W)."""
        x = self.squeeze_activation(self.squeeze(x))
        return cat([self.expand1x1_activation(self.expand1x1(x)),
                    self.expand3x3_activation(self.expand3x3(x))], 1)


class SqueezeNet(nn.Module):
    """(N, 3, H, W) -> (N, num_classes): Fire modules, a 1x1 convolution classifier, avg pool."""

    def __init__(self, version: str = "1_0", num_classes: int = 1000,
                 dropout: float = 0.5) -> None:
        super().__init__()
        self.num_classes = num_classes
        pool = {"kernel_size": 3, "stride": 2, "ceil_mode": True}
        if version == "1_0":
            self.features = nn.Sequential(
                nn.Conv2d(3, 96, kernel_size=7, stride=2), nn.ReLU(inplace=True),
                nn.MaxPool2d(**pool), Fire(96, 16, 64, 64), Fire(128, 16, 64, 64),
                Fire(128, 32, 128, 128), nn.MaxPool2d(**pool), Fire(256, 32, 128, 128),
                Fire(256, 48, 192, 192), Fire(384, 48, 192, 192), Fire(384, 64, 256, 256),
                nn.MaxPool2d(**pool), Fire(512, 64, 256, 256))
        elif version == "1_1":
            self.features = nn.Sequential(
                nn.Conv2d(3, 64, kernel_size=3, stride=2), nn.ReLU(inplace=True),
                nn.MaxPool2d(**pool), Fire(64, 16, 64, 64), Fire(128, 16, 64, 64),
                nn.MaxPool2d(**pool), Fire(128, 32, 128, 128), Fire(256, 32, 128, 128),
                nn.MaxPool2d(**pool), Fire(256, 48, 192, 192), Fire(384, 48, 192, 192),
                Fire(384, 64, 256, 256), Fire(512, 64, 256, 256))
        else:
            raise ValueError(f"Unsupported SqueezeNet version {version}: 1_0 or 1_1 expected")
        final_conv = nn.Conv2d(512, num_classes, kernel_size=1)
        self.classifier = nn.Sequential(nn.Dropout(p=dropout), final_conv, nn.ReLU(inplace=True),
                                        nn.AdaptiveAvgPool2d((1, 1)))
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                if m is final_conv:
                    nn.init.normal_(m.weight, mean=0.0, std=0.01)
                else:
                    nn.init.kaiming_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.constant_(m.bias, 0)

    def forward(self, x: Tensor) -> Tensor:
        """(N, 3, H, W) -> (N, num_classes)."""
        return self.classifier(self.features(x)).flatten(1)


SqueezeNet1_0_Weights = weights_enum("SqueezeNet1_0_Weights", {"IMAGENET1K_V1": 256},
                                     "IMAGENET1K_V1")
SqueezeNet1_1_Weights = weights_enum("SqueezeNet1_1_Weights", {"IMAGENET1K_V1": 256},
                                     "IMAGENET1K_V1")


squeezenet1_0 = model_builder("squeezenet1_0", lambda **kwargs: SqueezeNet("1_0", **kwargs),
                              "SqueezeNet 1.0 (1,248,424 parameters).")
squeezenet1_1 = model_builder("squeezenet1_1", lambda **kwargs: SqueezeNet("1_1", **kwargs),
                              "SqueezeNet 1.1 (1,235,496 parameters; 2.4x less computation "
                              "than 1.0).")
