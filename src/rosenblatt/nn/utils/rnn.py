"""Packed and padded batches of variable-length sequences, as in `torch.nn.utils.rnn`.

A PackedSequence keeps only the real time steps, time-major: the rows of step t are the
first `batch_sizes[t]` sequences, longest first. Packing and padding are one gather each
(an integer index into the padded or packed rows), so gradients flow through the
existing indexing op.
"""

from __future__ import annotations

from typing import Any, Iterable, NamedTuple

from ... import dtypes
from ...autograd.tensor import Tensor
from ...ops.creation import full, tensor
from ...ops.index import argsort
from ...ops.shape import cat, stack


class _PackedFields(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


class PackedSequence(_PackedFields):
    """data (sum of lengths, *), batch_sizes (T,) CPU int64, sorted/unsorted_indices (B,) or None.

    Build it with `pack_padded_sequence` or `pack_sequence`; `sorted_indices[j]` is the
    batch position of the j-th longest sequence and `unsorted_indices` its inverse.
    """

    def __new__(cls, data: Any, batch_sizes: Tensor | None = None,
                sorted_indices: Tensor | None = None,
                unsorted_indices: Tensor | None = None) -> PackedSequence:
        if batch_sizes is None:  # PackedSequence((data, batch_sizes), ...) as in PyTorch
            if not (isinstance(data, (list, tuple)) and len(data) == 2):
                raise AssertionError("Expected data to be a list or tuple of length 2")
            data, batch_sizes = data
        if batch_sizes.device.type != "cpu":
            raise ValueError("batch_sizes should always be on CPU. Instances of PackedSequence "
                             "should never be created manually. They should be instantiated "
                             "by functions like pack_sequence and pack_padded_sequences in "
                             "nn.utils.rnn.")
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args: Any, **kwargs: Any) -> PackedSequence:
        """data cast/moved like `Tensor.to`; the indices follow data's device, batch_sizes stays."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        move = [None if i is None else i.to(data.device)
                for i in (self.sorted_indices, self.unsorted_indices)]
        return type(self)(data, self.batch_sizes, *move)

    def cuda(self, device: Any = None) -> PackedSequence:
        """The same sequence with data on a CUDA device."""
        return self.to(self.data.cuda(device).device)

    def cpu(self) -> PackedSequence:
        """The same sequence with data on the CPU."""
        return self.to("cpu")

    def double(self) -> PackedSequence:
        """data as float64."""
        return self.to(dtypes.float64)

    def float(self) -> PackedSequence:
        """data as float32."""
        return self.to(dtypes.float32)

    def half(self) -> PackedSequence:
        """data as float16."""
        return self.to(dtypes.float16)

    def long(self) -> PackedSequence:
        """data as int64."""
        return self.to(dtypes.int64)

    def int(self) -> PackedSequence:
        """data as int32."""
        return self.to(dtypes.int32)

    def short(self) -> PackedSequence:
        """data as int16."""
        return self.to(dtypes.int16)

    def char(self) -> PackedSequence:
        """data as int8."""
        return self.to(dtypes.int8)

    def byte(self) -> PackedSequence:
        """data as uint8."""
        return self.to(dtypes.uint8)

    @property
    def is_cuda(self) -> bool:
        """Whether data lives on a GPU."""
        return self.data.is_cuda


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The inverse of a permutation (N,) -> (N,), or None for None."""
    return None if permutation is None else argsort(permutation)


def _lengths_list(lengths: Any) -> list[int]:
    """Lengths as Python ints; a tensor must be 1-D on the CPU, as PyTorch asks."""
    if not isinstance(lengths, Tensor):
        return [int(n) for n in lengths]
    lengths = lengths.to(dtypes.int64)
    if lengths.ndim != 1 or lengths.device.type != "cpu":
        raise RuntimeError(f"'lengths' argument should be a 1D CPU int64 tensor, but got "
                           f"{lengths.ndim}D {lengths.device} Long tensor")
    return lengths.tolist()


def _check_lengths(lengths: list[int], batch: int, steps: int) -> None:
    """PyTorch's checks on sorted lengths, plus one against reading past the padded input."""
    if len(lengths) != batch:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got "
                           f"{len(lengths)} (batch_size={batch})")
    if batch and lengths[-1] <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an "
                           "element in 'lengths' that is <= 0")
    if any(a < b for a, b in zip(lengths, lengths[1:])):
        raise RuntimeError("`lengths` array must be sorted in decreasing order when "
                           "`enforce_sorted` is True. You can pass `enforce_sorted=False` to "
                           "pack_padded_sequence and/or pack_sequence to sidestep this "
                           "requirement if you do not need ONNX exportability.")
    if batch and lengths[0] > steps:  # PyTorch reads out of bounds here
        raise RuntimeError(f"Expected every length to be at most the padded length {steps}, "
                           f"but got {lengths[0]}")


