"""What the model builders share: torchvision's `weights=` API (the `*_Weights` enums with
their preprocessing, get_model, list_models), without downloading any weights."""

from __future__ import annotations

from typing import Any, Callable

__all__ = ["Weights", "weights_enum", "no_weights", "get_model", "list_models",
           "get_model_weights", "get_weight", "register_model", "model_builder"]

IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
_MODELS: dict[str, Callable[..., Any]] = {}
_WEIGHTS: dict[str, type] = {}


class Weights:
    """One set of torchvision's published weights: its name and its preprocessing. The file
    itself is never downloaded here (building a model with it raises)."""

    def __init__(self, enum_name: str, name: str, resize_size: int = 256,
                 crop_size: int = 224) -> None:
        self.enum_name, self.name = enum_name, name
        self.resize_size, self.crop_size = resize_size, crop_size
        self.url = None

    def transforms(self) -> Any:
        """torchvision's ImageClassification preprocessing: resize, centre crop, to float,
        normalise with ImageNet's mean and std."""
        from ... import float32
        from ...vision import transforms as T

        return T.Compose([T.Resize(self.resize_size), T.CenterCrop(self.crop_size),
                          T.ConvertImageDtype(float32), T.Normalize(IMAGENET_MEAN, IMAGENET_STD)])

    def __repr__(self) -> str:
        return f"{self.enum_name}.{self.name}"


def weights_enum(enum_name: str, versions: dict[str, int], default: str) -> type:
    """A `*_Weights` class: one Weights per version (its resize size), and DEFAULT."""
    members = {name: Weights(enum_name, name, resize) for name, resize in versions.items()}
    members["DEFAULT"] = members[default]
    cls = type(enum_name, (), {**members, "__doc__": f"torchvision's {enum_name} (names and "
                                                      "preprocessing; nothing downloaded)."})
    cls.__iter__ = classmethod(lambda c: iter(members.values()))  # type: ignore[attr-defined]
    _WEIGHTS[enum_name] = cls
    return cls


def register_model(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Make a builder findable by get_model / list_models under its own name."""
    _MODELS[fn.__name__] = fn
    return fn


def model_builder(name: str, build: Callable[..., Any], doc: str) -> Callable[..., Any]:
    """A registered torchvision builder `name(*, weights=None, progress=True, **kwargs)` that
    refuses weights and returns `build(**kwargs)`."""

    def builder(*, weights: Any = None, progress: bool = True, **kwargs: Any) -> Any:
        no_weights(name, weights, **kwargs)
        kwargs.pop("pretrained", None)
        return build(**kwargs)

    builder.__name__ = builder.__qualname__ = name
    builder.__doc__ = doc
    return register_model(builder)


def no_weights(name: str, weights: Any = None, **kwargs: Any) -> None:
    """Raise unless weights is None: pretrained weights are not downloaded at run time."""
    if kwargs.pop("pretrained", False):
        weights = "pretrained=True"
    if weights is not None:
        raise NotImplementedError(
            f"{name}(weights={weights!r}): Rosenblatt does not download pretrained weights; "
            f"build {name}(weights=None) and load_state_dict() a converted state dict "
            "(the keys are torchvision's)")


def list_models(module: Any = None) -> list[str]:
    """The names get_model knows, sorted."""
    return sorted(_MODELS)


def get_model(name: str, **config: Any) -> Any:
    """The model `name` built with config (weights=None only)."""
    if name.lower() not in _MODELS:
        raise ValueError(f"Unknown model {name}")
    return _MODELS[name.lower()](**config)


def get_model_weights(name: Any) -> type:
    """The `*_Weights` class of a model (by name or builder)."""
    key = name if isinstance(name, str) else name.__name__
    for enum_name, cls in _WEIGHTS.items():
        if enum_name.lower().replace("_", "") == f"{key}weights".replace("_", ""):
            return cls
    raise ValueError(f"Unknown model {key}")


def get_weight(name: str) -> Weights:
    """'ResNet18_Weights.IMAGENET1K_V1' -> that Weights."""
    enum_name, _, member = name.partition(".")
    if enum_name not in _WEIGHTS or not hasattr(_WEIGHTS[enum_name], member):
        raise ValueError(f"Unknown weight enum name: {name}")
    return getattr(_WEIGHTS[enum_name], member)
