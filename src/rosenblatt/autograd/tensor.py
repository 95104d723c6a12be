"""`Tensor`: an n-dimensional array of the backend plus what autograd needs.

A tensor holds its array in `_data`; `requires_grad` marks it for gradient tracking;
`_node` is the graph node (`grad_fn`) of the op that made it, None for leaves.
Math methods are thin calls into `rosenblatt.ops`, where each op's forward and backward
live together.
"""

from __future__ import annotations

import weakref
from typing import Any, Callable, Iterator, Sequence

from .. import dtypes
from .._backend import (
    Device,
    array_module,
    as_array,
    dense,
    device_of,
    np,
    overlaps_itself,
    to_device,
)
from .._backend import device as parse_device
from .grad_mode import state


class HookHandle:
    """Returned by `Tensor.register_hook`: `.remove()` unregisters the hook."""

    def __init__(self, hooks: list, hook: Callable) -> None:
        self.hooks, self.hook = hooks, hook

    def remove(self) -> None:
        """Unregister the hook (no error if already removed)."""
        if self.hook in self.hooks:
            self.hooks.remove(self.hook)

    def __enter__(self) -> HookHandle:
        return self

    def __exit__(self, *args: Any) -> None:
        self.remove()

# Outputs of split/chunk/unbind that are part of a graph, by id (tensors compare
# elementwise, so they are no set members); an entry goes with its tensor.
_MULTI_OUTPUT_VIEWS: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


