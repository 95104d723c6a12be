"""`torchvision.models` for Rosenblatt: the classic architectures with torchvision's module
names and state-dict keys, the `*_Weights` enums (names and preprocessing), get_model and
list_models (weights=None only: nothing is downloaded)."""

from . import alexnet as _alexnet
from . import mobilenetv2 as _mobilenetv2
from . import resnet as _resnet
from . import squeezenet as _squeezenet
from . import vgg as _vgg
from ._api import Weights, get_model, get_model_weights, get_weight, list_models
from .alexnet import *  # noqa: F403
from .mobilenetv2 import *  # noqa: F403
from .resnet import *  # noqa: F403
from .squeezenet import *  # noqa: F403
from .vgg import *  # noqa: F403

__all__ = ["Weights", "get_model", "get_model_weights", "get_weight", "list_models",
           *_alexnet.__all__, *_mobilenetv2.__all__, *_resnet.__all__, *_squeezenet.__all__,
           *_vgg.__all__]
