"""A 3-block convolutional network for 28x28 images (MNIST, Fashion-MNIST)."""

from __future__ import annotations

from typing import Any, Sequence

from rosenblatt import nn


def _block(cin: int, cout: int) -> nn.Sequential:
    """conv3x3 (padding 1, no bias: BN supplies it) - BatchNorm - ReLU - maxpool 2."""
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout),
                         nn.ReLU(), nn.MaxPool2d(2))


class CNN3(nn.Module):
    """(N, in_channels, 28, 28) -> (N, num_classes) logits.

    Three blocks conv3x3-BN-ReLU-maxpool (32, 64, 128 channels: 28 -> 14 -> 7 -> 3), then
    a 1152-256-classes classifier with dropout.
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1,
                 channels: Sequence[int] = (32, 64, 128), hidden: int = 256,
                 dropout: float = 0.5, image_size: int = 28) -> None:
        super().__init__()
        self.config = {"num_classes": num_classes, "in_channels": in_channels,
                       "channels": list(channels), "hidden": hidden, "dropout": dropout,
                       "image_size": image_size}
        blocks, cin, size = [], in_channels, image_size
        for cout in channels:
            blocks.append(_block(cin, cout))
            cin, size = cout, size // 2
        self.features = nn.Sequential(*blocks)
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(cin * size * size, hidden), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x: Any) -> Any:
        """(N, C, H, W) -> (N, num_classes)."""
        return self.classifier(self.features(x))


def cnn3(**kwargs: Any) -> CNN3:
    """The 3-block CNN (conv3x3-BN-ReLU-maxpool x 3 with 32/64/128 channels, 256 hidden)."""
    return CNN3(**kwargs)
