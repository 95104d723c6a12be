"""`Optimizer`: parameter groups, per-parameter state, zero_grad, step and state dicts.

The base class does what every optimizer shares: it checks the hyper-parameters a subclass names
in `_checked` (PyTorch's messages), makes each parameter's state from `_new_state` before its
first update, and passes the parameters that have a gradient, group by group, to `_step_group`.
That method calls the optimizer's functional form (`adam`, `sgd`, ...: PyTorch's names and
arguments, usable without the class), where each update starts from `_directed_grad`
(maximize, weight decay).
"""

from __future__ import annotations

import copy
import inspect
import warnings
from collections import defaultdict
from typing import Any, Callable, Iterable, Iterator

from .._backend import array_module, device, device_of, np, to_device
from ..autograd.grad_mode import enable_grad, no_grad
from ..autograd.tensor import Tensor

ParamsT = Iterable[Tensor] | Iterable[dict[str, Any]] | Iterable[tuple[str, Tensor]]


class _RequiredParameter:
    """Marks a hyper-parameter that every parameter group must set (no default)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


class Optimizer:
    """Base class of all optimizers: holds `param_groups`, `state` and `defaults`."""

    # hyper-parameters checked before anything else, in PyTorch's order (see `_check`)
    _checked: tuple[str, ...] = ()
    # the update rule over lists of tensors, and the state entries it takes, in its order
    _functional: Callable[..., None] | None = None
    _state_lists: tuple[str, ...] = ()
    _hyper_names: tuple[str, ...] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "_functional" in cls.__dict__:  # the functional's keyword-only arguments
            parameters = inspect.signature(cls._functional).parameters.values()
            cls._hyper_names = tuple(p.name for p in parameters if p.kind is p.KEYWORD_ONLY)

    def __init__(self, params: ParamsT, defaults: dict[str, Any]) -> None:
        for name in self._checked:
            _check(defaults, name)
        self.defaults = defaults
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or "
                f"dicts, but got {_typename(params)}"
            )
        self.state: defaultdict[Tensor, dict[str, Any]] = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {group[k]}" for k in sorted(group) if k != "params"]
        return "\n".join(lines) + "\n)"

    # ------------------------------------------------------------------ groups
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own hyper-parameters (defaults fill the rest)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the "
                "ordering of tensors in sets will change between runs. Please use a list instead."
            )
        params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        params = [p[1] if isinstance(p, tuple) else p for p in params]
        if names:
            if len(names) != len(params):
                raise ValueError(
                    "all optimizer params should be with/without names. Some param names are "
                    "missing"
                )
            param_group["param_names"] = names
        param_group["params"] = params
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"optimizer can only optimize Tensors, but one of the params is {_typename(p)}"
                )
            if not (p.is_leaf or p.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(
                    "parameter group didn't specify a value of required optimization "
                    f"parameter {name}"
                )
            param_group.setdefault(name, default)
        ids = [id(p) for p in params]
        if len(ids) != len(set(ids)):
            warnings.warn(
                "optimizer contains a parameter group with duplicate parameters; in future, "
                "this will cause an error; see github.com/pytorch/pytorch/issues/40967 for more "
                "information",
                stacklevel=3,
            )
        seen = {id(p) for group in self.param_groups for p in group["params"]}
        for group in self.param_groups:
            if ("param_names" in param_group) != ("param_names" in group):
                kind = "with names" if "param_names" in param_group else "without names"
                raise ValueError(
                    "all optimizer param groups should be with/without names. "
                    f"cannot add param group {kind} to the optimizer"
                )
        if not seen.isdisjoint(ids):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # -------------------------------------------------------------------- step
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: `.grad = None`, or zeros with `set_to_none=False`."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                    continue
                grad = p.grad
                grad._node, grad.requires_grad = None, False
                # a fresh zero array, not `fill(0)`: the old array may be shared with others
                grad._data = array_module(grad._data).zeros_like(grad._data)
                grad._version_box[0] += 1

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; return `closure()`'s loss if given."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        with no_grad():
            for group in self.param_groups:
                params = [p for p in group["params"] if p.grad is not None]
                if params:
                    self._step_group(group, params, [self._state_for(p, group) for p in params])
        return loss

    def _state_for(self, param: Tensor, group: dict[str, Any]) -> dict[str, Any]:
        """The parameter's state, made from `_new_state` before its first update."""
        state = self.state[param]
        if not state:
            for name, value in self._new_state(group).items():
                state[name] = _state_like(param, name, value)
        return state

    def _new_state(self, group: dict[str, Any]) -> dict[str, float]:
        """A parameter's state before its first update: each name with its initial value.

        By default every `_state_lists` entry at 0, 'step' first (PyTorch's order); an
        optimizer with other initial values or entries that depend on the group overrides it.
        """
        return dict.fromkeys(sorted(self._state_lists, key=lambda name: name != "step"), 0.0)

    def _step_group(
        self, group: dict[str, Any], params: list[Tensor], states: list[dict[str, Any]]
    ) -> list[list[Any]]:
        """Update a group's parameters that have a gradient with the functional form.

        Calls `_functional(params, grads, *state lists, **hyper-parameters)`: the lists are the
        `_state_lists` entries of each parameter, the keywords the group's values of the
        functional's keyword-only arguments (betas given as beta1, beta2). Returns the lists.
        """
        if self._functional is None:
            raise NotImplementedError(
                f"{type(self).__name__} names no _functional: override step() instead"
            )
        hyper = {name: group[name] for name in self._hyper_names if name in group}
        if "betas" in group:
            hyper["beta1"], hyper["beta2"] = group["betas"]
        columns = [_column(states, name) for name in self._state_lists]
        self._functional(params, [p.grad for p in params], *columns, **hyper)
        return columns

    # -------------------------------------------------------------- state dict
    def state_dict(self) -> dict[str, Any]:
        """The state, PyTorch's format: `{'state': {i: {...}}, 'param_groups': [{'params': [i]}]}`.

        Parameters are numbered in the order of the groups. Like PyTorch, the state tensors are
        the live ones, not copies: save or clone them before the next step.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {  # parameters that never had state (SGD without momentum) are left out
            index[id(p)] if isinstance(p, Tensor) else p: s for p, s in self.state.items() if s
        }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a `state_dict()` (ours or PyTorch's): copies the state onto our parameters."""
        groups = self.param_groups
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError(
                "loaded state dict has a different number of parameter groups: "
                f"{len(saved_groups)} saved, {len(groups)} in the optimizer"
            )
        for i, (group, saved) in enumerate(zip(groups, saved_groups)):
            if len(group["params"]) != len(saved["params"]):
                raise ValueError(
                    "loaded state dict contains a parameter group that doesn't match the size "
                    f"of optimizer's group: group {i} has {len(saved['params'])} parameters "
                    f"saved and {len(group['params'])} in the optimizer"
                )
        id_map = {
            saved_id: p
            for group, saved in zip(groups, saved_groups)
            for saved_id, p in zip(saved["params"], group["params"])
        }
        state: defaultdict[Any, dict[str, Any]] = defaultdict(dict)
        for key, value in state_dict["state"].items():
            if key in id_map:
                param = id_map[key]
                state[param] = {k: _state_value(v, param, k) for k, v in value.items()}
            else:
                state[key] = value
        for group, saved in zip(groups, saved_groups):
            saved["params"] = group["params"]
            if "param_names" in group and "param_names" not in saved:
                saved["param_names"] = group["param_names"]
            for name, default in self.defaults.items():
                saved.setdefault(name, default)
            if isinstance(saved.get("betas"), list):
                saved["betas"] = tuple(saved["betas"])
        self.state = state
        self.param_groups = saved_groups


