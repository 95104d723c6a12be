"""The user-facing autograd calls: `backward` and `grad`."""

from __future__ import annotations

from typing import Any, Sequence

from .._backend import array_module
from .engine import run_backward
from .tensor import Tensor


def _seed_gradients(outputs: Sequence[Tensor], grads: Sequence[Any]) -> list[Any]:
    """The starting gradient of each output: given, or 1 for a scalar."""
    seeds = []
    for out, g in zip(outputs, grads):
        if not out.requires_grad:
            raise RuntimeError(
                "element 0 of tensors does not require grad and does not have a grad_fn: "
                "nothing was recorded for backward (did you forget requires_grad=True, or run "
                "the forward pass under no_grad?)"
            )
        if g is None:
            if out._data.size != 1:
                raise RuntimeError(
                    f"grad can be implicitly created only for scalar outputs: backward() on a "
                    f"tensor of shape {list(out.shape)} needs a `gradient` argument of that "
                    "shape (or call .sum() first)"
                )
            data = out._data
            one = array_module(data).asarray(1, dtype=data.dtype)
            seeds.append(one.reshape(data.shape) if data.ndim else one)
            continue
        g = g._data if isinstance(g, Tensor) else array_module(out._data).asarray(g)
        if g.shape != out._data.shape:
            raise RuntimeError(
                f"Mismatch in shape: grad_output[0] has a shape of {list(g.shape)} and "
                f"output[0] has a shape of {list(out.shape)}."
            )
        seeds.append(g.astype(out._data.dtype))  # a copy: the caller keeps its tensor intact
    return seeds


def backward(tensors: Any, grad_tensors: Any = None, retain_graph: bool | None = None,
             create_graph: bool = False, inputs: Any = None) -> None:
    """Accumulate the gradients of `tensors` into the `.grad` of the leaves they depend on."""
    if create_graph:
        raise NotImplementedError(
            "create_graph=True (higher-order gradients) is out of scope in rosenblatt: backward "
            "rules run on plain arrays and are not themselves recorded"
        )
    if inputs is not None:
        raise NotImplementedError("backward(inputs=...) is not supported; use autograd.grad")
    outputs = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    if grad_tensors is None or isinstance(grad_tensors, Tensor):
        grad_tensors = [grad_tensors] * len(outputs) if grad_tensors is None else [grad_tensors]
    run_backward(outputs, _seed_gradients(outputs, grad_tensors), bool(retain_graph))


def grad(outputs: Any, inputs: Any, grad_outputs: Any = None, retain_graph: bool | None = None,
         create_graph: bool = False, allow_unused: bool | None = None,
         materialize_grads: bool = False) -> tuple[Tensor | None, ...]:
    """d(outputs)/d(inputs) returned as a tuple, without touching any `.grad`."""
    if create_graph:
        raise NotImplementedError(
            "create_graph=True (higher-order gradients) is out of scope in rosenblatt"
        )
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    single = isinstance(inputs, Tensor)
    inputs = [inputs] if single else list(inputs)
    for t in inputs:
        if not t.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs] * len(outputs) if grad_outputs is None else [grad_outputs]
    found = run_backward(outputs, _seed_gradients(outputs, grad_outputs), bool(retain_graph),
                         capture=inputs)
    assert found is not None
    result: list[Tensor | None] = []
    for t, g in zip(inputs, found):
        if g is None:
            if materialize_grads:
                g = t.device.xp.zeros(t._data.shape, dtype=t._data.dtype)
            elif not allow_unused:
                raise RuntimeError(
                    "One of the differentiated Tensors appears to not have been used in the "
                    "graph. Set allow_unused=True if this is the desired behavior."
                )
        result.append(None if g is None else Tensor._make(g, False, None))
    return tuple(result)
