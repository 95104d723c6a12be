"""`nn.utils.prune`: PyTorch's pruning API and semantics.

Pruning parameter `name` of a module renames the parameter to `name_orig`, adds the buffer
`name_mask` (1 keeps, 0 prunes) and sets `name` to a plain tensor `name_orig * name_mask`,
recomputed before every forward by the pruning method, which is registered as a forward
pre-hook. Pruning again combines the masks (a PruningContainer); `remove` makes it permanent.
Masks are computed on NumPy arrays, choosing the same entries as PyTorch's topk/norm rules.
"""

from __future__ import annotations

import numbers
from abc import ABC, abstractmethod
from typing import Any, Iterable

import rosenblatt as rb
from rosenblatt._backend import np

__all__ = [
    "BasePruningMethod", "PruningContainer", "Identity", "RandomUnstructured", "L1Unstructured",
    "RandomStructured", "LnStructured", "CustomFromMask", "identity", "random_unstructured",
    "l1_unstructured", "random_structured", "ln_structured", "global_unstructured",
    "custom_from_mask", "remove", "is_pruned",
]


def _array(t: Any) -> Any:
    return np.asarray(t.detach().cpu().numpy())


def _like(array: Any, t: Any) -> Any:
    """`array` as a tensor of `t`'s dtype and device."""
    return rb.as_tensor(np.ascontiguousarray(array)).to(device=t.device, dtype=t.dtype)


class BasePruningMethod(ABC):
    """A pruning method: computes a mask and, as a forward pre-hook, applies it."""

    _tensor_name: str
    PRUNING_TYPE: str = "unstructured"

    def __call__(self, module: Any, inputs: Any) -> None:
        setattr(module, self._tensor_name, self.apply_mask(module))

    @abstractmethod
    def compute_mask(self, t: Any, default_mask: Any) -> Any:
        """The mask (t's shape) to apply to `t`, given the mask so far."""

    def apply_mask(self, module: Any) -> Any:
        """`name_orig * name_mask` of the module."""
        orig = getattr(module, self._tensor_name + "_orig")
        mask = getattr(module, self._tensor_name + "_mask")
        return mask.to(dtype=orig.dtype) * orig

    @classmethod
    def apply(cls, module: Any, name: str, *args: Any, importance_scores: Any = None,
              **kwargs: Any) -> BasePruningMethod:
        """Prune `module.name` with a new `cls(*args, **kwargs)`, combined with earlier ones."""
        method = _composite(cls, module, name, *args, **kwargs)
        orig = getattr(module, name)
        if importance_scores is not None and tuple(importance_scores.shape) != tuple(orig.shape):
            raise ValueError(f"importance_scores should have the same shape as parameter "
                             f"{name} of {module}")
        scores = orig if importance_scores is None else importance_scores
        first = not isinstance(method, PruningContainer)
        if first:  # the parameter becomes name_orig; name becomes a plain tensor
            module.register_parameter(name + "_orig", orig)
            del module._parameters[name]
            default_mask = rb.ones_like(orig)
        else:
            default_mask = getattr(module, name + "_mask").detach().clone()
        try:
            mask = method.compute_mask(scores, default_mask=default_mask)
            module.register_buffer(name + "_mask", mask)
            setattr(module, name, method.apply_mask(module))
            module.register_forward_pre_hook(method)
        except Exception:
            if first:  # put the parameter back as it was
                module.register_parameter(name, getattr(module, name + "_orig"))
                del module._parameters[name + "_orig"]
            raise
        return method

    def prune(self, t: Any, default_mask: Any = None, importance_scores: Any = None) -> Any:
        """`t` with this method's mask applied (the module is not changed)."""
        scores = t if importance_scores is None else importance_scores
        default_mask = rb.ones_like(t) if default_mask is None else default_mask
        return t * self.compute_mask(scores, default_mask=default_mask)

    def remove(self, module: Any) -> None:
        """Make the pruning permanent: `name` a parameter again holding the masked values."""
        name = self._tensor_name
        weight = self.apply_mask(module)
        if name in module.__dict__:
            delattr(module, name)
        orig = module._parameters[name + "_orig"]
        orig.data = weight.data
        del module._parameters[name + "_orig"]
        del module._buffers[name + "_mask"]
        setattr(module, name, orig)


