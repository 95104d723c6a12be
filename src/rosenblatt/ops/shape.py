"""Shape ops: views (reshape, permute, expand), joins and splits, repeat, flip, copies."""

from __future__ import annotations

from typing import Any, Sequence

from .._backend import Device, array_module, as_array, broadcast_view, np
from .._backend import to_device as array_to_device
from ..autograd.function import Function
from ..autograd.tensor import Tensor
from ._util import iterator_layout, normalize_dim, scalar_as_vector, unbroadcast


def row_major(a: Any) -> Any:
    """a, or a row-major copy of it: NumPy lays results out like their inputs (transposed,
    expanded), PyTorch's are contiguous (view() on them works). A NumPy scalar (what a 0-d
    computation gives) becomes a 0-d array, so a view of it stays tied to its memory."""
    if a.__class__ is not np.ndarray:
        a = as_array(a)
    return a if a.flags.c_contiguous else a.copy()


class Reshape(Function):
    view = True

    @staticmethod
    def forward(ctx, x, shape, copy):
        ctx.shape = x.shape
        if copy:
            return x.reshape(shape)
        try:
            return ctx.xp.reshape(x, shape, copy=False)
        except ValueError:
            raise RuntimeError(
                f"view size is not compatible with input tensor's size and stride: cannot view "
                f"a non-contiguous tensor of shape {list(x.shape)} as {list(shape)}. "
                "Use .reshape(...) instead."
            ) from None

    @staticmethod
    def backward(ctx, grad):
        return grad.reshape(ctx.shape)


class Permute(Function):
    view = True

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return x.transpose(dims)

    @staticmethod
    def backward(ctx, grad):
        inverse = [0] * len(ctx.dims)
        for i, d in enumerate(ctx.dims):
            inverse[d] = i
        return grad.transpose(inverse)


class Expand(Function):
    view = True

    @staticmethod
    def forward(ctx, x, shape):
        ctx.shape = x.shape
        if shape == x.shape:  # nothing repeats: the view stays writable
            return x.view()
        return broadcast_view(x, shape)

    @staticmethod
    def backward(ctx, grad):
        return unbroadcast(grad, ctx.shape)


class memory_format:  # noqa: N801 - PyTorch's name
    """How a copy lays out its elements: `contiguous_format` (row-major) or
    `preserve_format` (the source's order of strides, as clone() does by default)."""

    def __init__(self, name: str, order: str) -> None:
        self.name, self.order = name, order

    def __repr__(self) -> str:
        return f"torch.{self.name}"


contiguous_format = memory_format("contiguous_format", "C")
preserve_format = memory_format("preserve_format", "K")
channels_last = memory_format("channels_last", "C")  # accepted; copies stay row-major


class Copy(Function):
    """A copy (clone/contiguous) in NumPy's `order` ("C" row-major, "K" the source's stride
    order); the gradient passes through."""

    @staticmethod
    def forward(ctx, x, order="C"):
        out = ctx.xp.array(x, copy=True, order=order)
        # "K" keeps a dense layout; an expanded or gappy source gets PyTorch's order for it
        return out if order == "C" else iterator_layout(out, x)

    @staticmethod
    def backward(ctx, grad):
        return grad


class Overwrite(Function):
    """`new` written over `old` (copy_, fill_): the gradient goes to `new`, and zero to the
    values `old` had, as in PyTorch."""

    @staticmethod
    def forward(ctx, old, new):
        return new.copy()

    @staticmethod
    def backward(ctx, grad):
        need_old, need_new = ctx.needs_input_grad
        return (ctx.xp.zeros_like(grad) if need_old else None), (grad if need_new else None)


def overwrite(x: Tensor, value: Any) -> Tensor:
    """`value` (a tensor or number, broadcast to x's shape, in x's dtype) replacing x's
    values, with the gradient flowing to value only."""
    from .elementwise import cast, constant

    value = value if isinstance(value, Tensor) else constant(value, x)
    return Overwrite.apply(x, cast(expand(value, tuple(x.shape)), x.dtype))


