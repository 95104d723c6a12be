"""A small ResNet (He et al., 2015) of BasicBlocks for 28x28 or 32x32 images."""

from __future__ import annotations

from typing import Any, Sequence

from rosenblatt import nn


def conv3x3(cin: int, cout: int, stride: int = 1) -> nn.Conv2d:
    """3x3 convolution with padding 1 and no bias (a BatchNorm follows)."""
    return nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)


class BasicBlock(nn.Module):
    """x -> relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)); torchvision's names."""

    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU()
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(
                nn.Conv2d(inplanes, planes, 1, stride=stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x: Any) -> Any:
        """(N, inplanes, H, W) -> (N, planes, H/stride, W/stride)."""
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


class ResNet(nn.Module):
    """(N, in_channels, H, W) -> (N, num_classes): stem, stages of BasicBlocks, global pool.

    Each stage after the first halves the resolution and doubles the width; the global
    average pool makes any input size >= 8x8 work (28x28 MNIST, 32x32 CIFAR).
    """

    def __init__(self, layers: Sequence[int] = (1, 1, 1), num_classes: int = 10,
                 in_channels: int = 1, width: int = 16) -> None:
        super().__init__()
        self.config = {"layers": list(layers), "num_classes": num_classes,
                       "in_channels": in_channels, "width": width}
        self.conv1 = conv3x3(in_channels, width)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU()
        inplanes = width
        for i, blocks in enumerate(layers):
            planes = width * 2**i
            stage = []
            for b in range(blocks):
                stride = 2 if i > 0 and b == 0 else 1
                stage.append(BasicBlock(inplanes, planes, stride))
                inplanes = planes
            setattr(self, f"layer{i + 1}", nn.Sequential(*stage))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(inplanes, num_classes)

    def forward(self, x: Any) -> Any:
        """(N, C, H, W) -> (N, num_classes)."""
        x = self.relu(self.bn1(self.conv1(x)))
        for i in range(len(self.config["layers"])):
            x = getattr(self, f"layer{i + 1}")(x)
        return self.fc(self.avgpool(x).flatten(1))


def resnet(num_classes: int = 10, in_channels: int = 1, layers: Sequence[int] = (1, 1, 1),
           width: int = 16) -> ResNet:
    """A small ResNet: 3 stages of BasicBlocks (16, 32, 64 channels by default)."""
    return ResNet(layers, num_classes, in_channels, width)


def resnet8(num_classes: int = 10, in_channels: int = 1) -> ResNet:
    """ResNet with one BasicBlock per stage (8 weighted layers with the stem and fc)."""
    return ResNet((1, 1, 1), num_classes, in_channels)


def resnet20(num_classes: int = 10, in_channels: int = 3) -> ResNet:
    """He et al.'s CIFAR ResNet-20: three BasicBlocks per stage."""
    return ResNet((3, 3, 3), num_classes, in_channels)