def _composite(cls: type, module: Any, name: str, *args: Any, **kwargs: Any) -> Any:
    """The new method, or a container holding the one already on `module.name` and it."""
    old = [(k, h) for k, h in module._forward_pre_hooks.items()
           if isinstance(h, BasePruningMethod) and h._tensor_name == name]
    if len(old) > 1:
        raise RuntimeError(f"more than one pruning hook on parameter {name} of {module}")
    for k, _ in old:
        del module._forward_pre_hooks[k]
    method = cls(*args, **kwargs)
    method._tensor_name = name
    if not old:
        return method
    previous = old[0][1]
    if isinstance(previous, PruningContainer):
        previous.add_pruning_method(method)
        return previous
    container = PruningContainer(previous)
    container.add_pruning_method(method)
    return container


class PruningContainer(BasePruningMethod):
    """Pruning methods applied in turn to one parameter; each prunes what is left."""

    def __init__(self, *args: Any) -> None:
        self._pruning_methods: tuple = ()
        if len(args) == 1 and not isinstance(args[0], Iterable):
            self._tensor_name = args[0]._tensor_name
            self.add_pruning_method(args[0])
        elif len(args) == 1:
            for method in args[0]:
                self.add_pruning_method(method)
        else:
            for method in args:
                self.add_pruning_method(method)

    def add_pruning_method(self, method: Any) -> None:
        """Append a method pruning the same parameter."""
        if method is not None and not isinstance(method, BasePruningMethod):
            raise TypeError(f"{type(method)} is not a BasePruningMethod subclass")
        if method is not None and not hasattr(self, "_tensor_name"):
            self._tensor_name = method._tensor_name
        if method is not None and self._tensor_name != method._tensor_name:
            raise ValueError(f"Can only add pruning methods acting on the parameter named "
                             f"'{self._tensor_name}' to PruningContainer. Found "
                             f"'{method._tensor_name}'")
        self._pruning_methods += (method,)

    def __len__(self) -> int:
        return len(self._pruning_methods)

    def __iter__(self) -> Any:
        return iter(self._pruning_methods)

    def __getitem__(self, idx: int) -> Any:
        return self._pruning_methods[idx]

    def compute_mask(self, t: Any, default_mask: Any) -> Any:
        """The last method's mask computed on the entries (or channels) still unpruned."""
        method = self._pruning_methods[-1]
        values, mask = _array(t), _array(default_mask).astype(_array(t).dtype)
        if method.PRUNING_TYPE == "unstructured":
            slc: Any = mask == 1
        elif method.PRUNING_TYPE == "structured":
            dim = method.dim + mask.ndim if method.dim < 0 else method.dim
            if not 0 <= dim < mask.ndim:
                raise IndexError(f"Pruning dimension {method.dim} out of range for a "
                                 f"{mask.ndim}-d tensor")
            keep = mask.sum(axis=tuple(d for d in range(mask.ndim) if d != dim)) != 0
            slc = tuple(keep if d == dim else slice(None) for d in range(mask.ndim))
        elif method.PRUNING_TYPE == "global":
            slc = tuple(slice(None) for _ in range(mask.ndim))
        else:
            raise ValueError(f"Unrecognized PRUNING_TYPE {method.PRUNING_TYPE}")
        partial = method.compute_mask(_like(values[slc], t), default_mask=_like(mask[slc], t))
        mask[slc] = _array(partial)
        return _like(mask, default_mask)


class Identity(BasePruningMethod):
    """Prunes nothing (a mask of ones)."""

    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t: Any, default_mask: Any) -> Any:
        return default_mask

    @classmethod
    def apply(cls, module: Any, name: str) -> BasePruningMethod:  # type: ignore[override]
        return super().apply(module, name)