class ToDevice(Function):
    @staticmethod
    def forward(ctx, x, target):
        ctx.source = Device("cpu") if ctx.xp.__name__ == "numpy" else Device("cuda", x.device.id)
        return array_to_device(x, target)

    @staticmethod
    def backward(ctx, grad):
        return array_to_device(grad, ctx.source)


class Cat(Function):
    @staticmethod
    def forward(ctx, *arrays, axis):
        ctx.axis = axis
        ctx.sizes = [a.shape[axis] for a in arrays]
        return row_major(ctx.xp.concatenate(arrays, axis=axis))

    @staticmethod
    def backward(ctx, grad):
        grads, start = [], 0
        index = [slice(None)] * grad.ndim
        for size, needed in zip(ctx.sizes, ctx.needs_input_grad):
            index[ctx.axis] = slice(start, start + size)
            grads.append(grad[tuple(index)] if needed else None)
            start += size
        return tuple(grads)


class Repeat(Function):
    @staticmethod
    def forward(ctx, x, repeats):
        ctx.input_shape = x.shape
        ctx.shape = (1,) * (len(repeats) - x.ndim) + x.shape  # padded to len(repeats)
        ctx.repeats = repeats
        return row_major(ctx.xp.tile(x, repeats))

    @staticmethod
    def backward(ctx, grad):
        # view the output as (r0, s0, r1, s1, ...) and sum over the repeat axes
        split = []
        for r, s in zip(ctx.repeats, ctx.shape):
            split += [r, s]
        summed = grad.reshape(split).sum(axis=tuple(range(0, len(split), 2)))
        return summed.reshape(ctx.input_shape)


class Flip(Function):
    @staticmethod
    def forward(ctx, x, axes):
        ctx.axes = axes
        # NumPy's is a view; PyTorch's a new tensor, laid out as x is
        return iterator_layout(ctx.xp.flip(x, axes).copy(), x)

    @staticmethod
    def backward(ctx, grad):
        return ctx.xp.flip(grad, ctx.axes).copy()  # its own memory, as PyTorch's


class QuarterTurn(Function):
    """rot90 by 1 or 3 quarter turns: `flipped` reversed, then the two dims swapped."""

    @staticmethod
    def forward(ctx, x, flipped, dims):
        ctx.flipped, ctx.dims = flipped, dims
        return iterator_layout(ctx.xp.flip(x, flipped).copy(), x).swapaxes(*dims)

    @staticmethod
    def backward(ctx, grad):
        return ctx.xp.flip(grad.swapaxes(*ctx.dims), ctx.flipped).copy()


