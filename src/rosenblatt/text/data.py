"""Character data: fixed-length windows (input, target shifted by one) and TBPTT streams."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator, Sequence

from .._backend import np
from ..autograd.tensor import Tensor
from ..ops.creation import from_numpy
from ..utils.data import Dataset


def _ids_array(ids: Sequence[int] | Tensor) -> np.ndarray:
    if isinstance(ids, Tensor):
        return np.asarray(ids.numpy(), dtype=np.int64)
    return np.asarray(ids, dtype=np.int64)


class CharWindowDataset(Dataset):
    """Windows of `block_size` ids: item i is (ids[s:s+T], ids[s+1:s+T+1]) with s = i * stride.

    Both are int64 tensors of shape (T,). `stride` defaults to 1 (every position starts
    a window); batches come from one fancy-index (`__getbatch__`), not a loop.
    """

    def __init__(self, ids: Sequence[int] | Tensor, block_size: int, stride: int = 1) -> None:
        self.ids = _ids_array(ids)
        if block_size < 1 or stride < 1:
            raise ValueError("CharWindowDataset: block_size and stride must be positive")
        if len(self.ids) < block_size + 1:
            raise ValueError(f"CharWindowDataset: a text of {len(self.ids)} tokens is too short "
                             f"for windows of {block_size} (+1 for the target)")
        self.block_size = block_size
        self.stride = stride

    def __len__(self) -> int:
        return (len(self.ids) - self.block_size - 1) // self.stride + 1

    def _windows(self, indices: np.ndarray) -> tuple[Tensor, Tensor]:
        starts = indices * self.stride
        rows = starts[:, None] + np.arange(self.block_size + 1)[None, :]
        chunk = self.ids[rows]
        return from_numpy(chunk[:, :-1].copy()), from_numpy(chunk[:, 1:].copy())

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        n = len(self)
        if not -n <= index < n:
            raise IndexError(f"CharWindowDataset: index {index} out of range for {n} windows")
        x, y = self._windows(np.asarray([index % n]))
        return x[0], y[0]

    def __getbatch__(self, indices: Sequence[int]) -> tuple[Tensor, Tensor]:
        """(B, T) inputs and targets for a list of window indices."""
        return self._windows(np.asarray(indices, dtype=np.int64) % len(self))

    def random_batch(self, batch_size: int, rng: np.random.Generator) -> tuple[Tensor, Tensor]:
        """A batch of windows at random positions (sampling with replacement)."""
        return self._windows(rng.integers(0, len(self), size=batch_size))


def stream_batches(ids: Sequence[int] | Tensor, batch_size: int, seq_len: int,
                   offset: int = 0) -> Iterator[tuple[Tensor, Tensor]]:
    """Consecutive (B, T) windows of B parallel streams, for truncated BPTT.

    The text is cut into `batch_size` contiguous streams; batch k holds, for every stream,
    the T characters following those of batch k-1, so an RNN's final state of one batch is
    the right initial state for the next. `offset` shifts the start (vary it per epoch).
    """
    data = _ids_array(ids)[offset:]
    per_stream = (len(data) - 1) // batch_size
    if per_stream < seq_len:
        raise ValueError(f"stream_batches: {len(data)} tokens are too few for {batch_size} "
                         f"streams of at least {seq_len} + 1")
    streams = data[: batch_size * per_stream + 1]
    inputs = streams[:-1].reshape(batch_size, per_stream)
    targets = streams[1:].reshape(batch_size, per_stream)
    for start in range(0, per_stream - seq_len + 1, seq_len):
        stop = start + seq_len
        yield (from_numpy(np.ascontiguousarray(inputs[:, start:stop])),
               from_numpy(np.ascontiguousarray(targets[:, start:stop])))


def split_text(text: str, train_fraction: float = 0.9) -> tuple[str, str]:
    """The first 90% (by default) for training, the rest for validation."""
    cut = int(len(text) * train_fraction)
    return text[:cut], text[cut:]


def default_corpus(root: str | None = None) -> Path:
    """tiny-shakespeare's input.txt in `root` (a folder holding tinyshakespeare/, or that
    folder itself), else in $ROSENBLATT_DATA/tinyshakespeare, else ~/.rosenblatt/data/..."""
    from ..datasets.download import data_root

    if root is not None and (Path(root).expanduser() / "input.txt").is_file():
        return Path(root).expanduser() / "input.txt"
    base = Path(root).expanduser() / "tinyshakespeare" if root is not None else None
    return data_root("tinyshakespeare", base) / "input.txt"