def _state_value(value: Any, param: Tensor, key: str) -> Any:
    """A copy of one saved state value as a Tensor on the parameter's device and dtype.

    Arrays (and PyTorch tensors, through `__array__`) become rosenblatt Tensors. The CPU
    scalars ('step', NAdam's 'mu_product') keep their own dtype (float32), as in PyTorch; other
    floating state takes the parameter's dtype.
    """
    if isinstance(value, (int, float, bool, str)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return type(value)(_state_value(v, param, key) for v in value)
    if isinstance(value, dict):
        return {k: _state_value(v, param, k) for k, v in value.items()}
    array = value._data if isinstance(value, Tensor) else value
    if type(array).__module__.startswith("torch"):
        array = array.detach().cpu().numpy()
    if not hasattr(array, "dtype"):
        array = np.asarray(array)
    # the scalars stay on the CPU (read every step); the rest goes where the parameter is
    scalar = key in _CPU_SCALAR_STATE
    array = to_device(array, device("cpu") if scalar else device_of(param._data))
    dtype = param._data.dtype if not scalar and array.dtype.kind == "f" else array.dtype
    return Tensor._make(array_module(array).array(array, dtype=dtype, copy=True), False, None)


# how PyTorch's messages name a hyper-parameter; the others read "Invalid <name> value: ..."
_LABELS = {"lr": "learning rate", "eps": "epsilon value"}


def _check(defaults: dict[str, Any], name: str) -> None:
    """Raise PyTorch's ValueError if a hyper-parameter is out of range (NaN included).

    Betas lie in [0, 1), rho in [0, 1], Nesterov needs momentum without dampening, every
    other checked value is >= 0.
    """
    value = defaults[name]
    if name == "nesterov":
        if value and (defaults["momentum"] <= 0 or defaults["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
    elif name == "betas":
        for i, beta in enumerate(value):
            if not 0.0 <= beta < 1.0:
                raise ValueError(f"Invalid beta parameter at index {i}: {beta}")
    elif not (0.0 <= value <= 1.0 if name == "rho" else 0.0 <= value):
        raise ValueError(f"Invalid {_LABELS.get(name, f'{name} value')}: {value}")


def _typename(obj: Any) -> str:
    """The qualified type name, as in PyTorch's messages."""
    if isinstance(obj, Tensor):
        return "rosenblatt.Tensor"
    module = type(obj).__module__
    name = type(obj).__qualname__
    return name if module == "builtins" else f"{module}.{name}"


def _state_tensor(array: Any) -> Tensor:
    """Wrap an optimizer-state array as a Tensor (so state dicts hold Tensors, as PyTorch's)."""
    return Tensor._make(array, False, None)


# state kept as 0-d float32 tensors on the CPU whatever the parameter, as in PyTorch
_CPU_SCALAR_STATE = ("step", "mu_product")


def _state_like(param: Tensor, name: str, value: float) -> Tensor:
    """A fresh state entry: a CPU float32 scalar ('step', 'mu_product') or an array like param."""
    if name in _CPU_SCALAR_STATE:
        return _state_tensor(np.array(value, dtype=np.float32))
    return _state_tensor(array_module(param._data).full_like(param._data, value))


def _column(states: list[dict[str, Any]], name: str) -> list[Any]:
    """One state entry of each parameter (None where a parameter lacks it)."""
    return [state.get(name) for state in states]


def _next_step(step: Tensor) -> float:
    """Advance a 'step' counter in place and return its new value."""
    step._data += 1
    step._version_box[0] += 1
    return float(step._data)


def _updates(
    params: list[Tensor], grads: list[Tensor], state_steps: list[Tensor] | None,
    maximize: bool, weight_decay: float, lr: float = 0.0, decoupled: bool = False,
) -> Iterator[tuple[int, Any, Any, float]]:
    """What every functional form does around its update rule, parameter by parameter.

    Yields (index, parameter array, gradient array to follow, step) after advancing the step
    counter (if any) and directing the gradient: -g to maximize, then weight decay, L2
    (g + λθ, a new array: the gradient is read-only) or decoupled (AdamW, NAdamW: θ ← θ (1 − γλ)
    in place). Once the caller has updated the array in place, counts the parameter's change.
    """
    for i, param in enumerate(params):
        array, grad = param._data, grads[i]._data
        step = 0.0 if state_steps is None else _next_step(state_steps[i])
        if maximize:
            grad = -grad
        grad = _decay(array, grad, weight_decay, lr, decoupled)
        yield i, array, grad, step
        param._version_box[0] += 1


def _decay(array: Any, grad: Any, weight_decay: float, lr: float = 0.0,
           decoupled: bool = False) -> Any:
    """Weight decay of one parameter: L2 returns g + λθ (a new array: the gradient is
    read-only), decoupled shrinks θ ← θ (1 − γλ) in place and returns g."""
    if weight_decay == 0:
        return grad
    if decoupled:
        array *= 1 - lr * weight_decay
        return grad
    return grad + weight_decay * array