def _check_amount(amount: Any) -> None:
    if not isinstance(amount, numbers.Real):
        raise TypeError(f"Invalid type for amount: {amount}. Must be int or float.")
    if (isinstance(amount, numbers.Integral) and amount < 0) or (
            not isinstance(amount, numbers.Integral) and not 0.0 <= float(amount) <= 1.0):
        raise ValueError(f"amount={amount} should either be a float in the range [0, 1] or a "
                         "non-negative integer")


def _count(amount: Any, size: int) -> int:
    """How many of `size` entries (or channels) `amount` prunes (PyTorch's rounding)."""
    if isinstance(amount, numbers.Integral):
        if amount > size:
            raise ValueError(f"amount={amount} should be smaller than the number of parameters "
                             f"to prune={size}")
        return int(amount)
    return round(amount * size)


class _Unstructured(BasePruningMethod):
    """Prunes the `amount` entries of lowest score (scores(t): an array of t's shape)."""

    PRUNING_TYPE = "unstructured"

    def __init__(self, amount: Any) -> None:
        _check_amount(amount)
        self.amount = amount

    def scores(self, values: Any) -> Any:
        raise NotImplementedError

    def compute_mask(self, t: Any, default_mask: Any) -> Any:
        values = _array(t)
        k = _count(self.amount, values.size)
        mask = _array(default_mask).copy()
        if k:
            lowest = np.argsort(self.scores(values).reshape(-1), kind="stable")[:k]
            mask.reshape(-1)[lowest] = 0
        return _like(mask, default_mask)


class L1Unstructured(_Unstructured):
    """Prunes the entries of smallest absolute value."""

    def scores(self, values: Any) -> Any:
        return np.abs(values)


class RandomUnstructured(_Unstructured):
    """Prunes entries chosen at random (rosenblatt's generator)."""

    def scores(self, values: Any) -> Any:
        return _array(rb.rand(values.shape))


def _norm(values: Any, n: Any, dim: int) -> Any:
    """The L`n` norm of each slice along `dim` (over every other dim)."""
    axes = tuple(d for d in range(values.ndim) if d != dim % values.ndim)
    a = np.abs(values.astype(np.float64))
    if n == "fro":
        n = 2
    if n == np.inf:
        return a.max(axis=axes)
    if n == -np.inf:
        return a.min(axis=axes)
    if n == 0:
        return (a != 0).sum(axis=axes).astype(np.float64)
    return (a ** n).sum(axis=axes) ** (1.0 / n)


class _Structured(BasePruningMethod):
    """Prunes whole channels along `dim`: the `amount` of lowest score."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount: Any, dim: int = -1) -> None:
        _check_amount(amount)
        self.amount, self.dim = amount, dim

    def scores(self, values: Any) -> Any:
        raise NotImplementedError

    def compute_mask(self, t: Any, default_mask: Any) -> Any:
        values = _array(t)
        if values.ndim <= 1:
            raise ValueError("Structured pruning can only be applied to multidimensional "
                             f"tensors. Found tensor of shape {tuple(values.shape)} with "
                             f"{values.ndim} dims")
        dim = self.dim % values.ndim
        size = values.shape[dim]
        k = _count(self.amount, size)
        if k == 0:
            return default_mask
        keep = np.argsort(-self.scores(values), kind="stable")[:size - k]
        channels = np.zeros(size, values.dtype)
        channels[keep] = 1
        shape = [1] * values.ndim
        shape[dim] = size
        mask = np.broadcast_to(channels.reshape(shape), values.shape) * _array(default_mask)
        return _like(mask, default_mask)


class LnStructured(_Structured):
    """Prunes the channels along `dim` of smallest L`n` norm."""

    def __init__(self, amount: Any, n: Any, dim: int = -1) -> None:
        super().__init__(amount, dim)
        self.n = n

    def scores(self, values: Any) -> Any:
        return _norm(values, self.n, self.dim)


class RandomStructured(_Structured):
    """Prunes channels along `dim` chosen at random."""

    def scores(self, values: Any) -> Any:
        return _array(rb.rand(values.shape[self.dim % values.ndim]))


class CustomFromMask(BasePruningMethod):
    """Prunes where the given mask is 0."""

    PRUNING_TYPE = "global"

    def __init__(self, mask: Any) -> None:
        self.mask = mask

    def compute_mask(self, t: Any, default_mask: Any) -> Any:
        if tuple(default_mask.shape) != tuple(self.mask.shape):
            raise ValueError(f"the mask has shape {tuple(self.mask.shape)}, the parameter "
                             f"{tuple(default_mask.shape)}")
        return default_mask * self.mask.to(dtype=default_mask.dtype)


def identity(module: Any, name: str) -> Any:
    """Add a mask of ones to `module.name` (reparametrize without pruning); returns module."""
    Identity.apply(module, name)
    return module


def random_unstructured(module: Any, name: str, amount: Any) -> Any:
    """Prune `amount` (a count or fraction) of `module.name`'s entries at random."""
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(module: Any, name: str, amount: Any, importance_scores: Any = None) -> Any:
    """Prune `amount` of `module.name`'s entries with the smallest absolute value (or score)."""
    L1Unstructured.apply(module, name, amount=amount, importance_scores=importance_scores)
    return module