# ------------------------------------------------------------------- functions
def _shape_arg(shape: Sequence[Any]) -> tuple:
    """Accept `f(2, 3)`, `f((2, 3))` and `f(Size)`; ints only."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return tuple(int(s) for s in shape)


def _infer_shape(numel: int, shape: tuple, op: str, source: tuple) -> tuple:
    """Resolve one -1 and check the element count, with PyTorch's message."""
    known = 1
    for s in shape:
        if s != -1:
            known *= s
    if shape.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    if -1 in shape:
        if known == 0 or numel % known:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = tuple(numel // known if s == -1 else s for s in shape)
    elif known != numel:
        raise RuntimeError(
            f"{op}: shape '{list(shape)}' is invalid for input of size {numel} "
            f"(input shape {list(source)})"
        )
    return shape


def reshape(x: Tensor, *shape: Any) -> Tensor:
    """The same elements in a new shape (a view when possible); one size may be -1."""
    shape = _infer_shape(x._data.size, _shape_arg(shape), "reshape", x._data.shape)
    return Reshape.apply(x, shape=shape, copy=True)  # a new tensor even if shape is the same


def view(x: Tensor, *shape: Any) -> Tensor:
    """A view with a new shape; fails if the memory layout does not allow one."""
    if len(shape) == 1 and not isinstance(shape[0], (int, tuple, list)):
        from .elementwise import cast

        return cast(x, shape[0])  # view(dtype): a reinterpretation is not supported; cast
    shape = _infer_shape(x._data.size, _shape_arg(shape), "view", x._data.shape)
    return Reshape.apply(x, shape=shape, copy=False)


def view_as(x: Tensor, other: Tensor) -> Tensor:
    """View with `other`'s shape."""
    return view(x, tuple(other.shape))


def reshape_as(x: Tensor, other: Tensor) -> Tensor:
    """Reshape to `other`'s shape."""
    return reshape(x, tuple(other.shape))


def permute(x: Tensor, *dims: Any) -> Tensor:
    """Reorder the dimensions (a view)."""
    dims = _shape_arg(dims)
    if len(dims) != x.ndim:
        raise RuntimeError(
            f"permute(sparse_coo): number of dimensions in the tensor input does not match the "
            f"length of the desired ordering of dimensions i.e. input.dim() = {x.ndim} is not "
            f"equal to len(dims) = {len(dims)}"
        )
    dims = tuple(normalize_dim(d, x.ndim) for d in dims)
    if len(set(dims)) != len(dims):
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    return Permute.apply(x, dims=dims)


def transpose(x: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dimensions (a view)."""
    n = x.ndim or 1  # a 0-d tensor takes dims 0 and -1, as in PyTorch
    d0, d1 = normalize_dim(dim0, n), normalize_dim(dim1, n)
    if x.ndim == 0:
        return Permute.apply(x, dims=())
    dims = list(range(x.ndim))
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return Permute.apply(x, dims=tuple(dims))


swapaxes = swapdims = transpose


def t(x: Tensor) -> Tensor:
    """Transpose of a matrix (vectors unchanged)."""
    if x.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {x.ndim}D")
    return Permute.apply(x, dims=tuple(reversed(range(x.ndim))))


def T(x: Tensor) -> Tensor:  # noqa: N802 - PyTorch's name
    """All dimensions reversed."""
    return Permute.apply(x, dims=tuple(reversed(range(x.ndim))))


def mT(x: Tensor) -> Tensor:  # noqa: N802 - PyTorch's name
    """The last two dimensions swapped."""
    return transpose(x, -2, -1)


def expand(x: Tensor, *sizes: Any) -> Tensor:
    """Broadcast size-1 dimensions to larger sizes (a view); -1 keeps a size."""
    sizes = _shape_arg(sizes)
    if len(sizes) < x.ndim:
        raise RuntimeError(
            f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal to "
            f"the number of dimensions in the tensor ({x.ndim})"
        )
    lead = len(sizes) - x.ndim
    shape = tuple(
        (x.shape[i - lead] if s == -1 else s) if i >= lead else s for i, s in enumerate(sizes)
    )
    for i in range(x.ndim):
        if x.shape[i] != 1 and x.shape[i] != shape[lead + i]:
            raise RuntimeError(
                f"The expanded size of the tensor ({shape[lead + i]}) must match the existing "
                f"size ({x.shape[i]}) at non-singleton dimension {lead + i}. Target sizes: "
                f"{list(sizes)}. Tensor sizes: {list(x.shape)}"
            )
    return Expand.apply(x, shape=shape)


def expand_as(x: Tensor, other: Tensor) -> Tensor:
    """Expand to `other`'s shape."""
    return expand(x, tuple(other.shape))


def broadcast_to(x: Tensor, shape: Sequence[int]) -> Tensor:
    """Broadcast to `shape` (a view)."""
    return expand(x, tuple(shape))


def squeeze(x: Tensor, dim: Any = None) -> Tensor:
    """Remove size-1 dimensions (all, or those in `dim`)."""
    if dim is None:
        shape = tuple(s for s in x.shape if s != 1)
    else:
        dims = {normalize_dim(d, x.ndim) for d in ((dim,) if isinstance(dim, int) else dim)}
        shape = tuple(s for i, s in enumerate(x.shape) if not (i in dims and s == 1))
    return reshape(x, shape)


def unsqueeze(x: Tensor, dim: int) -> Tensor:
    """Insert a size-1 dimension at `dim`."""
    d = normalize_dim(dim, x.ndim + 1)
    shape = x.shape[:d] + (1,) + x.shape[d:]
    return Reshape.apply(x, shape=shape, copy=True)


def flattened_shape(shape: tuple, start_dim: int, end_dim: int) -> tuple | None:
    """`shape` with dims start_dim..end_dim merged; None when there is nothing to merge."""
    if not shape:  # a 0-d tensor takes dims 0 and -1, as in PyTorch
        normalize_dim(start_dim, 0), normalize_dim(end_dim, 0)
        return (1,)
    s, e = normalize_dim(start_dim, len(shape)), normalize_dim(end_dim, len(shape))
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:
        return None  # e.g. Flatten() on a batch of vectors
    merged = 1
    for n in shape[s:e + 1]:
        merged *= n
    return shape[:s] + (merged,) + shape[e + 1:]


def flatten(x: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dimensions start_dim..end_dim into one."""
    shape = flattened_shape(x._data.shape, start_dim, end_dim)
    return x if shape is None else Reshape.apply(x, shape=shape, copy=True)


def unflatten(x: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:
    """Split dimension `dim` into `sizes`."""
    d = normalize_dim(dim, x.ndim)
    sizes, size = tuple(int(n) for n in sizes), x.shape[d]
    if sizes.count(-1) > 1:
        raise RuntimeError("only one dimension can be inferred")
    known = 1
    for n in sizes:
        known *= n if n != -1 else 1
    if -1 in sizes and known and size % known == 0:  # (resolved here: an empty tensor's
        sizes = tuple(size // known if n == -1 else n for n in sizes)  # reshape can't)
    elif known != size or -1 in sizes:
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the "
                           f"size of dim {d} ({size}) in the input tensor")
    return reshape(x, x.shape[:d] + sizes + x.shape[d + 1:])


def ravel(x: Tensor) -> Tensor:
    """The elements as one dimension."""
    return reshape(x, (-1,))


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors along an existing dimension."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("cat(): expected a non-empty list of Tensors")
    ref = next((t for t in tensors if t.ndim and t.shape != (0,)), tensors[0])
    axis = normalize_dim(dim, ref.ndim)
    # PyTorch's legacy rule: a 1-D empty tensor joins anything (and still gets its gradient)
    empty = tuple(0 if d == axis else n for d, n in enumerate(ref.shape))
    tensors = [t.reshape(empty) if t.ndim == 1 and t.shape[0] == 0 else t for t in tensors]
    from .. import dtypes
    from .elementwise import cast

    target = dtypes.result_type(*tensors)
    tensors = [cast(t, target) for t in tensors]
    for i, t in enumerate(tensors):
        if t.ndim != ref.ndim:
            raise RuntimeError(
                f"cat(): tensors must have the same number of dimensions: got {ref.ndim} and "
                f"{t.ndim} (tensor {i})"
            )
        for d in range(ref.ndim):
            if d != axis and t.shape[d] != ref.shape[d]:
                raise RuntimeError(
                    f"cat(): sizes of tensors must match except in dimension {axis}. Expected "
                    f"size {ref.shape[d]} but got size {t.shape[d]} for tensor number {i} in "
                    "the list."
                )
    return Cat.apply(*tensors, axis=axis)


concat = concatenate = cat


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Join tensors of equal shape along a new dimension."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(tensors[0].shape)} "
                f"at entry 0 and {list(t.shape)} at entry {i}"
            )
    d = normalize_dim(dim, tensors[0].ndim + 1)
    return cat([unsqueeze(t, d) for t in tensors], d)


def split(x: Tensor, split_size_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
    """Pieces of `split_size` along `dim` (last may be smaller), or of the given sizes."""
    axis = normalize_dim(dim, x.ndim)
    n = x.shape[axis]
    if isinstance(split_size_or_sections, int):
        step = split_size_or_sections
        sizes = [min(step, n - i) for i in range(0, n, step)] if n else [0]
    else:
        sizes = list(split_size_or_sections)
        if sum(sizes) != n:
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's "
                f"size at dimension {axis}), but got split_sizes={sizes}"
            )
    return Tensor._multi_output_views(_slices(x, axis, sizes))


def _slices(x: Tensor, axis: int, sizes: Sequence[int]) -> tuple[Tensor, ...]:
    from .index import getitem

    pieces, start = [], 0
    for size in sizes:
        key = (slice(None),) * axis + (slice(start, start + size),)
        pieces.append(getitem(x, key))
        start += size
    return tuple(pieces)


def chunk(x: Tensor, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
    """`chunks` nearly equal pieces along `dim` (fewer if the size is small)."""
    axis = normalize_dim(dim, x.ndim)
    n = x.shape[axis]
    if n == 0:  # PyTorch: `chunks` empty pieces
        return Tensor._multi_output_views(_slices(x, axis, [0] * chunks))
    return split(x, -(-n // chunks), axis)


def tensor_split(x: Tensor, sections: int, dim: int = 0) -> tuple[Tensor, ...]:
    """`sections` pieces whose sizes differ by at most one."""
    axis = normalize_dim(dim, x.ndim)
    n = x.shape[axis]
    base, extra = divmod(n, sections)
    return Tensor._multi_output_views(_slices(x, axis, [base + (i < extra)
                                                       for i in range(sections)]))


def unbind(x: Tensor, dim: int = 0) -> tuple[Tensor, ...]:
    """The slices along `dim`, each without that dimension."""
    axis = normalize_dim(dim, x.ndim)
    if x.shape[axis] == 0:
        return ()
    return Tensor._multi_output_views([squeeze(p, axis) for p in split(x, 1, axis)])


def repeat(x: Tensor, *sizes: Any) -> Tensor:
    """Tile the tensor `sizes` times along each dimension."""
    repeats = _shape_arg(sizes)
    if len(repeats) < x.ndim:
        raise RuntimeError(
            "Number of dimensions of repeat dims can not be smaller than number of dimensions "
            "of tensor"
        )
    return Repeat.apply(x, repeats=repeats)


@scalar_as_vector
def flip(x: Tensor, *dims: Any) -> Tensor:
    """Reverse the order of elements along `dims`: flip(x, (0, 1)) or x.flip(0, 1)."""
    dims = _shape_arg(dims)
    return Flip.apply(x, axes=tuple(normalize_dim(d, x.ndim) for d in dims))


def clone(input: Tensor, *, memory_format: Any = None) -> Tensor:  # noqa: A002
    """A contiguous copy, same shape; gradients flow back to `input`."""
    # preserve_format, the default, keeps a transposed tensor transposed (so .view(-1) on
    # the copy fails as in PyTorch); memory with gaps becomes row-major
    order = (memory_format or preserve_format).order
    return Copy.apply(input, order=order) if order != "C" else Copy.apply(input)


def to_device(x: Tensor, target: Device) -> Tensor:
    """Copy `x` to another device; gradients flow back."""
    return ToDevice.apply(x, target=target)


def movedim(x: Tensor, source: int, destination: int) -> Tensor:
    """Move one dimension to a new position."""
    dims = list(range(x.ndim))
    s, d = normalize_dim(source, x.ndim), normalize_dim(destination, x.ndim)
    if x.ndim == 0:  # dims 0 and -1 name its one element: a view of it
        return Permute.apply(x, dims=())
    dims.insert(d, dims.pop(s))
    return permute(x, dims)


class Roll(Function):
    @staticmethod
    def forward(ctx, x, shifts, axes):
        ctx.shifts, ctx.axes = shifts, axes
        return row_major(ctx.xp.roll(x, shifts, axes))

    @staticmethod
    def backward(ctx, grad):
        return ctx.xp.roll(grad, tuple(-s for s in ctx.shifts), ctx.axes)


def roll(x: Tensor, shifts: Any, dims: Any = None) -> Tensor:
    """Shift elements cyclically along `dims` (of the flattened tensor when dims is None)."""
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    if dims is not None and x.ndim == 0:  # PyTorch gives a 0-d tensor no dim to roll along
        first = dims if isinstance(dims, int) else dims[0]
        raise IndexError(f"Dimension specified as {first} but tensor has no dimensions")
    if dims is None:
        if len(shifts) != 1:
            raise RuntimeError(f"roll: shifts must have one element when dims is not given, "
                               f"got {len(shifts)}")
        return reshape(Roll.apply(reshape(x, -1), shifts=shifts, axes=(0,)), x.shape)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, "
                           f"dims:{len(dims)}")
    return Roll.apply(x, shifts=shifts, axes=tuple(normalize_dim(d, x.ndim) for d in dims))


def tile(x: Tensor, dims: Sequence[int]) -> Tensor:
    """repeat(), with fewer `dims` than dimensions padded by leading ones."""
    dims = _shape_arg((dims,))
    return repeat(x, (1,) * (x.ndim - len(dims)) + dims)


def narrow(x: Tensor, dim: int, start: Any, length: int) -> Tensor:
    """The slice start:start+length along `dim` (a view); start may be negative."""
    if x.ndim == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    axis = normalize_dim(dim, x.ndim)
    size, start = x.shape[axis], int(start)
    if not -size <= start <= size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], "
                         f"but got {start})")
    start = start + size if start < 0 else start
    if length < 0 or start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size "
                           f"({size}).")
    return _slices(x, axis, [start, length])[1]


def diff(x: Tensor, n: int = 1, dim: int = -1, prepend: Tensor | None = None,
         append: Tensor | None = None) -> Tensor:
    """n-th forward difference x[i + 1] - x[i] along `dim`, after prepend/append are joined."""
    if x.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    axis = normalize_dim(dim, x.ndim)
    ends = [_end_piece(e, x, axis) for e in (prepend, append)]
    if n == 0:
        return clone(x)
    if ends[0] is not None or ends[1] is not None:
        x = cat([e for e in (ends[0], x, ends[1]) if e is not None], axis)
    # as PyTorch: at most size differences are taken (n past it gives an empty result, and
    # an empty dimension gives the input itself)
    for _ in range(min(n, x.shape[axis])):
        size = x.shape[axis]
        later, earlier = _slices(x, axis, [1, size - 1])[1], _slices(x, axis, [size - 1])[0]
        x = later.logical_xor(earlier) if x.dtype.name == "bool" else later - earlier
    return x


def _end_piece(piece: Tensor | None, x: Tensor, axis: int) -> Tensor | None:
    """diff's prepend/append: a number or 0-d tensor becomes one slice along `axis`."""
    if piece is None:
        return None
    if not isinstance(piece, Tensor) or piece.ndim == 0:
        from .elementwise import constant

        piece = piece if isinstance(piece, Tensor) else constant(piece, x)
        return expand(piece, x.shape[:axis] + (1,) + x.shape[axis + 1:])
    return piece


def repeat_interleave(x: Tensor, repeats: Any = None, dim: int | None = None, *,
                      output_size: int | None = None) -> Tensor:
    """Each element (or slice along `dim`) repeated `repeats` times, in place in the order."""
    from .index import index_select

    if repeats is None:  # repeat_interleave(counts): 0..n-1, each counts[i] times
        xp = array_module(x._data)
        return Tensor._make(xp.repeat(xp.arange(x.shape[0]), x._data), False, None)
    if dim is None:
        x, dim = reshape(x, -1), 0
    axis = normalize_dim(dim, x.ndim)
    if isinstance(repeats, int):  # as PyTorch: a copy of an expanded view (saves nothing)
        if repeats < 0:
            raise RuntimeError("repeats can not be negative")
        wide = x.shape[:axis + 1] + (repeats,) + x.shape[axis + 1:]
        merged = x.shape[:axis] + (x.shape[axis] * repeats,) + x.shape[axis + 1:]
        return reshape(clone(expand(unsqueeze(x, axis + 1), wide),
                             memory_format=contiguous_format), merged)
    counts = repeats._data if isinstance(repeats, Tensor) else repeats
    size = x.shape[axis]
    xp = array_module(x._data)
    if getattr(counts, "ndim", 0) == 1 and len(counts) not in (1, size):
        raise RuntimeError("repeats must have the same size as input along dim, but got "
                           f"repeats.size(0) = {len(counts)} and input.size({axis}) = {size}")
    if getattr(counts, "ndim", 0) > 1:
        raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
    if (xp.asarray(counts) < 0).any():
        raise RuntimeError("repeats can not be negative")
    index = xp.repeat(xp.arange(size), counts)
    return index_select(x, axis, Tensor._make(index, False, None))


# ------------------------------------------------------ stacking, rotation, combinatorics
def _tensor_list(tensors: Any, op: str) -> list[Tensor]:
    """The `tensors` sequence of hstack & co.; a bare tensor is refused, as in PyTorch."""
    if isinstance(tensors, Tensor):
        raise TypeError(f"{op}(): argument 'tensors' (position 1) must be tuple of Tensors, "
                        "not Tensor")
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError(f"{op} expects a non-empty TensorList")
    return tensors


def _at_least(tensors: tuple, promote: Any) -> Any:
    """atleast_Nd's calling forms: one tensor -> a tensor; several or one sequence -> a tuple."""
    if len(tensors) == 1 and isinstance(tensors[0], Tensor):
        return promote(tensors[0])
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    return tuple(promote(t) for t in tensors)


def _as_1d(x: Tensor) -> Tensor:
    return reshape(x, (1,)) if x.ndim == 0 else x


def _as_2d(x: Tensor) -> Tensor:
    return reshape(x, (1, x.numel())) if x.ndim < 2 else x  # () -> (1, 1), (n,) -> (1, n)


def _as_3d(x: Tensor) -> Tensor:
    if x.ndim == 0:
        return reshape(x, (1, 1, 1))
    if x.ndim == 1:
        return reshape(x, (1, x.shape[0], 1))  # a row of depth 1, like NumPy's atleast_3d
    return reshape(x, tuple(x.shape) + (1,)) if x.ndim == 2 else x


def atleast_1d(*tensors: Any) -> Any:
    """0-d inputs become (1,); others unchanged. One tensor -> tensor, several -> tuple."""
    return _at_least(tensors, _as_1d)


def atleast_2d(*tensors: Any) -> Any:
    """() -> (1, 1), (n,) -> (1, n); others unchanged. One tensor -> tensor, several -> tuple."""
    return _at_least(tensors, _as_2d)


def atleast_3d(*tensors: Any) -> Any:
    """() -> (1, 1, 1), (n,) -> (1, n, 1), (m, n) -> (m, n, 1); others unchanged."""
    return _at_least(tensors, _as_3d)


def hstack(tensors: Sequence[Tensor]) -> Tensor:
    """Join along dim 1 ((n,) inputs: along dim 0): (m, a), (m, b) -> (m, a + b)."""
    tensors = [_as_1d(t) for t in _tensor_list(tensors, "hstack")]
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors: Sequence[Tensor]) -> Tensor:
    """Join rows after atleast_2d: (a, n), (n,) -> (a + 1, n)."""
    return cat([_as_2d(t) for t in _tensor_list(tensors, "vstack")], 0)


row_stack = vstack


def dstack(tensors: Sequence[Tensor]) -> Tensor:
    """Join along dim 2 after atleast_3d: (m, n), (m, n) -> (m, n, 2)."""
    return cat([_as_3d(t) for t in _tensor_list(tensors, "dstack")], 2)


def column_stack(tensors: Sequence[Tensor]) -> Tensor:
    """0-d and (n,) inputs become columns (n, 1), then hstack: (n,), (n, k) -> (n, 1 + k)."""
    tensors = _tensor_list(tensors, "column_stack")
    return hstack([reshape(t, (t.numel(), 1)) if t.ndim <= 1 else t for t in tensors])


def rot90(input: Tensor, k: int = 1, dims: Sequence[int] = (0, 1)) -> Tensor:  # noqa: A002
    """Rotate by k * 90 degrees in the plane `dims`, from dims[0] towards dims[1]; same ndim."""
    dims = list(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if input.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {input.ndim}")
    # PyTorch compares the dims as given: 0 and -ndim name the same axis
    if dims[0] == dims[1] or abs(dims[0] - dims[1]) == input.ndim:
        raise RuntimeError(f"expected rotation dims to be different, but got dim0 = {dims[0]} "
                           f"and dim1 = {dims[1]}")
    d0, d1 = normalize_dim(dims[0], input.ndim), normalize_dim(dims[1], input.ndim)
    k %= 4  # Python's % is already non-negative: k = -1 is k = 3
    if k == 2:
        return flip(input, d0, d1)
    if k:  # PyTorch: a flipped copy transposed in place, a new tensor (not a view)
        return QuarterTurn.apply(input, flipped=d1 if k == 1 else d0, dims=(d0, d1))
    return clone(input, memory_format=contiguous_format)  # PyTorch: a row-major copy


def fliplr(input: Tensor) -> Tensor:  # noqa: A002
    """Reverse dim 1 (columns); input at least 2-d."""
    if input.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, 1)


def flipud(input: Tensor) -> Tensor:  # noqa: A002
    """Reverse dim 0 (rows); input at least 1-d."""
    if input.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, 0)


class BlockDiag(Function):
    """2-D blocks of one dtype placed along the diagonal of a zero matrix."""

    @staticmethod
    def forward(ctx, *blocks):
        ctx.shapes = [b.shape for b in blocks]
        rows, cols = sum(s[0] for s in ctx.shapes), sum(s[1] for s in ctx.shapes)
        out = ctx.xp.zeros((rows, cols), dtype=blocks[0].dtype)
        r = c = 0
        for b in blocks:
            out[r:r + b.shape[0], c:c + b.shape[1]] = b
            r, c = r + b.shape[0], c + b.shape[1]
        return out

    @staticmethod
    def backward(ctx, grad):
        grads, r, c = [], 0, 0
        for (h, w), needed in zip(ctx.shapes, ctx.needs_input_grad):
            grads.append(grad[r:r + h, c:c + w] if needed else None)
            r, c = r + h, c + w
        return tuple(grads)


def block_diag(*tensors: Tensor) -> Tensor:
    """Blocks on the diagonal: (a, b), (c, d) -> (a + c, b + d); 0-d -> (1, 1), (n,) -> (1, n)."""
    from .. import dtypes
    from .creation import zeros
    from .elementwise import cast

    if not tensors:
        return zeros(1, 0)  # PyTorch's answer for no blocks: an empty row
    for i, t in enumerate(tensors):
        if t.ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer "
                               f"dimensions. Input {i} has {t.ndim} dimensions")
    target = dtypes.result_type(*tensors)
    blocks = [cast(_as_2d(t), target) for t in tensors]
    return BlockDiag.apply(*blocks)


