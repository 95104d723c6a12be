"""Reverse-mode automatic differentiation: Tensor, Function, the backward engine."""

from .anomaly import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from .autograd_api import backward, grad
from .function import Function
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import GradcheckError, gradcheck
from .tensor import Tensor  # first: it loads the ops, which need Function


def Variable(data: Tensor, requires_grad: bool = False, volatile: bool = False) -> Tensor:  # noqa: N802
    """The pre-0.4 wrapper, as PyTorch keeps it: the tensor itself (requires_grad set)."""
    if requires_grad:
        data.requires_grad_(True)
    return data

__all__ = [
    "Function", "GradcheckError", "Tensor", "backward", "detect_anomaly", "enable_grad",
    "grad", "gradcheck", "inference_mode", "is_anomaly_enabled", "is_grad_enabled", "no_grad",
    "set_detect_anomaly", "set_grad_enabled", "Variable",
]
