"""`Module`: the base class of layers; it owns parameters, buffers and sub-modules by name.

Assigning a Parameter, a Module or (after `register_buffer`) a tensor to an attribute
registers it, so `state_dict()` can name every array the way PyTorch does
('0.weight', 'bn.running_mean') and weights move between the two frameworks as plain arrays.
"""

from __future__ import annotations

import copy
import itertools
from collections import OrderedDict, namedtuple
from typing import Any, Callable, Iterator

from ... import dtypes
from ..._backend import array_module, np, to_device
from ..._backend import device as parse_device
from ...autograd.grad_mode import no_grad
from ...autograd.tensor import Tensor, parse_to
from ..parameter import Parameter, _copy_tensor

_IncompatibleKeys = namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])


class Changes:
    """Counts changes to any module's attributes, children, parameters or hooks.

    What is compiled from a module tree (Sequential's no-grad fast path) stays valid while
    the count stands still.
    """

    count = 0


def _changed() -> None:
    Changes.count += 1


class RemovableHandle:
    """Returned by register_*_hook; `.remove()` unregisters the hook."""

    _next_id = itertools.count()

    def __init__(self, hooks: dict) -> None:
        self.hooks = hooks
        self.id = next(RemovableHandle._next_id)

    def remove(self) -> None:
        """Unregister the hook (no error if already removed)."""
        _changed()
        self.hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *args: Any) -> None:
        self.remove()


def _addindent(text: str, spaces: int) -> str:
    """Indent every line of `text` but the first (PyTorch's nested repr)."""
    lines = text.split("\n")
    if len(lines) == 1:
        return text
    return lines[0] + "\n" + "\n".join(" " * spaces + line for line in lines[1:])