class Tensor:
    """A multi-dimensional array with reverse-mode automatic differentiation."""

    # _view_of: (base, view Function, its params) on views made while grad mode is on, and
    # _views: weak references to those views on their base; unset otherwise (read with
    # getattr: only in-place ops need them)
    __slots__ = ("_data", "requires_grad", "grad", "_node", "_version_box", "_view_of",
                 "_views", "__weakref__")
    __array_priority__ = 1000
    __array_ufunc__ = None  # NumPy defers `ndarray op Tensor` to our reflected ops

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Legacy constructor: `Tensor(2, 3)` (uninitialised shape) or `Tensor(data)` (float)."""
        if args and all(isinstance(a, int) for a in args):
            array = np.empty(args, dtype=dtypes.get_default_dtype().np)
        elif len(args) == 1:
            array = _to_array(args[0], dtypes.get_default_dtype())
        elif not args:
            array = np.empty((0,), dtype=dtypes.get_default_dtype().np)
        else:
            raise TypeError(f"Tensor() takes sizes or one data argument, got {args!r}")
        self._init(array, kwargs.get("requires_grad", False), None)

    def _init(self, array: Any, requires_grad: bool, node: Any) -> None:
        self._data = as_array(array)
        self.requires_grad = requires_grad
        self.grad = None
        self._node = node
        self._version_box = [0]

    @classmethod
    def _make(cls, array: Any, requires_grad: bool, node: Any) -> Tensor:
        """Wrap an array without copying (the internal constructor)."""
        t = object.__new__(cls)
        # NumPy ops on 0-d arrays return NumPy scalars: immutable, so in-place writes and
        # gradient sums into them would be lost. A tensor always holds an array.
        t._data = array if array.__class__ is np.ndarray else as_array(array)
        t.requires_grad = requires_grad
        t.grad = None
        t._node = node
        t._version_box = [0]
        return t

    # ----------------------------------------------------------------- attributes
    @property
    def shape(self) -> Size:
        """The size of each dimension, as a tuple subclass (`torch.Size`)."""
        return Size(self._data.shape)

    def size(self, dim: int | None = None) -> Any:
        """The shape, or the size of one dimension."""
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_norm_dim(dim, self._data.ndim)]

    def dim(self) -> int:
        """Number of dimensions."""
        return self._data.ndim

    @property
    def ndim(self) -> int:
        """Number of dimensions."""
        return self._data.ndim

    def numel(self) -> int:
        """Number of elements."""
        return int(self._data.size)

    nelement = numel

    @property
    def dtype(self) -> dtypes.dtype:
        """The element type."""
        return dtypes.from_numpy_dtype(self._data.dtype)

    @property
    def device(self) -> Device:
        """Where the data lives (cpu or cuda:N)."""
        return device_of(self._data)

    @property
    def is_cuda(self) -> bool:
        """True when the data is on a CUDA device."""
        return self.device.type == "cuda"

    @property
    def is_cpu(self) -> bool:
        """True when the data is in host memory."""
        return self.device.type == "cpu"

    # devices and layouts that Rosenblatt has not: always False, as PyTorch says of a dense
    # CPU or CUDA tensor
    is_xpu = is_mps = is_meta = is_quantized = is_sparse = is_mkldnn = is_nested = property(
        lambda self: False, doc="Always False: Rosenblatt has no such device or layout.")

    def element_size(self) -> int:
        """Bytes per element."""
        return int(self._data.itemsize)

    @property
    def itemsize(self) -> int:
        """Bytes per element."""
        return int(self._data.itemsize)

    @property
    def nbytes(self) -> int:
        """Bytes of data."""
        return int(self._data.nbytes)

    def is_floating_point(self) -> bool:
        """True for float16/32/64 tensors."""
        return self._data.dtype.kind == "f"

    def stride(self, dim: int | None = None) -> Any:
        """Steps in elements between neighbours along each dimension."""
        strides = tuple(s // self._data.itemsize for s in self._data.strides)
        return strides if dim is None else strides[_norm_dim(dim, self._data.ndim)]

    def is_contiguous(self) -> bool:
        """True when the elements are laid out in row-major order without gaps."""
        return bool(self._data.flags.c_contiguous)

    def data_ptr(self) -> int:
        """Address of the first element."""
        return int(self._data.__array_interface__["data"][0]) if self.device.type == "cpu" \
            else int(self._data.data.ptr)

    @property
    def _version(self) -> int:
        """How many times this tensor's memory was changed in place."""
        return self._version_box[0]

    # ------------------------------------------------------------------ autograd
    @property
    def grad_fn(self) -> Any:
        """The graph node of the op that produced this tensor (None for leaves)."""
        return self._node

    @property
    def is_leaf(self) -> bool:
        """True for tensors made by the user rather than by a recorded op."""
        return self._node is None

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set requires_grad in place (leaves only)."""
        if self._node is not None and not requires_grad:
            raise RuntimeError(
                "you can only change requires_grad flags of leaf variables. If you want to use "
                "a computed variable in a subgraph that doesn't require differentiation use "
                "var_no_grad = var.detach()."
            )
        if requires_grad and self._data.dtype.kind != "f":
            raise RuntimeError(
                f"only Tensors of floating point dtype can require gradients, got {self.dtype}"
            )
        self.requires_grad = requires_grad
        return self

    def retain_grad(self) -> None:
        """Keep `.grad` for this non-leaf tensor after backward."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._node is not None:
            self._node.retained = weakref.ref(self)
            if self._node.hooks is None:
                self._node.hooks = []  # the engine looks for `retained` only where hooks are

    @property
    def retains_grad(self) -> bool:
        """True when retain_grad() was called on this non-leaf tensor."""
        return self._node is not None and self._node.retained is not None

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> HookHandle:
        """Call `hook(grad)` when this tensor's gradient is computed; it may return a new one.

        On a leaf the hook sees the whole gradient of one backward pass, before it is added
        to `.grad`. Returns a handle whose `.remove()` unregisters the hook.
        """
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._node is None:
            hooks = engine.leaf_hooks(self, create=True)
        else:
            node = self._node
            if node.hooks is None:
                node.hooks = []
            hooks = node.hooks
        hooks.append(hook)
        return HookHandle(hooks, hook)

    def backward(
        self, gradient: Tensor | None = None, retain_graph: bool | None = None,
        create_graph: bool = False, inputs: Any = None,
    ) -> None:
        """Accumulate d(self)/d(leaf) into every leaf's `.grad`."""
        data = self._data
        if (gradient is None and self._node is not None and data.size == 1 and not create_graph
                and inputs is None and data.__class__ is np.ndarray):
            # The common `loss.backward()`: straight to the engine, seeded with a 1.
            one = np.array(1, dtype=data.dtype)
            engine.run_backward([self], [one.reshape(data.shape) if data.ndim else one],
                                bool(retain_graph))
            return
        autograd_api.backward(self, gradient, retain_graph, create_graph, inputs)

    def detach(self) -> Tensor:
        """A tensor sharing this data, cut from the graph."""
        t = Tensor._make(self._data, False, None)
        t._version_box = self._version_box
        return t

    def detach_(self) -> Tensor:
        """Cut this tensor from the graph, in place."""
        self._node = None
        self.requires_grad = False
        return self

    @property
    def data(self) -> Tensor:
        """The same memory as a tensor outside the graph."""
        return self.detach()

    @data.setter
    def data(self, value: Tensor) -> None:
        self._data = value._data

    # --------------------------------------------------------------- conversions
    def numpy(self, force: bool = False) -> Any:
        """The data as a NumPy array, sharing memory on the CPU."""
        if self.requires_grad and not force:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. "
                "Use tensor.detach().numpy() instead."
            )
        if self.device.type != "cpu":
            if not force:
                raise TypeError(
                    f"can't convert {self.device} device type tensor to numpy. "
                    "Use Tensor.cpu() to copy the tensor to host memory first."
                )
            return to_device(self._data, parse_device("cpu"))
        return self._data

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        array = to_device(self._data, parse_device("cpu"))
        return array if dtype is None else array.astype(dtype)

    def item(self) -> Any:
        """The value of a one-element tensor as a Python number."""
        if self._data.size != 1:
            raise RuntimeError(
                f"a Tensor with {self._data.size} elements cannot be converted to Scalar"
            )
        return self._data.reshape(()).item()

    def tolist(self) -> Any:
        """The data as (nested) Python lists."""
        return to_device(self._data, parse_device("cpu")).tolist()

    def to(self, *args: Any, **kwargs: Any) -> Tensor:
        """Move and/or cast: `to(dtype)`, `to(device)`, `to(device, dtype)`, `to(other)`."""
        target, dtype = parse_to(args, kwargs)
        copy = kwargs.get("copy", False)
        out = self
        if target is not None and parse_device(target) != self.device:
            out = ops_shape.to_device(out, parse_device(target))
        if dtype is not None and dtype.np != out._data.dtype:
            out = ops_ew.cast(out, dtype)
        if copy and out is self:
            out = self.clone()
        return out

    def type(self, dtype: Any = None) -> Any:
        """Cast to `dtype`; without it, the legacy type name ('torch.FloatTensor' style)."""
        if dtype is None:
            return f"rosenblatt.{dtypes.scalar_type_name(self.dtype)}Tensor"
        return self.to(dtype)

    def type_as(self, other: Tensor) -> Tensor:
        """Cast to `other`'s dtype."""
        return self.to(other.dtype)

    def float(self) -> Tensor:
        """Cast to float32."""
        return self.to(dtypes.float32)

    def double(self) -> Tensor:
        """Cast to float64."""
        return self.to(dtypes.float64)

    def half(self) -> Tensor:
        """Cast to float16."""
        return self.to(dtypes.float16)

    def long(self) -> Tensor:
        """Cast to int64."""
        return self.to(dtypes.int64)

    def int(self) -> Tensor:
        """Cast to int32."""
        return self.to(dtypes.int32)

    def bool(self) -> Tensor:
        """Cast to bool."""
        return self.to(dtypes.bool)

    def byte(self) -> Tensor:
        """Cast to uint8."""
        return self.to(dtypes.uint8)

    def cpu(self) -> Tensor:
        """This tensor on the CPU."""
        return self.to("cpu")

    def cuda(self, device: Any = None) -> Tensor:
        """This tensor on a CUDA device (needs CuPy)."""
        return self.to("cuda" if device is None else
                       (f"cuda:{device}" if isinstance(device, int) else device))

    def clone(self, *, memory_format: Any = None) -> Tensor:
        """A copy with its own memory (the same stride order); gradients flow back."""
        return ops_shape.clone(self, memory_format=memory_format)

    def contiguous(self, memory_format: Any = None) -> Tensor:
        """This tensor if row-major contiguous, else a contiguous copy."""
        if self._data.flags.c_contiguous:
            return self
        return ops_shape.clone(self, memory_format=ops_shape.contiguous_format)

    # ------------------------------------------------------------ python protocol
    def __repr__(self) -> str:
        from .printing import tensor_repr

        return tensor_repr(self)

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self) -> Iterator[Tensor]:
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(self._data.shape[0]))

    def __format__(self, spec: str) -> str:
        """A 0-d tensor formats as its number (f"{loss:.4f}"); others only with spec ''."""
        if self._data.ndim == 0:
            return self.item().__format__(spec)
        return object.__format__(self, spec)

    def __contains__(self, element: Any) -> bool:
        """`value in tensor`: whether any element equals it."""
        if not isinstance(element, (Tensor, int, float, bool)):
            raise RuntimeError("Tensor.__contains__ only supports Tensor or scalar, but you "
                               f"passed in a {type(element)}.")
        return bool((self == element).any())

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with {self._data.size} values is ambiguous"
            )
        return bool(self._data.reshape(()))

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    __hash__ = object.__hash__

    def __deepcopy__(self, memo: dict) -> Tensor:
        """copy.deepcopy of a leaf: its own copy of the data (and of .grad)."""
        if self._node is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) "
                               "support the deepcopy protocol at the moment.")
        out = Tensor._make(self._data.copy(), self.requires_grad, None)
        if self.grad is not None:
            out.grad = Tensor._make(self.grad._data.copy(), False, None)
        memo[id(self)] = out
        return out

    def __reduce_ex__(self, protocol: Any) -> Any:
        raise TypeError(
            "rosenblatt tensors are not pickled (unsafe format); use rosenblatt.save(), which "
            "writes safetensors"
        )

    # -------------------------------------------------------------- arithmetic
    def __add__(self, other: Any) -> Tensor:
        return ops_ew.add(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return ops_ew.add(other, self)

    def __sub__(self, other: Any) -> Tensor:
        return ops_ew.sub(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return ops_ew.sub(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return ops_ew.mul(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return ops_ew.mul(other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return ops_ew.div(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return ops_ew.div(other, self)

    def __floordiv__(self, other: Any) -> Tensor:
        return ops_ew.floor_divide(self, other)

    def __rfloordiv__(self, other: Any) -> Tensor:
        return ops_ew.floor_divide(other, self)

    def __mod__(self, other: Any) -> Tensor:
        return ops_ew.remainder(self, other)

    def __rmod__(self, other: Any) -> Tensor:
        return ops_ew.remainder(other, self)

    def __pow__(self, other: Any) -> Tensor:
        return ops_ew.pow(self, other)

    def __rpow__(self, other: Any) -> Tensor:
        return ops_ew.pow(other, self)

    def __neg__(self) -> Tensor:
        return ops_ew.neg(self)

    def __pos__(self) -> Tensor:
        return self

    def __abs__(self) -> Tensor:
        return ops_ew.abs(self)

    def __matmul__(self, other: Tensor) -> Tensor:
        return ops_linalg.matmul(self, other)

    def __rmatmul__(self, other: Tensor) -> Tensor:
        return ops_linalg.matmul(other, self)

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return ops_ew.eq(self, other)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return ops_ew.ne(self, other)

    def __lt__(self, other: Any) -> Tensor:
        return ops_ew.lt(self, other)

    def __le__(self, other: Any) -> Tensor:
        return ops_ew.le(self, other)

    def __gt__(self, other: Any) -> Tensor:
        return ops_ew.gt(self, other)

    def __ge__(self, other: Any) -> Tensor:
        return ops_ew.ge(self, other)

    def __and__(self, other: Any) -> Tensor:
        return ops_ew.logical_and(self, other) if self.dtype is dtypes.bool \
            else ops_ew.bitwise("and", self, other)

    def __or__(self, other: Any) -> Tensor:
        return ops_ew.logical_or(self, other) if self.dtype is dtypes.bool \
            else ops_ew.bitwise("or", self, other)

    def __xor__(self, other: Any) -> Tensor:
        return ops_ew.logical_xor(self, other) if self.dtype is dtypes.bool \
            else ops_ew.bitwise("xor", self, other)

    def __invert__(self) -> Tensor:
        return ops_ew.logical_not(self) if self.dtype is dtypes.bool \
            else ops_ew.bitwise("invert", self, None)

    def __iadd__(self, other: Any) -> Tensor:
        return self.add_(other)

    def __isub__(self, other: Any) -> Tensor:
        return self.sub_(other)

    def __imul__(self, other: Any) -> Tensor:
        return self.mul_(other)

    def __itruediv__(self, other: Any) -> Tensor:
        return self.div_(other)

    def __getitem__(self, key: Any) -> Tensor:
        return ops_index.getitem(self, key)

    def __setitem__(self, key: Any, value: Any) -> None:
        ops_index.setitem(self, key, value)

    # ------------------------------------------------------------ in-place ops
    def _inplace(self, compute: Callable[[], Tensor], whole: bool = True) -> Tensor:
        """Run an out-of-place op and write its result into this tensor's memory.

        The version counter is bumped, so a backward that saved the old values fails loudly.
        With autograd on, the op reads a snapshot of the old values (what its own backward
        may need), the tensor takes the new graph node, and views of it taken earlier take
        new nodes too (`_refresh_views`), as in PyTorch; an in-place op on a view passes the
        change on to its base (`_inplace_on_view`). `whole`: the op writes every element (so
        an expanded tensor is refused); False where the caller checks the part it writes.
        """
        if whole:
            self._refuse_self_overlap()
        if not state.enabled:
            return self._write(compute())
        view_of = getattr(self, "_view_of", None)
        if self.requires_grad and self._node is None:
            raise RuntimeError(
                f"a {'view of a ' if view_of or self._data.base is not None else ''}leaf "
                "Variable that requires grad is being used in an in-place operation.")
        if self.requires_grad and _MULTI_OUTPUT_VIEWS.get(id(self)) is self:
            raise RuntimeError(
                "Output of a split is a view and is being modified inplace. This view is the "
                "output of a function that returns multiple views (split, chunk, unbind). "
                "Such functions do not allow the output views to be modified inplace. You "
                "should replace the inplace operation by an out-of-place one.")
        if view_of is not None:
            return self._inplace_on_view(view_of, compute)
        out = self._on_snapshot(compute)
        self._write(out)
        old = self._node
        if out.requires_grad:
            if out._data.dtype != self._data.dtype:
                out = ops_ew.cast(out, self.dtype)
            elif out._node.versions:
                self._track_output(out._node)
            self._node, self.requires_grad = out._node, True
            if old is not None and old.retained is not None:
                self._move_retained(old)
            self._refresh_views()
        return self

    @staticmethod
    def _multi_output_views(pieces: Sequence[Tensor]) -> tuple[Tensor, ...]:
        """Mark the views a split/chunk/unbind returned: PyTorch refuses in-place ops on
        them while they are part of a graph."""
        for piece in pieces:
            if piece.requires_grad:
                _MULTI_OUTPUT_VIEWS[id(piece)] = piece
        return function.tie_outputs(*pieces)

    def _move_retained(self, old: Any) -> None:
        """After an in-place op, retain_grad() keeps the gradient of the new values."""
        if old.retained() is self:
            old.retained = None
            self.retain_grad()

    def _on_snapshot(self, compute: Callable[[], Tensor]) -> Tensor:
        """compute() reading a copy of this tensor's values: what the op saves for its
        backward must outlive the write into this memory that follows."""
        memory, box = self._data, self._version_box
        snapshot = [box[0]]
        self._data, self._version_box = memory.copy(), snapshot
        first = function.next_sequence()
        try:
            out = compute()
        finally:
            self._data, self._version_box = memory, box
        if out._node is not None:
            function.rebind_versions(out._node, first, snapshot, box)
        return out

    def _refresh_views(self) -> None:
        """Give the live views of this tensor (and theirs) new nodes from its new graph."""
        refs = getattr(self, "_views", None)
        if not refs:
            return
        self._views, live = [], []  # (view.apply registers each fresh view: dropped below)
        for ref in refs:
            v = ref()
            if v is None:
                continue
            _, view, params = v._view_of
            fresh = view.apply(self, **params)
            old = v._node
            v._node, v.requires_grad = fresh._node, fresh.requires_grad
            if old is not None and old.retained is not None:
                v._move_retained(old)
            v._refresh_views()
            live.append(ref)
        self._views = live

    def _inplace_on_view(self, view_of: tuple, compute: Callable[[], Tensor]) -> Tensor:
        """An in-place op on a view while recording: the base takes the new values through a
        CopySlices node (recursively, for a view of a view), which also gives this view (and
        its siblings) new nodes from the base's new graph."""
        base, view, params = view_of
        if base.requires_grad and base._node is None:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in "
                               "an in-place operation.")
        out = self._on_snapshot(compute)
        if not (out.requires_grad or base.requires_grad):
            return self._write(out)  # nothing to record: the base shares this memory
        self._check_result(out)
        made = out._node
        if out._data.dtype != self._data.dtype:
            out = ops_ew.cast(out, self.dtype)
        base._inplace(lambda: ops_index.CopySlices.apply(base, out, view=view, params=params),
                      whole=False)
        if made is not None and made.versions and out._node is made:
            self._track_output(made)
        return self

    def _track_output(self, node: Any) -> None:
        """The op's output now lives in this tensor: if the op saved it, a later in-place
        change here must fail its backward, as in PyTorch."""
        box = self._version_box
        node.versions = (box, box[0]) + node.versions[2:]

    def _write(self, out: Tensor) -> Tensor:
        """Copy out's values into this tensor's memory (casting like PyTorch's in-place ops)."""
        self._check_result(out)
        data, new = self._data, out._data
        xp = array_module(data)
        if overlaps_itself(data):
            write_changed(data, new)
        elif data.flags.writeable or not xp.array_equal(data, new, True):
            # (writing the values a read-only array already holds into it, as
            # x.detach()[...] = x does, changes nothing: PyTorch skips such a copy too)
            xp.copyto(data, new, casting="unsafe")
        self._version_box[0] += 1
        return self

    def _refuse_self_overlap(self) -> None:
        """Refuse to write every element of an expanded tensor (see refuse_self_overlap)."""
        refuse_self_overlap(self._data)

    def _check_result(self, out: Tensor) -> None:
        """An in-place op's result must fit this tensor: same shape, a castable dtype."""
        xp = array_module(self._data)
        if out._data.dtype != self._data.dtype and not xp.can_cast(
            out._data.dtype, self._data.dtype, "same_kind"
        ):
            raise RuntimeError(
                f"result type {out.dtype.name} can't be cast to the desired output type "
                f"{self.dtype.name}"
            )
        if out._data.shape != self._data.shape:
            raise RuntimeError(
                f"output with shape {list(self._data.shape)} doesn't match the broadcast shape "
                f"{list(out._data.shape)}"
            )

    def _refuse_partial_overlap(self, others: Any) -> None:
        """An in-place op reading a tensor that overlaps this one's memory in part (x[1:]
        into x[:-1]) has no defined result: PyTorch refuses it, and so does this, where
        PyTorch can tell: both dense, their spans of memory overlapping, not the same span
        with the same strides."""
        data = self._data
        for other in others:
            if not isinstance(other, Tensor) or other is self:
                continue
            theirs = other._data
            if theirs is data or data.__class__ is not np.ndarray:
                continue
            if np.may_share_memory(theirs, data) and not same_place(theirs, data) and (
                    dense(theirs) and dense(data) and (
                        _span(theirs) != _span(data) or theirs.strides != data.strides)):
                raise RuntimeError(
                    "unsupported operation: some elements of the input tensor and the "
                    "written-to tensor refer to a single memory location. Please clone() the "
                    "tensor before performing the operation.")

    def _ufunc_(self, name: str, other: Any, alpha: Any = 1) -> Tensor | None:
        """Apply a NumPy/CuPy ufunc straight into this tensor's memory when nothing is
        recorded (optimizer updates, init); None when autograd has to see the op."""
        self._refuse_self_overlap()
        if isinstance(other, Tensor):
            self._refuse_partial_overlap((other,))
        if state.enabled and (self.requires_grad or getattr(other, "requires_grad", False)):
            return None
        data = self._data
        value = other._data if isinstance(other, Tensor) else other
        if alpha != 1:
            value = value * alpha
        xp = np if data.__class__ is np.ndarray else array_module(data)
        try:
            getattr(xp, name)(data, value, out=data, casting="same_kind")
        except TypeError as error:  # NumPy's UFuncTypeError: e.g. a float result, int tensor
            raise RuntimeError(
                f"{name}_: result type can't be cast to the desired output type "
                f"{self.dtype.name} ({error})"
            ) from None
        except ValueError:
            raise RuntimeError(
                f"{name}_: output with shape {list(data.shape)} doesn't match the broadcast "
                f"shape of the operands (other: {list(getattr(value, 'shape', ()))})"
            ) from None
        self._version_box[0] += 1
        return self

    def add_(self, other: Any, alpha: Any = 1) -> Tensor:
        """self += alpha * other."""
        if self._ufunc_("add", other, alpha) is None:
            self._inplace(lambda: ops_ew.add(self, other, alpha=alpha))
        return self

    def sub_(self, other: Any, alpha: Any = 1) -> Tensor:
        """self -= alpha * other."""
        if self._ufunc_("subtract", other, alpha) is None:
            self._inplace(lambda: ops_ew.sub(self, other, alpha=alpha))
        return self

    def mul_(self, other: Any) -> Tensor:
        """self *= other."""
        if self._ufunc_("multiply", other) is None:
            self._inplace(lambda: ops_ew.mul(self, other))
        return self

    def div_(self, other: Any) -> Tensor:
        """self /= other."""
        if self._ufunc_("true_divide", other) is None:
            self._inplace(lambda: ops_ew.div(self, other))
        return self

    def pow_(self, exponent: Any) -> Tensor:
        """self **= exponent."""
        return self._inplace(lambda: ops_ew.pow(self, exponent))

    def clamp_(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
        """Clamp into [min, max] in place."""
        return self._inplace(lambda: ops_ew.clamp(self, min, max))

    clip_ = clamp_

    def neg_(self) -> Tensor:
        """Negate in place."""
        return self._inplace(lambda: ops_ew.neg(self))

    def sqrt_(self) -> Tensor:
        """Square root in place."""
        return self._inplace(lambda: ops_ew.sqrt(self))

    def exp_(self) -> Tensor:
        """Exponential in place."""
        return self._inplace(lambda: ops_ew.exp(self))

    def relu_(self) -> Tensor:
        """ReLU in place."""
        return self._inplace(lambda: ops_ew.relu(self))

    def masked_fill_(self, mask: Tensor, value: Any) -> Tensor:
        """Fill where mask is True, in place."""
        # (into an expanded tensor too: PyTorch deprecates it, and writes what changed)
        return self._inplace(lambda: ops_index.masked_fill(self, mask, value), whole=False)

    def copy_(self, src: Any) -> Tensor:
        """Copy `src` (broadcast to this shape) into this tensor."""
        self._refuse_partial_overlap((src,))
        # (an expanded tensor may copy itself: PyTorch skips a copy from the same place)
        same = isinstance(src, Tensor) and same_place(src._data, self._data)
        return self._inplace(lambda: ops_shape.overwrite(self, src), whole=not same)

    def zero_(self) -> Tensor:
        """Fill with zeros."""
        return self.fill_(0)

    def fill_(self, value: Any) -> Tensor:
        """Fill with one value."""
        if isinstance(value, Tensor):
            if value.ndim:
                raise RuntimeError("fill_ only supports 0-dimension value tensor but got "
                                   f"tensor with {value.ndim} dimensions.")
            self._refuse_self_overlap()  # (a number may fill an expanded tensor, a tensor not)
        if state.enabled and (self.requires_grad or getattr(value, "requires_grad", False)):
            return self._inplace(lambda: ops_shape.overwrite(self, value), whole=False)
        self._data.fill(value.item() if isinstance(value, Tensor) else value)
        self._version_box[0] += 1
        return self

    def _fill_random(self, sample: Callable[[Any], Any]) -> Tensor:
        """Overwrite with samples drawn by `sample(generator)` (leaves under no_grad)."""
        if state.enabled and self.requires_grad and self._node is None:
            raise RuntimeError(
                "a leaf Variable that requires grad is being used in an in-place operation."
            )
        self._refuse_self_overlap()
        values = sample(self._data.shape)
        xp = array_module(self._data)
        xp.copyto(self._data, xp.asarray(values), casting="unsafe")
        self._version_box[0] += 1
        return self

    def normal_(self, mean: float = 0.0, std: float = 1.0, *, generator: Any = None) -> Tensor:
        """Fill with samples of N(mean, std^2)."""
        from .. import random

        return self._fill_random(lambda s: random.gen(generator).normal(mean, std, s))

    def uniform_(self, a: float = 0.0, b: float = 1.0, *, generator: Any = None) -> Tensor:
        """Fill with samples of U(a, b)."""
        from .. import random

        return self._fill_random(lambda s: random.gen(generator).uniform(a, b, s))

    def bernoulli_(self, p: float = 0.5, *, generator: Any = None) -> Tensor:
        """Fill with 0/1 samples, 1 with probability p."""
        from .. import random

        return self._fill_random(lambda s: random.gen(generator).random(s) < p)

    def random_(self, low: int = 0, high: int | None = None, *, generator: Any = None) -> Tensor:
        """Fill with integers drawn uniformly from [low, high)."""
        from .. import random

        if high is None:
            low, high = 0, low
        return self._fill_random(lambda s: random.gen(generator).integers(low, high, s))

    def exponential_(self, lambd: float = 1.0, *, generator: Any = None) -> Tensor:
        """Fill with samples of an exponential distribution of rate lambd."""
        from .. import random

        return self._fill_random(lambda s: random.gen(generator).exponential(1.0 / lambd, s))

    # ----------------------------------------------------------- new_* helpers
    def new_zeros(self, *size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        """Zeros of `size` with this tensor's dtype and device."""
        return ops_creation.full(_sizes(size), 0, dtype=dtype or self.dtype,
                                 device=self.device, requires_grad=requires_grad)

    def new_ones(self, *size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        """Ones of `size` with this tensor's dtype and device."""
        return ops_creation.full(_sizes(size), 1, dtype=dtype or self.dtype,
                                 device=self.device, requires_grad=requires_grad)

    def new_full(self, size: Any, fill_value: Any, dtype: Any = None,
                 requires_grad: bool = False) -> Tensor:
        """`fill_value` everywhere, with this tensor's dtype and device."""
        return ops_creation.full(size, fill_value, dtype=dtype or self.dtype,
                                 device=self.device, requires_grad=requires_grad)

    def new_empty(self, *size: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        """Uninitialised memory of `size` with this tensor's dtype and device."""
        return self.new_zeros(*size, dtype=dtype, requires_grad=requires_grad)

    def new_tensor(self, data: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        """A copy of `data` with this tensor's dtype and device."""
        return ops_creation.tensor(data, dtype=dtype or self.dtype, device=self.device,
                                   requires_grad=requires_grad)


class Size(tuple):
    """The shape of a tensor: a tuple of ints (`torch.Size`)."""

    def __repr__(self) -> str:
        return f"rosenblatt.Size([{', '.join(map(str, self))}])"

    def numel(self) -> int:
        """Product of the sizes."""
        n = 1
        for s in self:
            n *= s
        return n


def refuse_self_overlap(array: Any) -> None:
    """PyTorch's in-place ops refuse to write into memory that several elements share (an
    expanded tensor's), as the result would depend on the order of the writes."""
    if overlaps_itself(array):
        raise self_overlap_error()


def self_overlap_error() -> RuntimeError:
    """PyTorch's error for a write into memory that several elements share."""
    return RuntimeError(
        "unsupported operation: more than one element of the written-to tensor refers to a "
        "single memory location. Please clone() the tensor before performing the operation.")


def write_changed(data: Any, new: Any) -> None:
    """Copy `new` into `data`, whose elements share memory places (an expanded tensor written
    through a view, or by masked_fill_): only the elements that change, or an unchanged alias
    written later would put the old value back."""
    xp = array_module(data)
    same = data == new
    if data.dtype.kind == "f":
        same &= xp.signbit(data) == xp.signbit(new)
        same |= xp.isnan(data) & xp.isnan(new)
    xp.copyto(data, new, casting="unsafe", where=~same)


def parse_to(args: tuple, kwargs: dict) -> tuple[Any, Any]:
    """(device or None, dtype or None) from the arguments of `Tensor.to` / `Module.to`:
    `to(dtype)`, `to(device)`, `to(device, dtype)`, `to(other_tensor)`, or keywords."""
    dtype = kwargs.get("dtype")
    device = kwargs.get("device")
    for a in args:
        if isinstance(a, dtypes.dtype):
            dtype = a
        elif isinstance(a, (str, Device)):
            device = a
        elif isinstance(a, Tensor):
            dtype, device = a.dtype, a.device
    return device, dtype


def _span(a: Any) -> tuple:
    """The bytes a dense array's elements occupy, as (first, end)."""
    return np.lib.array_utils.byte_bounds(a)


def same_place(a: Any, b: Any) -> bool:
    """Whether two arrays are the same elements of the same memory (views alike in all; a
    size-1 dim's stride, which NumPy's broadcast_to sets to 0, does not count)."""
    return a is b or (a.shape == b.shape and a.dtype == b.dtype and all(
        sa == sb or n == 1 for sa, sb, n in zip(a.strides, b.strides, a.shape))
        and a.__array_interface__["data"][0] == b.__array_interface__["data"][0])


def _norm_dim(dim: int, ndim: int) -> int:
    """A dimension index in [0, ndim), with PyTorch's error for one out of range."""
    lo, hi = (-ndim, ndim - 1) if ndim else (-1, 0)
    if not lo <= dim <= hi:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{lo}, {hi}], but got {dim})"
        )
    return dim % ndim if ndim else 0


def _sizes(size: tuple) -> tuple:
    """Accept `f(2, 3)` and `f((2, 3))` alike."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        return tuple(size[0])
    return tuple(size)


def _to_array(data: Any, dtype: dtypes.dtype | None) -> Any:
    """Build a NumPy array from nested lists, scalars, arrays or tensors."""
    if isinstance(data, Tensor):
        array = data._data
    elif isinstance(data, (list, tuple)) and any(isinstance(d, Tensor) for d in data):
        array = np.array([_to_array(d, None) for d in data])
    else:
        array = data
    xp = array_module(array)
    if dtype is None and not hasattr(array, "dtype"):
        array = np.asarray(array)
        if array.dtype.kind == "f":
            array = array.astype(dtypes.get_default_dtype().np)
        elif array.dtype.kind in "iu":
            array = array.astype(np.int64)
        elif array.dtype.kind not in "b":
            raise TypeError(f"can't make a tensor from {type(data).__name__} of {array.dtype}")
    return xp.array(array, dtype=None if dtype is None else dtype.np, copy=True)


from ..ops import creation as ops_creation  # noqa: E402
from ..ops import elementwise as ops_ew  # noqa: E402
from ..ops import index as ops_index  # noqa: E402
from ..ops import linalg as ops_linalg  # noqa: E402
from ..ops import shape as ops_shape  # noqa: E402
from . import autograd_api, engine, function, methods  # noqa: E402,F401  (methods binds the ops)
