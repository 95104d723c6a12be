"""Mixed-precision training helpers: `GradScaler`, dynamic loss scaling (PyTorch's torch.amp).

Small float16 gradients underflow to zero. The scaler multiplies the loss by a large factor
before backward, divides the gradients by it before the optimizer step, skips the steps
whose gradients overflowed (inf/nan), and adapts the factor: halved after an overflow,
doubled after `growth_interval` clean steps. It works on float32 models too (it then only
guards against non-finite gradients).

`autocast` is a documented pass-through: it accepts PyTorch's arguments, works as a context
manager and a decorator, and reports itself enabled, but tensors keep the dtypes they are
given (float32 stays float32: no op is run in float16 or bfloat16 on its behalf).
"""

from __future__ import annotations

import functools
import warnings
from typing import Any, Callable

from ._backend import array_module, cuda_is_available
from .autograd.tensor import Tensor


class GradScaler:
    """Dynamic loss scaling: `scaler.scale(loss).backward(); scaler.step(opt); scaler.update()`."""

    def __init__(self, device: str = "cuda", init_scale: float = 2.0**16,
                 growth_factor: float = 2.0, backoff_factor: float = 0.5,
                 growth_interval: int = 2000, enabled: bool = True) -> None:
        if device == "cuda" and enabled and not cuda_is_available():
            warnings.warn("GradScaler is enabled, but CUDA is not available. Disabling.",
                          stacklevel=2)
            enabled = False
        if growth_factor <= 1.0:
            raise ValueError(f"growth_factor must be > 1, got {growth_factor}")
        if not 0.0 < backoff_factor < 1.0:
            raise ValueError(f"backoff_factor must be in (0, 1), got {backoff_factor}")
        self.device = device
        self._enabled = enabled
        self._scale = float(init_scale)
        self._growth_factor, self._backoff_factor = float(growth_factor), float(backoff_factor)
        self._growth_interval = int(growth_interval)
        self._growth_tracker = 0
        self._found_inf: dict[int, bool] = {}  # id(optimizer) -> inf/nan seen since update()

    def is_enabled(self) -> bool:
        """Whether scaling is on."""
        return self._enabled

    def get_scale(self) -> float:
        """The current scale factor (1.0 when disabled)."""
        return self._scale if self._enabled else 1.0

    def get_growth_factor(self) -> float:
        """Factor the scale grows by after growth_interval clean steps."""
        return self._growth_factor

    def get_backoff_factor(self) -> float:
        """Factor the scale shrinks by after an overflow."""
        return self._backoff_factor

    def get_growth_interval(self) -> int:
        """Clean steps between two growths."""
        return self._growth_interval

    def scale(self, outputs: Any) -> Any:
        """outputs (a tensor, or a list/tuple of them) times the scale."""
        if not self._enabled:
            return outputs
        if isinstance(outputs, Tensor):
            return outputs * self._scale
        if isinstance(outputs, (list, tuple)):
            return type(outputs)(self.scale(o) for o in outputs)
        raise ValueError("outputs must be a Tensor or an iterable of Tensors")

    def unscale_(self, optimizer: Any) -> None:
        """Divide the optimizer's gradients by the scale, in place (before clipping them)."""
        if not self._enabled:
            return
        if id(optimizer) in self._found_inf:
            raise RuntimeError("unscale_() has already been called on this optimizer since the "
                               "last update().")
        inverse = 1.0 / self._scale
        found = False
        for group in optimizer.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                data = p.grad._data
                data *= inverse
                found = found or not bool(array_module(data).isfinite(data).all())
        self._found_inf[id(optimizer)] = found

    def step(self, optimizer: Any, *args: Any, **kwargs: Any) -> Any:
        """optimizer.step() on unscaled gradients, skipped if any was inf or nan."""
        if not self._enabled:
            return optimizer.step(*args, **kwargs)
        if id(optimizer) not in self._found_inf:
            self.unscale_(optimizer)
        if self._found_inf[id(optimizer)]:
            return None
        return optimizer.step(*args, **kwargs)

    def update(self, new_scale: float | Tensor | None = None) -> None:
        """Adapt the scale after this iteration's steps (or set it to new_scale)."""
        if not self._enabled:
            return
        if new_scale is not None:
            self._scale = float(new_scale)
        elif any(self._found_inf.values()):
            self._scale *= self._backoff_factor
            self._growth_tracker = 0
        else:
            self._growth_tracker += 1
            if self._growth_tracker == self._growth_interval:
                self._scale *= self._growth_factor
                self._growth_tracker = 0
        self._found_inf = {}

    def state_dict(self) -> dict[str, Any]:
        """The scale and its schedule (empty when disabled)."""
        if not self._enabled:
            return {}
        return {"scale": self._scale, "growth_factor": self._growth_factor,
                "backoff_factor": self._backoff_factor, "growth_interval": self._growth_interval,
                "_growth_tracker": self._growth_tracker}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what state_dict() saved."""
        if not self._enabled:
            return
        if not state_dict:
            raise RuntimeError("The source state dict is empty, possibly because it was saved "
                               "from a disabled instance of GradScaler.")
        self._scale = float(state_dict["scale"])
        self._growth_factor = float(state_dict["growth_factor"])
        self._backoff_factor = float(state_dict["backoff_factor"])
        self._growth_interval = int(state_dict["growth_interval"])
        self._growth_tracker = int(state_dict["_growth_tracker"])


_AUTOCAST_DEVICES = ("cpu", "cuda", "mps", "xpu", "hpu", "xla", "mtia", "meta")
_autocast_stack: list[bool] = []


class autocast:  # noqa: N801 - torch's name
    """`with torch.amp.autocast(device_type, dtype=None, enabled=True):` - a pass-through.

    Rosenblatt has no mixed-precision op table: inside the block, ops run in the dtypes of
    their inputs, so a float32 model stays float32 (slower than PyTorch's float16 on a GPU,
    and at least as accurate).
    """

    def __init__(self, device_type: str, dtype: Any = None, enabled: bool = True,
                 cache_enabled: bool | None = None) -> None:
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        if device_type.partition(":")[0] not in _AUTOCAST_DEVICES:
            raise RuntimeError(f"User specified an unsupported autocast device_type "
                               f"'{device_type}'")
        self.device = device_type
        self.fast_dtype = dtype
        self._enabled = bool(enabled)

    def __enter__(self) -> autocast:
        _autocast_stack.append(self._enabled)
        return self

    def __exit__(self, *exc: Any) -> None:
        _autocast_stack.pop()

    def __call__(self, func: Callable) -> Callable:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self:
                return func(*args, **kwargs)

        return wrapper


def is_autocast_available(device_type: str) -> bool:
    """Whether autocast accepts this device type (it then runs as a pass-through)."""
    return device_type in _AUTOCAST_DEVICES


def is_autocast_enabled(device_type: str | None = None) -> bool:
    """True inside an enabled autocast block (whose ops still keep their dtypes)."""
    return bool(_autocast_stack) and _autocast_stack[-1]