class Module:
    """Base class for all neural network layers and models (`torch.nn.Module`)."""

    training: bool

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if args or kwargs:
            raise TypeError(f"{type(self).__name__}.__init__() got unexpected arguments")
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers_set", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_backward_hooks", OrderedDict())

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """The computation of the layer; subclasses override it."""
        raise NotImplementedError(
            f'Module [{type(self).__name__}] is missing the required "forward" function'
        )

    # ------------------------------------------------------------------ calling
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not self._forward_pre_hooks and not self._forward_hooks:
            return self.forward(*args, **kwargs)  # the common case, kept cheap for inference
        with_kwargs = self.__dict__.get("_hooks_with_kwargs", ())
        for key, hook in list(self._forward_pre_hooks.items()):
            if key in with_kwargs:
                result = hook(self, args, kwargs)
                if result is not None:
                    args, kwargs = result
                continue
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        output = self.forward(*args, **kwargs)
        for key, hook in list(self._forward_hooks.items()):
            result = hook(self, args, kwargs, output) if key in with_kwargs \
                else hook(self, args, output)
            if result is not None:
                output = result
        return output

    def _add_hook(self, table: dict, hook: Callable[..., Any], prepend: bool,
                  with_kwargs: bool) -> RemovableHandle:
        _changed()
        handle = RemovableHandle(table)
        table[handle.id] = hook
        if prepend:
            table.move_to_end(handle.id, last=False)
        if with_kwargs:
            if "_hooks_with_kwargs" not in self.__dict__:
                object.__setattr__(self, "_hooks_with_kwargs", set())
            self._hooks_with_kwargs.add(handle.id)
        return handle

    def register_forward_pre_hook(self, hook: Callable[..., Any], *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        """Call `hook(module, args)` before forward; it may return replacement args.

        With `with_kwargs`, `hook(module, args, kwargs)` may return (args, kwargs).
        """
        return self._add_hook(self._forward_pre_hooks, hook, prepend, with_kwargs)

    def register_forward_hook(self, hook: Callable[..., Any], *, prepend: bool = False,
                              with_kwargs: bool = False) -> RemovableHandle:
        """Call `hook(module, args, output)` after forward; it may return a new output.

        With `with_kwargs` the hook is called as `hook(module, args, kwargs, output)`.
        """
        return self._add_hook(self._forward_hooks, hook, prepend, with_kwargs)

    def register_full_backward_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Call `hook(module, grad_input, grad_output)` when the output's gradient is known.

        Simplified from PyTorch: grad_input holds None for each input (input gradients are
        not computed separately) and the hook's return value is ignored.
        """
        def on_grad(module: Module, args: tuple, grad: Tensor) -> None:
            hook(module, (None,) * len(args), (grad,))

        return self._output_grad_hook(on_grad)

    def register_full_backward_pre_hook(self, hook: Callable[..., Any]) -> RemovableHandle:
        """Call `hook(module, grad_output)` before the gradient flows into the module.

        The hook may return a tuple whose first element replaces the output's gradient.
        """
        def on_grad(module: Module, args: tuple, grad: Tensor) -> Any:
            replaced = hook(module, (grad,))
            return replaced[0] if isinstance(replaced, tuple) else replaced

        return self._output_grad_hook(on_grad)

    def _output_grad_hook(self, on_grad: Callable[..., Any]) -> RemovableHandle:
        """A forward hook that registers `on_grad` on each (single-tensor) output."""
        handle = RemovableHandle(self._backward_hooks)

        def on_output(module: Module, args: Any, output: Any) -> None:
            if isinstance(output, Tensor) and output.requires_grad and output.grad_fn:
                output.register_hook(lambda grad: on_grad(module, args, grad))

        forward_handle = self.register_forward_hook(on_output)
        self._backward_hooks[handle.id] = forward_handle

        def remove() -> None:
            forward_handle.remove()
            self._backward_hooks.pop(handle.id, None)

        handle.remove = remove  # type: ignore[method-assign]
        return handle

    # ------------------------------------------------------------ registration
    def register_parameter(self, name: str, param: Parameter | None) -> None:
        """Add a parameter (or None as a placeholder) under `name`."""
        _changed()
        if "_parameters" not in self.__dict__:
            raise AttributeError("cannot assign parameter before Module.__init__() call")
        self._check_name(name, "parameter", self._parameters)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{type(param).__name__}' object to parameter "
                            f"'{name}' (rosenblatt.nn.Parameter or None required)")
        if param is not None and param.grad_fn is not None:
            raise ValueError(f"Cannot assign non-leaf Tensor to parameter '{name}'. Model "
                             "parameters must be created explicitly.")
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """Add a tensor that is state but not a parameter (e.g. BatchNorm's running mean)."""
        _changed()
        if "_buffers" not in self.__dict__:
            raise AttributeError("cannot assign buffer before Module.__init__() call")
        self._check_name(name, "buffer", self._buffers)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' "
                            "(rosenblatt Tensor or None required)")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)

    def add_module(self, name: str, module: Module | None) -> None:
        """Add a child module under `name`."""
        _changed()
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{type(module).__name__} is not a Module subclass")
        if not isinstance(name, str):
            raise TypeError(f"module name should be a string. Got {type(name).__name__}")
        if hasattr(self, name) and name not in self._modules:
            raise KeyError(f"attribute '{name}' already exists")
        if "." in name or name == "":
            raise KeyError(f'module name can\'t contain ".", got: {name}' if name
                           else 'module name can\'t be empty string ""')
        self._modules[name] = module

    register_module = add_module

    def _check_name(self, name: str, kind: str, table: dict) -> None:
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string. Got {type(name).__name__}")
        if "." in name:
            raise KeyError(f'{kind} name can\'t contain "."')
        if name == "":
            raise KeyError(f'{kind} name can\'t be empty string ""')
        if hasattr(self, name) and name not in table:
            raise KeyError(f"attribute '{name}' already exists")

    def __setattr__(self, name: str, value: Any) -> None:
        _changed()
        d = self.__dict__
        params = d.get("_parameters")
        if isinstance(value, Parameter):
            if params is None:
                raise AttributeError("cannot assign parameters before Module.__init__() call")
            self._remove_from(name, d, d.get("_buffers"), d.get("_modules"))
            self.register_parameter(name, value)
        elif params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as parameter '{name}' "
                                "(rosenblatt.nn.Parameter or None expected)")
            self.register_parameter(name, value)
        elif isinstance(value, Module):
            modules = d.get("_modules")
            if modules is None:
                raise AttributeError("cannot assign module before Module.__init__() call")
            self._remove_from(name, d, params, d.get("_buffers"))
            modules[name] = value
        elif d.get("_modules") is not None and name in d["_modules"]:
            if value is not None:
                raise TypeError(f"cannot assign '{type(value).__name__}' as child module "
                                f"'{name}' (rosenblatt.nn.Module or None expected)")
            d["_modules"][name] = value
        elif d.get("_buffers") is not None and name in d["_buffers"]:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{type(value).__name__}' as buffer '{name}' "
                                "(rosenblatt Tensor or None expected)")
            d["_buffers"][name] = value
        else:
            object.__setattr__(self, name, value)

    @staticmethod
    def _remove_from(name: str, d: dict, *tables: dict | None) -> None:
        d.pop(name, None)
        for table in tables:
            if table is not None:
                table.pop(name, None)

    def __getattr__(self, name: str) -> Any:
        d = self.__dict__
        if "_modules" in d:  # unrolled: a child or parameter is looked up on every forward
            for table in (d["_parameters"], d["_buffers"], d["_modules"]):
                if name in table:
                    return table[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        _changed()
        for table in (self._parameters, self._buffers, self._modules):
            if name in table:
                del table[name]
                self._non_persistent_buffers_set.discard(name)
                return
        object.__delattr__(self, name)

    def __dir__(self) -> list:
        extra = list(self._parameters) + list(self._buffers) + list(self._modules)
        return sorted(set(object.__dir__(self)) | set(extra))

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)

    def __deepcopy__(self, memo: dict) -> Module:
        new = object.__new__(type(self))
        memo[id(self)] = new
        for value in itertools.chain(self._parameters.values(), self._buffers.values(),
                                     self.__dict__.values()):
            if isinstance(value, Tensor):
                _copy_tensor(value, memo)
        for key, value in self.__dict__.items():
            object.__setattr__(new, key, copy.deepcopy(value, memo))
        return new

    # -------------------------------------------------------------- traversal
    def named_modules(self, memo: set | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """(qualified name, module) for this module and every descendant, depth first."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if self in memo:
                return
            memo.add(self)
        yield prefix, self
        for name, module in self._modules.items():
            if module is None:
                continue
            sub = prefix + ("." if prefix else "") + name
            yield from module.named_modules(memo, sub, remove_duplicate)

    def modules(self) -> Iterator[Module]:
        """This module and every descendant."""
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """(name, module) for the direct children."""
        seen = set()
        for name, module in self._modules.items():
            if module is not None and module not in seen:
                seen.add(module)
                yield name, module

    def children(self) -> Iterator[Module]:
        """The direct children."""
        for _, module in self.named_children():
            yield module

    def _named_members(self, get: Callable[[Module], Any], prefix: str, recurse: bool,
                       remove_duplicate: bool = True) -> Iterator[tuple[str, Any]]:
        seen: set[int] = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) \
            if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in get(module):
                if value is None or (remove_duplicate and id(value) in seen):
                    continue
                seen.add(id(value))
                yield module_prefix + ("." if module_prefix else "") + name, value

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        """(qualified name, parameter) pairs, each shared parameter once."""
        return self._named_members(lambda m: m._parameters.items(), prefix, recurse,
                                   remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        """Every parameter (each shared one once)."""
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        """(qualified name, buffer) pairs."""
        return self._named_members(lambda m: m._buffers.items(), prefix, recurse,
                                   remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        """Every buffer."""
        for _, buf in self.named_buffers(recurse=recurse):
            yield buf

    def get_submodule(self, target: str) -> Module:
        """The descendant at a dotted path like 'encoder.0'."""
        module = self
        for part in target.split(".") if target else []:
            if part not in module._modules:
                raise AttributeError(f"{module._get_name()} has no attribute `{part}`")
            module = module._modules[part]
        return module

    def get_parameter(self, target: str) -> Parameter:
        """The parameter at a dotted path like 'encoder.0.weight'."""
        return self._get_member(target, "parameter")

    def get_buffer(self, target: str) -> Tensor:
        """The buffer at a dotted path like 'bn.running_mean'."""
        return self._get_member(target, "buffer")

    def _get_member(self, target: str, kind: str) -> Any:
        """The parameter or buffer (`kind`) at a dotted path: its module's `_{kind}s` entry."""
        module_path, _, name = target.rpartition(".")
        module = self.get_submodule(module_path)
        members = getattr(module, f"_{kind}s")
        if name not in members:
            raise AttributeError(f"{module._get_name()} has no {kind} `{name}`")
        return members[name]

    # ------------------------------------------------------------------ modes
    def train(self, mode: bool = True) -> Module:
        """Set training mode (dropout active, batch norm uses batch statistics)."""
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self) -> Module:
        """Set evaluation mode (same as `train(False)`)."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Set requires_grad on every parameter."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of every parameter (to None by default)."""
        for param in self.parameters():
            if param.grad is None:
                continue
            if set_to_none:
                param.grad = None
            else:
                param.grad = Tensor._make(array_module(param.grad._data).zeros_like(
                    param.grad._data), False, None)

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call `fn` on every descendant (children first), then on this module."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # ------------------------------------------------------- device and dtype
    def _apply(self, fn: Callable[[Any], Any]) -> Module:
        """Replace every parameter's and buffer's array by fn(array), keeping the objects."""
        for module in self.modules():
            for param in module._parameters.values():
                if param is None:
                    continue
                param._data = fn(param._data)
                if param.grad is not None:
                    param.grad._data = fn(param.grad._data)
            for name, buf in module._buffers.items():
                if buf is not None:
                    module._buffers[name] = Tensor._make(fn(buf._data), buf.requires_grad, None)
        return self

    def to(self, *args: Any, **kwargs: Any) -> Module:
        """Move to a device and/or cast floating-point parameters and buffers to a dtype."""
        target, dtype = parse_to(args, kwargs)
        if dtype is not None and not dtype.is_floating_point:
            raise TypeError(f"nn.Module.to only accepts floating point dtypes, but got "
                            f"desired dtype={dtype}")
        dev = parse_device(target) if target is not None else None

        def convert(array: Any) -> Any:
            if dev is not None:
                array = to_device(array, dev)
            if dtype is not None and array.dtype.kind == "f" and array.dtype != dtype.np:
                array = array.astype(dtype.np)
            return array

        return self._apply(convert)

    def share_memory(self) -> Module:
        """Move parameters and buffers into shared memory, for processes forked after this
        (rosenblatt.multiprocessing): their in-place updates are seen by all."""
        from ...multiprocessing import shared_array

        return self._apply(shared_array)

    def cpu(self) -> Module:
        """Move every parameter and buffer to the CPU."""
        return self.to("cpu")

    def cuda(self, device: Any = None) -> Module:
        """Move every parameter and buffer to a CUDA device (needs CuPy)."""
        return self.to("cuda" if device is None else
                       (f"cuda:{device}" if isinstance(device, int) else device))

    def type(self, dst_type: Any) -> Module:
        """Cast every parameter and buffer to `dst_type`."""
        return self._apply(lambda a: a.astype(dtypes.to_numpy_dtype(dst_type)))

    def float(self) -> Module:
        """Cast floating-point parameters and buffers to float32."""
        return self.to(dtypes.float32)

    def double(self) -> Module:
        """Cast floating-point parameters and buffers to float64."""
        return self.to(dtypes.float64)

    def half(self) -> Module:
        """Cast floating-point parameters and buffers to float16."""
        return self.to(dtypes.float16)

    # ------------------------------------------------------------ state dict
    def state_dict(self, *args: Any, destination: Any = None, prefix: str = "",
                   keep_vars: bool = False) -> OrderedDict:
        """Every parameter and persistent buffer by qualified name (PyTorch's keys)."""
        if args:  # the old positional form state_dict(destination, prefix, keep_vars)
            destination = args[0]
            prefix = args[1] if len(args) > 1 else prefix
            keep_vars = args[2] if len(args) > 2 else keep_vars
        if destination is None:
            destination = OrderedDict()
        for name, param in self._parameters.items():
            if param is not None:
                destination[prefix + name] = param if keep_vars else param.detach()
        for name, buf in self._buffers.items():
            if buf is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = buf if keep_vars else buf.detach()
        extra = self.get_extra_state() if _overrides(self, "get_extra_state") else None
        if extra is not None:
            destination[prefix + "_extra_state"] = extra
        for name, module in self._modules.items():
            if module is not None:
                module.state_dict(destination=destination, prefix=prefix + name + ".",
                                  keep_vars=keep_vars)
        return destination

    def get_extra_state(self) -> Any:
        """Extra (non-tensor) state to save; override together with set_extra_state."""
        raise RuntimeError("Reached a code path in Module.get_extra_state() that should "
                           "never be called.")

    def set_extra_state(self, state: Any) -> None:
        """Restore what get_extra_state returned."""
        raise RuntimeError("Reached a code path in Module.set_extra_state() that should "
                           "never be called.")

    def _state_entries(self, prefix: str, out: dict) -> None:
        """Fill `out` with key -> (module, kind, name) for everything state_dict writes."""
        for name, param in self._parameters.items():
            if param is not None:
                out[prefix + name] = (self, "param", name)
        for name, buf in self._buffers.items():
            if buf is not None and name not in self._non_persistent_buffers_set:
                out[prefix + name] = (self, "buffer", name)
        if _overrides(self, "get_extra_state"):
            out[prefix + "_extra_state"] = (self, "extra", "_extra_state")
        for name, module in self._modules.items():
            if module is not None:
                module._state_entries(prefix + name + ".", out)

    def _optional_state_keys(self, prefix: str, out: set) -> None:
        """Keys a checkpoint may lack without error (e.g. num_batches_tracked)."""
        for module_prefix, module in self.named_modules(prefix=prefix.rstrip(".")):
            dot = "." if module_prefix else ""
            for name in getattr(module, "_optional_state", ()):
                out.add(module_prefix + dot + name)

    def load_state_dict(self, state_dict: Any, strict: bool = True,
                        assign: bool = False) -> Any:
        """Copy arrays (rosenblatt tensors, NumPy arrays, anything array-like) into this model.

        Returns (missing_keys, unexpected_keys); with `strict`, raises listing every
        missing/unexpected key and every shape mismatch with both shapes.
        """
        if not hasattr(state_dict, "keys"):
            raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
        entries: dict = {}
        self._state_entries("", entries)
        optional: set = set()
        self._optional_state_keys("", optional)
        missing = [k for k in entries if k not in state_dict and k not in optional]
        unexpected = [k for k in state_dict if k not in entries]
        errors = []
        for key, (module, kind, name) in entries.items():
            if key not in state_dict:
                continue
            if kind == "extra":
                module.set_extra_state(state_dict[key])
                continue
            target = module._parameters[name] if kind == "param" else module._buffers[name]
            value = _as_array(state_dict[key])
            if tuple(value.shape) != tuple(target.shape):
                errors.append(
                    f"size mismatch for {key}: copying a param with shape "
                    f"{_size_repr(value.shape)} from checkpoint, the shape in current model "
                    f"is {_size_repr(target.shape)}."
                )
                continue
            with no_grad():
                xp = array_module(target._data)
                if device_of_array(value) != device_of_array(target._data):
                    value = to_device(value, target.device)
                if assign:
                    target._data = xp.array(value, dtype=target._data.dtype, copy=True)
                else:
                    xp.copyto(target._data, xp.asarray(value), casting="unsafe")
                target._version_box[0] += 1
        if strict:
            if unexpected:
                errors.insert(0, "Unexpected key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in unexpected) + ". ")
            if missing:
                errors.insert(0, "Missing key(s) in state_dict: "
                              + ", ".join(f'"{k}"' for k in missing) + ". ")
        if errors:
            raise RuntimeError(f"Error(s) in loading state_dict for {self._get_name()}:\n\t"
                               + "\n\t".join(errors))
        return _IncompatibleKeys(missing, unexpected)

    # ------------------------------------------------------------------- repr
    def _get_name(self) -> str:
        return type(self).__name__

    def extra_repr(self) -> str:
        """The layer's settings shown inside its repr (override in subclasses)."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): " + _addindent(repr(module), 2)
                       for name, module in self._modules.items()]
        lines = extra_lines + child_lines
        text = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:
                text += extra_lines[0]
            else:
                text += "\n  " + "\n  ".join(lines) + "\n"
        return text + ")"


def _overrides(module: Module, method: str) -> bool:
    return getattr(type(module), method) is not getattr(Module, method)


def _as_array(value: Any) -> Any:
    """The backend array of a checkpoint value (tensor, NumPy array, torch tensor, list)."""
    if isinstance(value, Tensor):
        return value._data
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor
        return np.asarray(value.detach().cpu().numpy())
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return value
    return np.asarray(value)


def device_of_array(array: Any) -> Any:
    from ..._backend import device_of

    return device_of(array)


def _size_repr(shape: Any) -> str:
    return f"rosenblatt.Size([{', '.join(str(int(n)) for n in shape)}])"