def pack_padded_sequence(input: Tensor, lengths: Tensor | list[int],  # noqa: A002
                         batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Padded (T, B, *) (or (B, T, *) with batch_first) and B lengths -> PackedSequence."""
    lengths = _lengths_list(lengths)
    order = list(range(len(lengths)))
    sorted_indices = None
    if not enforce_sorted:  # stable, longest first
        order.sort(key=lambda b: -lengths[b])
        sorted_indices = tensor(order, dtype=dtypes.int64, device=input.device)
    lengths = [lengths[b] for b in order]
    steps, batch = (input.shape[1], input.shape[0]) if batch_first else input.shape[:2]
    _check_lengths(lengths, batch, steps)
    batch_sizes = [sum(n > t for n in lengths) for t in range(lengths[0] if lengths else 0)]
    time = [t for t, size in enumerate(batch_sizes) for _ in range(size)]
    seq = [order[j] for size in batch_sizes for j in range(size)]
    time_index = tensor(time, dtype=dtypes.int64, device=input.device)
    seq_index = tensor(seq, dtype=dtypes.int64, device=input.device)
    data = input[seq_index, time_index] if batch_first else input[time_index, seq_index]
    return PackedSequence(data, tensor(batch_sizes, dtype=dtypes.int64), sorted_indices)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False,
                        padding_value: float = 0.0,
                        total_length: int | None = None) -> tuple[Tensor, Tensor]:
    """PackedSequence -> padded (T, B, *) (or (B, T, *)) and the B lengths (CPU int64)."""
    data, batch_sizes = sequence.data, sequence.batch_sizes.tolist()
    steps = len(batch_sizes)
    if total_length is not None:
        if total_length < steps:
            raise ValueError(f"Expected total_length to be at least the length of the longest "
                             f"sequence in input, but got total_length={total_length} and max "
                             f"sequence length being {steps}")
        steps = total_length
    batch = batch_sizes[0] if batch_sizes else 0
    starts = [sum(batch_sizes[:t]) for t in range(len(batch_sizes))]
    lengths = [sum(size > j for size in batch_sizes) for j in range(batch)]
    unsorted = (list(range(batch)) if sequence.unsorted_indices is None
                else sequence.unsorted_indices.tolist())
    # Row of the packed data at (step t, batch position b); past a sequence's end, the
    # appended padding row (index len(data)).
    rows = [[starts[t] + unsorted[b] if t < lengths[unsorted[b]] else data.shape[0]
             for b in range(batch)] for t in range(steps)]
    if batch_first:
        rows = [list(r) for r in zip(*rows)] if steps else [[] for _ in range(batch)]
    padding = full((1, *data.shape[1:]), padding_value, dtype=data.dtype, device=data.device)
    index = tensor(rows, dtype=dtypes.int64, device=data.device)
    padded = cat([data, padding])[index]
    return padded, tensor([lengths[b] for b in unsorted], dtype=dtypes.int64)


def pad_sequence(sequences: Tensor | Iterable[Tensor], batch_first: bool = False,
                 padding_value: float = 0.0, padding_side: str = "right") -> Tensor:
    """B tensors (L_i, *) -> (T, B, *) (or (B, T, *)), T the longest, padded with a value."""
    if not isinstance(sequences, Iterable):
        raise RuntimeError(f"pad_sequence: Expected iterable for input sequences, but got arg "
                           f"of type: {type(sequences)}")
    sequences = tuple(sequences)
    if not sequences:
        raise RuntimeError("received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got "
                           f"{padding_side}.")
    steps = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        fill = full((steps - s.shape[0], *s.shape[1:]), padding_value, dtype=s.dtype,
                    device=s.device)
        padded.append(cat([s, fill] if padding_side == "right" else [fill, s]))
    return stack(padded, 0 if batch_first else 1)


def unpad_sequence(padded_sequences: Tensor, lengths: Tensor,
                   batch_first: bool = False) -> list[Tensor]:
    """Padded (T, B, *) (or (B, T, *)) and B lengths -> B tensors (L_i, *)."""
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [seq[: int(n)] for seq, n in zip(padded_sequences, lengths)]


def pack_sequence(sequences: list[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """B tensors (L_i, *) -> PackedSequence (pad_sequence, then pack_padded_sequence)."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths,
                                enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list[Tensor]:
    """PackedSequence -> B tensors (L_i, *), in the original batch order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
