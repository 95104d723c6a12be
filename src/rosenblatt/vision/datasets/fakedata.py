"""FakeData: random images, the same image for the same index every time (torchvision's)."""

from __future__ import annotations

from typing import Any, Callable, Sequence

from ..._backend import np
from ...autograd.tensor import Tensor
from ...datasets._batching import transformed
from ...utils.data import Dataset

__all__ = ["FakeData"]


class FakeData(Dataset):
    """`size` random images of `image_size` (C, H, W) with labels in [0, num_classes).

    Image i is drawn from a generator seeded with i + random_offset, as torchvision draws
    it (normal noise made 8-bit the way ToPILImage makes it: value * 255, wrapped to a
    byte), and returned as a float tensor (C, H, W) in [0, 1] rather than a PIL image,
    like the other data sets here (`transforms.ToTensor()` passes it through).
    """

    def __init__(self, size: int = 1000, image_size: Sequence[int] = (3, 224, 224),
                 num_classes: int = 10, transform: Callable | None = None,
                 target_transform: Callable | None = None, random_offset: int = 0) -> None:
        self.size = int(size)
        self.image_size = tuple(int(v) for v in image_size)
        self.num_classes = int(num_classes)
        self.transform = transform
        self.target_transform = target_transform
        self.random_offset = int(random_offset)

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        """(image (C, H, W) in [0, 1] or transform(image), label int)."""
        if not -self.size <= index < self.size:
            raise IndexError(f"{type(self).__name__} index out of range")
        rng = np.random.default_rng(index % self.size + self.random_offset)
        noise = rng.standard_normal(self.image_size).astype(np.float32)
        pixels = (noise * 255).astype(np.int64).astype(np.uint8)  # wraps like Tensor.byte()
        image: Any = Tensor._make(pixels.astype(np.float32) / np.float32(255), False, None)
        target: Any = int(rng.integers(0, self.num_classes))
        return transformed(self, image, target)
