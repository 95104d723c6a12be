"""What the image data sets share: transforms on one sample, and the whole-batch fast path
(see DataLoader's __getbatch__)."""

from __future__ import annotations

from typing import Any, Callable, Sequence

from .._backend import np
from ..autograd.tensor import Tensor
from ..utils.data import default_collate


def transformed(dataset: Any, image: Any, target: Any) -> tuple[Any, Any]:
    """(transform(image), target_transform(target)), each where the dataset has one."""
    if dataset.transform is not None:
        image = dataset.transform(image)
    if dataset.target_transform is not None:
        target = dataset.target_transform(target)
    return image, target


def image_batch(dataset: Any, indices: Sequence[int], to_float: Callable[[Any], Tensor]) -> list:
    """[images (B, 1, H, W), labels int64 (B,)] of `dataset`, as default_collate would make.

    A transform marked `batched` (every transform of rosenblatt.transforms is) is applied
    once to the whole batch; any other transform runs image by image.
    """
    idx = np.asarray(indices, dtype=np.int64)
    images: Any = to_float(dataset.data._data[idx])
    if dataset.transform is not None:
        if getattr(dataset.transform, "batched", False):
            images = dataset.transform(images)
        else:
            images = default_collate([dataset.transform(x) for x in images])
    targets: Any = Tensor._make(dataset.targets._data[idx], False, None)
    if dataset.target_transform is not None:
        targets = default_collate([dataset.target_transform(int(t))
                                   for t in dataset.targets._data[idx]])
    return [images, targets]
