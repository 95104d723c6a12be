"""Datasets: Dataset, IterableDataset, TensorDataset, Subset, ConcatDataset, random_split."""

from __future__ import annotations

import bisect
import itertools
import math
import warnings
from typing import Any, Generic, Iterable, Iterator, Sequence, TypeVar

from ... import random as rnd
from ..._backend import array_module, np
from ...autograd.tensor import Tensor
from ...ops.creation import tensor
from ._utils.collate import default_collate

__all__ = ["Dataset", "IterableDataset", "TensorDataset", "Subset", "ConcatDataset",
           "ChainDataset", "StackDataset", "random_split"]

T_co = TypeVar("T_co", covariant=True)


class Dataset(Generic[T_co]):
    """A map-style data set: `dataset[i]` gives sample i; subclasses define __getitem__/__len__."""

    def __getitem__(self, index: Any) -> T_co:
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset[T_co]):
    """A data set read as a stream: subclasses define __iter__."""

    def __iter__(self) -> Iterator[T_co]:
        raise NotImplementedError("Subclasses of IterableDataset should implement __iter__.")

    def __add__(self, other: Dataset) -> Any:
        return ChainDataset([self, other])


class ChainDataset(IterableDataset):
    """Iterable data sets one after another, as one stream."""

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = datasets

    def __iter__(self) -> Iterator:
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            yield from d

    def __len__(self) -> int:
        return sum(len(d) for d in self.datasets)  # type: ignore[arg-type]


class StackDataset(Dataset):
    """Samples of equally long data sets side by side: a tuple (positional) or a dict."""

    def __init__(self, *args: Dataset, **kwargs: Dataset) -> None:
        if args and kwargs:
            raise ValueError("Supported either ``tuple``- (via ``args``) or``dict``- (via "
                             "``kwargs``) like input/output, but both types are given.")
        parts = list(args) or list(kwargs.values())
        if not parts or any(len(d) != len(parts[0]) for d in parts):  # type: ignore[arg-type]
            raise ValueError("Size mismatch between datasets")
        self._length = len(parts[0])  # type: ignore[arg-type]
        self.datasets: Any = args if args else kwargs

    def __getitem__(self, index: int) -> Any:
        if isinstance(self.datasets, dict):
            return {k: d[index] for k, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __len__(self) -> int:
        return self._length


def _take(t: Tensor, indices: Sequence[int]) -> Tensor:
    """Rows `indices` of t in one fancy-index (through autograd only when t needs it)."""
    if t.requires_grad:
        return t[tensor(list(indices))]
    xp = array_module(t._data)
    return Tensor._make(t._data[xp.asarray(indices, dtype=np.int64)], False, None)


class TensorDataset(Dataset[tuple]):
    """Samples are rows of tensors that share their first dimension: (t1[i], t2[i], ...)."""

    def __init__(self, *tensors: Tensor) -> None:
        if not tensors:
            raise ValueError("TensorDataset needs at least one tensor")
        n = tensors[0].size(0)
        if any(t.size(0) != n for t in tensors):
            raise ValueError("Size mismatch between tensors: "
                             + ", ".join(str(list(t.shape)) for t in tensors))
        self.tensors = tensors

    def __getitem__(self, index: Any) -> tuple:
        return tuple(t[index] for t in self.tensors)

    def __getbatch__(self, indices: Sequence[int]) -> list:
        """The collated batch [t1[indices], t2[indices], ...] in one fancy-index per tensor."""
        return [_take(t, indices) for t in self.tensors]

    def __len__(self) -> int:
        return self.tensors[0].size(0)


def _fetch_batch(dataset: Any, indices: Sequence[int]) -> Any:
    """default_collate of dataset[i] for i in indices, by the fast path when there is one."""
    getbatch = getattr(dataset, "__getbatch__", None)
    if getbatch is not None:
        return getbatch(indices)
    return default_collate([dataset[i] for i in indices])


class Subset(Dataset[T_co]):
    """The samples of `dataset` at `indices`, in that order."""

    def __init__(self, dataset: Dataset, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx: Any) -> Any:
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getbatch__(self, indices: Sequence[int]) -> Any:
        """The collated batch of samples `indices` of this subset."""
        return _fetch_batch(self.dataset, [self.indices[i] for i in indices])

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset[T_co]):
    """Several data sets one after another."""

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise AssertionError("datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise AssertionError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def _locate(self, idx: int) -> tuple[int, int]:
        if idx < 0:
            if -idx > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            idx = len(self) + idx
        d = bisect.bisect_right(self.cumulative_sizes, idx)
        return d, idx - (self.cumulative_sizes[d - 1] if d else 0)

    def __getitem__(self, idx: int) -> Any:
        d, i = self._locate(idx)
        return self.datasets[d][i]

    def __getbatch__(self, indices: Sequence[int]) -> Any:
        """The collated batch; one fancy-index when all indices fall in one part."""
        located = [self._locate(i) for i in indices]
        parts = {d for d, _ in located}
        if len(parts) == 1:
            return _fetch_batch(self.datasets[parts.pop()], [i for _, i in located])
        return default_collate([self.datasets[d][i] for d, i in located])


def random_split(dataset: Dataset, lengths: Sequence[int | float],
                 generator: rnd.Generator | None = None) -> list[Subset]:
    """Split into non-overlapping random subsets of the given lengths (ints or fractions)."""
    n = len(dataset)  # type: ignore[arg-type]
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        sizes = []
        for i, frac in enumerate(lengths):
            if frac < 0 or frac > 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
            sizes.append(int(math.floor(n * frac)))
        for i in range(n - sum(sizes)):  # hand out the remainder round-robin, as PyTorch
            sizes[i % len(sizes)] += 1
        for i, size in enumerate(sizes):
            if size == 0:
                warnings.warn(f"Length of split at index {i} is 0. "
                              "This might result in an empty dataset.", stacklevel=2)
        lengths = sizes
    if sum(lengths) != n:
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    order = rnd.gen(generator).permutation(n).tolist()
    return [Subset(dataset, order[end - size:end])
            for end, size in zip(itertools.accumulate(lengths), lengths)]  # type: ignore
