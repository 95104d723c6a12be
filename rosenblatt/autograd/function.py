"""`Function`: one differentiable primitive, its forward and backward rule side by side.

A subclass writes `forward(ctx, *arrays, **params) -> array` and
`backward(ctx, grad) -> grad or tuple of grads` on raw arrays of the backend (`ctx.xp`).
`apply` runs forward on the tensors' arrays and, when a graph is being recorded, turns
the instance into a graph node: `ctx.next_nodes` links to the nodes (or leaf tensors)
that produced each input, and `ctx.saved_tensors` keeps what backward needs.
"""

from __future__ import annotations

import traceback
from typing import Any

from .._backend import array_module, as_array, ndarray
from .grad_mode import state


class Function:
    """Base class of differentiable ops; an instance is the `ctx` and the graph node."""

    __slots__ = (
        "next_nodes",
        "needs_input_grad",
        "saved_tensors",
        "xp",
        "versions",
        "retained",
        "freed",
        "hooks",
        "__dict__",
    )

    differentiable = True  # False for ops whose output carries no gradient (argmax, ==)

    @staticmethod
    def forward(ctx: Any, *arrays: Any, **params: Any) -> Any:
        """Compute the output array from the input arrays."""
        raise NotImplementedError

    @staticmethod
    def backward(ctx: Any, grad: Any) -> Any:
        """Return the gradient for each tensor input (None where not needed)."""
        raise NotImplementedError

    def save_for_backward(self, *arrays: Any) -> None:
        """Keep arrays for backward; in-place changes to them are detected."""
        self.saved_tensors = arrays

    @property
    def name(self) -> str:
        """The op's name, as shown in errors and graph reprs (e.g. 'MulBackward')."""
        return type(self).__name__ + "Backward"

    def __repr__(self) -> str:
        return f"<{self.name}>"

    @classmethod
    def apply(cls, *inputs: Tensor | None, **params: Any) -> Tensor:
        """Run the op on tensors; record a graph node when any input requires grad."""
        ctx = cls.__new__(cls)
        arrays = [None if t is None else t._data for t in inputs]
        ctx.xp = array_module(arrays[0])
        ctx.saved_tensors = ()
        out = cls.forward(ctx, *arrays, **params)
        if out.__class__ is not ndarray:
            out = as_array(out)
        recording = cls.differentiable and state.enabled and any(
            t is not None and t.requires_grad for t in inputs
        )
        result = Tensor._make(out, recording, ctx if recording else None)
        if recording:
            ctx.needs_input_grad = tuple(t is not None and t.requires_grad for t in inputs)
            ctx.next_nodes = tuple(
                (t._node or t) if t is not None and t.requires_grad else None for t in inputs
            )
            ctx.retained = None
            ctx.freed = False
            ctx.hooks = None
            ctx.versions = _saved_versions(ctx.saved_tensors, inputs, result)
            if state.anomaly:
                ctx.creation = _creation_record(cls, inputs)
        if state.anomaly:
            _check_finite(out, cls.__name__, inputs, "forward")
        return result

    def check_versions(self) -> None:
        """Raise if a tensor saved for backward was modified in place since forward."""
        if self.freed:
            raise RuntimeError(
                f"Trying to backward through the graph a second time (or to use saved "
                f"tensors after they were freed) in {self.name}. Saved intermediate values "
                "are freed after .backward(); pass retain_graph=True to backward the "
                "first time if you need to backward twice."
            )
        for box, version, shape in self.versions:
            if box[0] != version:
                raise RuntimeError(
                    f"one of the variables needed for gradient computation has been modified "
                    f"by an inplace operation: a tensor of shape {list(shape)} saved by "
                    f"{self.name} is at version {box[0]}; expected version {version} instead."
                )

    def release(self) -> None:
        """Drop everything saved for backward (the node stays, marked as freed)."""
        self.saved_tensors = ()
        self.versions = ()
        self.__dict__.clear()
        self.freed = True


def _saved_versions(saved: tuple, inputs: tuple, output: Tensor) -> tuple:
    """Version snapshots of the input/output tensors whose arrays backward will read."""
    if not saved:
        return ()
    checks = []
    for array in saved:
        if array is output._data:
            checks.append((output._version_box, output._version_box[0], array.shape))
            continue
        for t in inputs:
            if t is not None and t._data is array:
                checks.append((t._version_box, t._version_box[0], array.shape))
                break
    return tuple(checks)


def _describe_inputs(inputs: tuple) -> str:
    """'(32x784 float32, 784 float32)' for error messages."""
    parts = [
        "None" if t is None else f"{'x'.join(map(str, t.shape)) or 'scalar'} {t.dtype.name}"
        for t in inputs
    ]
    return "(" + ", ".join(parts) + ")"


def _creation_record(cls: type, inputs: tuple) -> str:
    """Where and on what a node was made, for anomaly reports."""
    stack = "".join(traceback.format_stack(limit=8)[:-2])
    return f"{cls.__name__} on inputs {_describe_inputs(inputs)}, created at:\n{stack}"


def _check_finite(array: Any, op: str, inputs: tuple, phase: str) -> None:
    """Anomaly mode: raise at the first NaN/inf produced by an op."""
    if array is None or array.dtype.kind != "f":
        return
    xp = array_module(array)
    if not bool(xp.isfinite(array).all()):
        bad = "nan" if bool(xp.isnan(array).any()) else "inf"
        raise RuntimeError(
            f"anomaly detected: {op} produced {bad} in {phase} from inputs "
            f"{_describe_inputs(inputs)}"
        )


def check_backward_finite(node: Function, grads: tuple) -> None:
    """Anomaly mode: raise when a backward rule produced NaN/inf, naming its forward op."""
    xp = node.xp
    for g in grads:
        if g is not None and g.dtype.kind == "f" and not bool(xp.isfinite(g).all()):
            bad = "nan" if bool(xp.isnan(g).any()) else "inf"
            made = getattr(node, "creation", f"{type(node).__name__} (no creation record)")
            raise RuntimeError(
                f"anomaly detected: function {node.name} returned {bad} values in its "
                f"gradient. The forward op was {made}"
            )


# Imported last: tensor.py loads the ops, which subclass Function (defined above by now).
from .tensor import Tensor  # noqa: E402