def random_structured(module: Any, name: str, amount: Any, dim: int) -> Any:
    """Prune `amount` of `module.name`'s channels along `dim` at random."""
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(module: Any, name: str, amount: Any, n: Any, dim: int,
                  importance_scores: Any = None) -> Any:
    """Prune `amount` of `module.name`'s channels along `dim` with the smallest L`n` norm."""
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def global_unstructured(parameters: Iterable, pruning_method: type,
                        importance_scores: dict | None = None, **kwargs: Any) -> None:
    """Prune the (module, name) pairs together: `amount` counts over all of them at once."""
    parameters = list(parameters)
    if not parameters:
        raise TypeError("global_unstructured: parameters must be a non-empty iterable of "
                        "(module, name) pairs")
    scores = importance_scores or {}
    values = np.concatenate([_array(scores.get((m, n), getattr(m, n))).reshape(-1)
                             for m, n in parameters])
    masks = [getattr(m, n + "_mask", None) for m, n in parameters]
    default = np.concatenate([np.ones(getattr(m, n).shape).reshape(-1) if k is None
                              else _array(k).reshape(-1) for (m, n), k in zip(parameters, masks)])
    method = pruning_method(**kwargs)
    method._tensor_name = "temp"
    if method.PRUNING_TYPE != "unstructured":
        raise TypeError('Only "unstructured" PRUNING_TYPE supported for the `pruning_method`. '
                        f"Found method {pruning_method} of type {method.PRUNING_TYPE}")
    container = PruningContainer(method)
    first = getattr(parameters[0][0], parameters[0][1])
    final = _array(container.compute_mask(_like(values, first), _like(default, first)))
    start = 0
    for module, name in parameters:
        param = getattr(module, name)
        part = final[start:start + param.numel()].reshape(tuple(param.shape))
        custom_from_mask(module, name, mask=_like(part, param))
        start += param.numel()


def custom_from_mask(module: Any, name: str, mask: Any) -> Any:
    """Prune `module.name` where `mask` is 0."""
    CustomFromMask.apply(module, name, mask)
    return module


def remove(module: Any, name: str) -> Any:
    """Make the pruning of `module.name` permanent: drops `name_orig`, `name_mask`, the hook."""
    for key, hook in module._forward_pre_hooks.items():
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(f"Parameter '{name}' of module {module} has to be pruned before pruning "
                     "can be removed")


def is_pruned(module: Any) -> bool:
    """Whether any submodule of `module` has a pruning hook."""
    return any(isinstance(hook, BasePruningMethod)
               for _, sub in module.named_modules() for hook in sub._forward_pre_hooks.values())
