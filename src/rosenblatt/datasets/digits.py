"""scikit-learn's 8x8 handwritten digits (1,797 images) as a Dataset with a seeded split."""

from __future__ import annotations

from typing import Any, Callable, Sequence

from .._backend import np
from ..autograd.tensor import Tensor
from ..utils.data import Dataset
from ._batching import image_batch, transformed

__all__ = ["Digits"]


class Digits(Dataset):
    """The UCI digits of `sklearn.datasets.load_digits`: (image (1, 8, 8) in [0, 1], label).

    The split is stratified by class and fixed by `seed`: train=True gives the
    (1 - test_fraction) part, train=False the rest; the two never overlap. `.data` holds
    the raw pixel counts 0-16 (uint8, N x 8 x 8), `.targets` the labels (int64).
    """

    classes = [str(i) for i in range(10)]

    def __init__(self, root: Any = None, train: bool = True, transform: Callable | None = None,
                 target_transform: Callable | None = None, test_fraction: float = 0.2,
                 seed: int = 0) -> None:
        from sklearn.datasets import load_digits  # scikit-learn ships the data: no download

        if not 0 < test_fraction < 1:
            raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
        bunch = load_digits()
        images = bunch.images.astype(np.uint8)
        labels = bunch.target.astype(np.int64)
        rng = np.random.default_rng(seed)
        test = np.zeros(len(labels), dtype=bool)
        for c in range(10):  # stratified: the same fraction of every class goes to test
            members = np.flatnonzero(labels == c)
            chosen = rng.permutation(members)[: int(round(len(members) * test_fraction))]
            test[chosen] = True
        keep = np.flatnonzero(~test if train else test)
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        self.data = Tensor._make(images[keep], False, None)
        self.targets = Tensor._make(labels[keep], False, None)

    def __len__(self) -> int:
        return int(self.data._data.shape[0])

    @staticmethod
    def _to_float(images: Any) -> Tensor:
        array = images.astype(np.float32) / np.float32(16)
        return Tensor._make(array[..., None, :, :], False, None)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        """(image float32 (1, 8, 8) in [0, 1] or transform(image), label int)."""
        image: Any = self._to_float(self.data._data[index])
        target: Any = int(self.targets._data[index])
        return transformed(self, image, target)

    def __getbatch__(self, indices: Sequence[int]) -> list:
        """[images (B, 1, 8, 8), labels int64 (B,)], as default_collate would make them."""
        return image_batch(self, indices, self._to_float)
