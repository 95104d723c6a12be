"""What the model builders share: torchvision's `weights=` argument, without downloads."""

from __future__ import annotations

from typing import Any


def no_weights(name: str, weights: Any = None, **kwargs: Any) -> None:
    """Raise unless weights is None: pretrained weights are not downloaded at run time."""
    if kwargs.pop("pretrained", False):
        weights = "pretrained=True"
    if weights is not None:
        raise NotImplementedError(
            f"{name}(weights={weights!r}): Rosenblatt does not download pretrained weights; "
            f"build {name}(weights=None) and load_state_dict() a converted state dict "
            "(the keys are torchvision's)")