def _check_vector(x: Tensor) -> None:
    if x.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(x.shape)}")


def cartesian_prod(*tensors: Tensor) -> Tensor:
    """All tuples of elements, in lexicographic order: (a,), (b,) -> (a * b, 2); one input: it."""
    from .search import meshgrid

    if not tensors:
        raise RuntimeError("meshgrid expects a non-empty TensorList")
    for t in tensors:
        _check_vector(t)
    if len(tensors) == 1:
        return tensors[0]
    if any(t.dtype is not tensors[0].dtype for t in tensors):
        raise RuntimeError("meshgrid expects all tensors to have the same dtype")
    grids = meshgrid(*tensors, indexing="ij")
    return stack([reshape(g, -1) for g in grids], 1)


def combinations(input: Tensor, r: int = 2,  # noqa: A002
                 with_replacement: bool = False) -> Tensor:
    """Length-r combinations of a vector's elements, like itertools: (n,) -> (C(n, r), r)."""
    import itertools

    from .._backend import np
    from .index import index_select

    _check_vector(input)
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return _slices(input, 0, [0])[0]  # PyTorch returns an empty vector, not (1, 0)
    pick = itertools.combinations_with_replacement if with_replacement else \
        itertools.combinations
    # positions are computed once on the CPU; index_select then gathers (and scatters grads)
    positions = np.fromiter(itertools.chain.from_iterable(pick(range(input.shape[0]), r)),
                            dtype=np.int64)
    xp = array_module(input._data)
    index = Tensor._make(xp.asarray(positions), False, None)
    return reshape(index_select(input, 0, index), (-1, r))


def trace(input: Tensor) -> Tensor:  # noqa: A002
    """Sum of the main diagonal of a matrix: (m, n) -> ()."""
    from .index import getitem
    from .reduce import sum as reduce_sum

    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    if input._data.dtype.kind == "b":
        raise NotImplementedError("\"trace\" not implemented for 'Bool'")
    rows, cols = input.shape
    # in row-major order the diagonal is every (cols + 1)-th element
    diagonal = getitem(reshape(input, -1), slice(None, None, cols + 1))
    return reduce_sum(getitem(diagonal, slice(None, min(rows, cols))))


def detach(input: Tensor) -> Tensor:  # noqa: A002
    """A tensor sharing input's data, cut from the graph; same shape."""
    return input.detach()
