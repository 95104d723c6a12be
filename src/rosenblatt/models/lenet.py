"""LeNet-5 (LeCun et al., 1998) adapted to 28x28 MNIST digits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rosenblatt import nn

WEIGHTS = Path(__file__).resolve().parent / "weights" / "lenet5_mnist.safetensors"
_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}
_POOLS = {"max": nn.MaxPool2d, "avg": nn.AvgPool2d}


class LeNet5(nn.Module):
    """(N, in_channels, 28, 28) -> (N, num_classes) logits.

    conv5x5(6, padding=2) - act - pool2, conv5x5(16) - act - pool2, then 400-120-84-classes.
    The 1998 network used tanh-like units and average "subsampling"; max pooling with ReLU
    (the defaults) trains faster and reaches the same accuracy. `channels` and `hidden`
    widen it: (c1, c2) feature maps and (h1, h2) units, e.g. (20, 50) and (300, 100).
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, activation: str = "relu",
                 pool: str = "max", channels: tuple[int, int] = (6, 16),
                 hidden: tuple[int, int] = (120, 84)) -> None:
        super().__init__()
        if activation not in _ACTIVATIONS or pool not in _POOLS:
            raise ValueError(f"LeNet5: activation must be one of {sorted(_ACTIVATIONS)} and "
                             f"pool one of {sorted(_POOLS)}, got {activation!r}, {pool!r}")
        act, pooling = _ACTIVATIONS[activation], _POOLS[pool]
        (c1, c2), (h1, h2) = channels, hidden
        self.config = {"num_classes": num_classes, "in_channels": in_channels,
                       "activation": activation, "pool": pool, "channels": (c1, c2),
                       "hidden": (h1, h2)}
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, c1, 5, padding=2), act(), pooling(2),
            nn.Conv2d(c1, c2, 5), act(), pooling(2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(c2 * 5 * 5, h1), act(),
            nn.Linear(h1, h2), act(),
            nn.Linear(h2, num_classes),
        )

    def forward(self, x: Any) -> Any:
        """(N, C, 28, 28) -> (N, num_classes)."""
        if x.ndim != 4 or tuple(x.shape[2:]) != (28, 28):
            raise RuntimeError(f"LeNet5: expected input of shape (N, "
                               f"{self.config['in_channels']}, 28, 28), got {tuple(x.shape)}")
        return self.classifier(self.features(x))


def lenet5(pretrained: bool = False, **kwargs: Any) -> LeNet5:
    """LeNet-5 for 28x28 digits; pretrained=True loads the committed MNIST weights."""
    model = LeNet5(**kwargs)
    if pretrained:
        if kwargs:
            raise ValueError("lenet5(pretrained=True) takes no other arguments")
        if not WEIGHTS.is_file():
            raise FileNotFoundError(f"no pretrained LeNet-5 weights at {WEIGHTS}")
        from rosenblatt.serialization import load

        model.load_state_dict(load(WEIGHTS))
        model.eval()
    return model
