"""MNIST and Fashion-MNIST, read from their IDX files (torchvision's classes, without PIL).

`dataset[i]` is `(image, label)`: the image a float32 tensor (1, 28, 28) in [0, 1] (the
uint8 pixels / 255), the label an int. A `transform` receives that tensor (not a PIL image
as in torchvision; `transforms.ToTensor()` passes it through, so torchvision-style
pipelines work unchanged). `.data` (uint8, N x 28 x 28) and `.targets` (int64, N) hold
the whole split, and the DataLoader reads batches from them directly.

Files are looked for in `root` (default $ROSENBLATT_DATA/mnist or .../fashion-mnist) as
`train-images-idx3-ubyte.gz` (or without .gz, or in torchvision's `MNIST/raw/` layout).
Local files are checked by structure (magic numbers, 28x28 images, as many labels as
images, labels 0-9), so a subset or recompressed copy is accepted; downloaded files are
checked against the published md5.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Sequence

from .._backend import np
from ..autograd.tensor import Tensor
from ..utils.data import Dataset
from ._batching import image_batch, transformed
from .download import data_root, download_from_mirrors
from .idx import IDXError, read_idx

__all__ = ["MNIST", "FashionMNIST"]


# the four IDX files of an MNIST-like data set (without .gz): train images and labels, then test
IDX_STEMS = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
             "t10k-labels-idx1-ubyte")


def idx_md5s(*md5s: str) -> dict[str, str]:
    """{file stem: md5 of the published .gz} from the four md5s in IDX_STEMS' order."""
    return dict(zip(IDX_STEMS, md5s, strict=True))


def images_to_float(images: Any) -> Tensor:
    """uint8 images (N, H, W) or (H, W) -> float32 tensor (N, 1, H, W) or (1, H, W) / 255."""
    array = images.astype(np.float32) / np.float32(255)
    return Tensor._make(array[..., None, :, :], False, None)


class MNIST(Dataset):
    """The MNIST handwritten digits (28x28 grey images, labels 0-9)."""

    folder = "mnist"
    mirrors = [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ]
    resources = idx_md5s("f68b3c2dcbeaaa9fbdd348bbdeb94873", "d53e105ee54ea40749a09fcbcd1e9432",
                         "9fb629c4189551a2d022fa330f9573f3", "ec29112dd5afa0611ce80d1b7f02629c")
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five",
               "6 - six", "7 - seven", "8 - eight", "9 - nine"]

    def __init__(self, root: str | os.PathLike | None = None, train: bool = True,
                 transform: Callable | None = None, target_transform: Callable | None = None,
                 download: bool = False) -> None:
        self.root = data_root(self.folder, root)
        self.train = train
        self.transform = transform
        self.target_transform = target_transform
        image_stem, label_stem = self._stems(train)
        image_file = self._find(image_stem, download)
        label_file = self._find(label_stem, download)
        images, labels = read_idx(image_file), read_idx(label_file)
        self._check(images, labels, image_file, label_file)
        self.data = Tensor._make(images, False, None)
        self.targets = Tensor._make(labels.astype(np.int64), False, None)

    # ------------------------------------------------------------------ files
    def _stems(self, train: bool) -> tuple[str, str]:
        """The IDX file names (without .gz) of the split's images and labels."""
        images, labels = IDX_STEMS[:2] if train else IDX_STEMS[2:]
        return images, labels

    def _candidates(self, stem: str) -> list[Path]:
        raw = self.root / type(self).__name__ / "raw"
        return [self.root / f"{stem}.gz", self.root / stem, raw / f"{stem}.gz", raw / stem]

    def _find(self, stem: str, download: bool) -> Path:
        for path in self._candidates(stem):
            if path.is_file():
                return path
        if download:
            return download_from_mirrors(self.mirrors, f"{stem}.gz", self.root,
                                         self.resources[stem])
        looked = "\n  ".join(str(p) for p in self._candidates(stem))
        raise FileNotFoundError(
            f"{type(self).__name__}: {stem} not found; looked for:\n  {looked}\n"
            f"Pass download=True to fetch it from {self.mirrors[0]}, pass root= the folder "
            f"holding the IDX files, or set ROSENBLATT_DATA to a folder with {self.folder}/ "
            "inside."
        )

    def _check(self, images: Any, labels: Any, image_file: Path, label_file: Path) -> None:
        if images.ndim != 3 or images.shape[1:] != (28, 28) or images.dtype != np.uint8:
            raise IDXError(f"{image_file}: expected uint8 images N x 28 x 28, "
                           f"found {images.dtype} {list(images.shape)}")
        if labels.ndim != 1 or labels.dtype != np.uint8:
            raise IDXError(f"{label_file}: expected a uint8 vector of labels, "
                           f"found {labels.dtype} {list(labels.shape)}")
        if len(labels) != len(images):
            raise IDXError(f"{label_file} has {len(labels)} labels but {image_file} has "
                           f"{len(images)} images")
        top = len(self.classes) - 1
        if labels.size and labels.max() > top:
            raise IDXError(f"{label_file}: labels must be 0-{top}, found {int(labels.max())}")

    # ---------------------------------------------------------------- samples
    def __len__(self) -> int:
        return int(self.data._data.shape[0])

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        """(image float32 (1, 28, 28) in [0, 1] or transform(image), label int)."""
        image: Any = images_to_float(self.data._data[index])
        target: Any = int(self.targets._data[index])
        return transformed(self, image, target)

    def __getbatch__(self, indices: Sequence[int]) -> list:
        """[images (B, 1, 28, 28), labels int64 (B,)]: what default_collate would make."""
        return image_batch(self, indices, images_to_float)

    @property
    def class_to_idx(self) -> dict[str, int]:
        """Class name -> label."""
        return {name: i for i, name in enumerate(self.classes)}

    def __repr__(self) -> str:
        return (f"Dataset {type(self).__name__}\n    Number of datapoints: {len(self)}\n"
                f"    Root location: {self.root}\n    Split: {'Train' if self.train else 'Test'}")


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: 28x28 grey images of 10 kinds of clothing."""

    folder = "fashion-mnist"
    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    resources = idx_md5s("8d4fb7e6c68d591d4c3dfef9ec88bf0d", "25c81989df183df01b3e8a0aad5dffbe",
                         "bef4ecab320f06d8554ea6380940ec79", "bb300cfdad3c16e7a12a480ee83cd310")
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]
