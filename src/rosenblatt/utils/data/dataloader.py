"""The DataLoader (`torch.utils.data.dataloader`): batches from a data set, in a sampler's order.

Batches come from the dataset one of two ways:
- the fast path: when the loader uses the default collate function and the dataset has a
  `__getbatch__(indices)` method (TensorDataset, Subset, ConcatDataset and the datasets in
  `rosenblatt.datasets` do), each batch is one fancy-index into the underlying arrays, so an
  epoch never copies the whole data set nor builds a tuple per sample;
- the general path: `collate_fn([dataset[i] for i in batch_indices])`, as PyTorch does.
`__getbatch__(indices)` must return what `default_collate([dataset[i] for i in indices])` would.

`num_workers > 0` is accepted but batches are always made in this process: NumPy releases
the GIL in the indexing and math that dominate, and a worker pool would copy every batch.
"""

from __future__ import annotations

import itertools
from typing import Any, Callable, Generic, Iterable, Iterator, TypeVar

from ... import random as rnd
from ._utils.collate import default_collate, default_convert
from .dataset import Dataset, IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader", "get_worker_info", "default_collate", "default_convert"]

T_co = TypeVar("T_co", covariant=True)


def get_worker_info() -> None:
    """Always None: batches are made in the main process (see the module docstring)."""
    return None


# ---------------------------------------------------------------------------- loader


class DataLoader(Generic[T_co]):
    """Iterate over a data set in batches, as torch.utils.data.DataLoader.

    shuffle=True draws a new permutation each epoch from `generator` (default: the generator
    behind rb.manual_seed). num_workers, pin_memory, timeout, worker_init_fn, prefetch_factor
    and persistent_workers are accepted for compatibility; loading runs in this process.
    """

    def __init__(
        self, dataset: Dataset, batch_size: int | None = 1, shuffle: bool | None = None,
        sampler: Sampler | Iterable | None = None,
        batch_sampler: Sampler[list] | Iterable[list] | None = None, num_workers: int = 0,
        collate_fn: Callable[[list], Any] | None = None, pin_memory: bool = False,
        drop_last: bool = False, timeout: float = 0, worker_init_fn: Callable | None = None,
        multiprocessing_context: Any = None, generator: rnd.Generator | None = None, *,
        prefetch_factor: int | None = None, persistent_workers: bool = False,
        pin_memory_device: str = "", in_order: bool = True,
    ) -> None:
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; "
                             "use num_workers=0 to disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        self.dataset = dataset
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.prefetch_factor = prefetch_factor
        self.persistent_workers = persistent_workers
        self.generator = generator
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            for name, value in (("shuffle", shuffle or None), ("sampler", sampler),
                                ("batch_sampler", batch_sampler)):
                if value is not None:
                    raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                     f"{name} option, but got {name}={value}")
        elif sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if sampler is None and not self._iterable:
            sampler = RandomSampler(dataset, generator=generator) if shuffle \
                else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None and not self._iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)  # type: ignore[arg-type]
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None or (self._iterable and self.batch_size is not None)

    @property
    def _index_sampler(self) -> Any:
        return self.batch_sampler if self.batch_sampler is not None else self.sampler

    def __iter__(self) -> Iterator[Any]:
        if self._iterable:
            return _IterableDatasetIter(self)
        return _MapDatasetIter(self)

    def __len__(self) -> int:
        if self._iterable:
            n = len(self.dataset)  # type: ignore[arg-type]
            if self.batch_size is not None:
                n = n // self.batch_size if self.drop_last else -(-n // self.batch_size)
            return n
        return len(self._index_sampler)


class _MapDatasetIter:
    """One epoch over a map-style data set."""

    def __init__(self, loader: DataLoader) -> None:
        self._loader = loader
        self._indices = iter(loader._index_sampler)
        getbatch = getattr(loader.dataset, "__getbatch__", None)
        fast = loader._auto_collation and loader.collate_fn is default_collate
        self._getbatch = getbatch if fast else None

    def __iter__(self) -> _MapDatasetIter:
        return self

    def __len__(self) -> int:
        return len(self._loader)

    def __next__(self) -> Any:
        index = next(self._indices)
        loader = self._loader
        if not loader._auto_collation:
            return loader.collate_fn(loader.dataset[index])
        if self._getbatch is not None:
            return self._getbatch(list(index))
        getitems = getattr(loader.dataset, "__getitems__", None)  # PyTorch's batch protocol
        if getitems is not None:
            return loader.collate_fn(getitems(list(index)))
        return loader.collate_fn([loader.dataset[i] for i in index])


class _IterableDatasetIter:
    """One pass over an IterableDataset, grouped into batches."""

    def __init__(self, loader: DataLoader) -> None:
        self._loader = loader
        self._it = iter(loader.dataset)

    def __iter__(self) -> _IterableDatasetIter:
        return self

    def __next__(self) -> Any:
        loader = self._loader
        if loader.batch_size is None:
            return loader.collate_fn(next(self._it))
        batch = list(itertools.islice(self._it, loader.batch_size))
        if not batch or (loader.drop_last and len(batch) < loader.batch_size):
            raise StopIteration
        return loader.collate_fn(batch)
