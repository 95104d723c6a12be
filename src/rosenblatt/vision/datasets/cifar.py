"""CIFAR-10 and CIFAR-100 (32x32 colour images) from the binary version or the python version,
the latter read by an unpickler that builds only dicts, lists, strings, numbers and uint8
NumPy arrays: any other object a file asks for is refused, so a crafted file runs nothing.

`dataset[i]` is (image float32 (3, 32, 32) in [0, 1], label int); `.data` holds the uint8
images (N, 32, 32, 3) as torchvision's does, `.targets` the labels (a list).
"""

from __future__ import annotations

import os
import pickle
import tarfile
from pathlib import Path
from typing import Any, Callable, Sequence

from ..._backend import np
from ...autograd.tensor import Tensor
from ...datasets._batching import transformed
from ...datasets.download import data_root, download_url
from ...utils.data import Dataset

__all__ = ["CIFAR10", "CIFAR100", "SafeUnpickler"]


class SafeUnpickler(pickle.Unpickler):
    """Builds plain data only: NumPy arrays (their reconstruct function, ndarray and dtype)
    are the only classes a file may name, and _codecs.encode (protocol-2 pickles made by
    Python 3 spell bytes as encode(str, 'latin1'))."""

    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray",
                                                            "_reconstruct"),
               ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode")}

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}: a CIFAR batch "
                                         "holds only dicts, lists, strings, numbers and arrays")
        return super().find_class(module, name)


def load_batch(path: Path) -> dict:
    """One python-version batch file as a dict with str keys (Python 2 pickles, latin-1)."""
    with open(path, "rb") as f:
        batch = SafeUnpickler(f, encoding="latin1").load()
    if not isinstance(batch, dict):
        raise ValueError(f"{path}: expected a dict, found {type(batch).__name__}")
    for value in batch.values():
        if isinstance(value, np.ndarray) and value.dtype == object:
            raise ValueError(f"{path}: object arrays are not plain data")
    return batch


class CIFAR10(Dataset):
    """CIFAR-10: 50,000 training and 10,000 test images of 10 classes."""

    base_folder = "cifar-10-batches-py"
    binary_folder = "cifar-10-batches-bin"
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    tgz_md5 = "c58f30108f718f92721af3b95e74349a"
    train_list = [f"data_batch_{i}" for i in range(1, 6)]
    test_list = ["test_batch"]
    label_key = "labels"
    label_bytes = 1  # binary version: bytes before each image (CIFAR-100: coarse, fine)
    binary_train, binary_test = [f"data_batch_{i}.bin" for i in range(1, 6)], ["test_batch.bin"]
    meta = {"filename": "batches.meta", "key": "label_names", "text": "batches.meta.txt"}
    default_classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                       "ship", "truck"]

    def __init__(self, root: str | os.PathLike | None = None, train: bool = True,
                 transform: Callable | None = None, target_transform: Callable | None = None,
                 download: bool = False) -> None:
        self.root = data_root("cifar", root)
        self.train, self.transform, self.target_transform = train, transform, target_transform
        if download and not self._found():
            archive = self.root / Path(self.url).name
            download_url(self.url, archive, self.tgz_md5)
            with tarfile.open(archive, "r:gz") as tar:
                tar.extractall(self.root, filter="data")
        if (self.root / self.base_folder).is_dir():
            images, labels, self.classes = self._read_python()
        elif (self.root / self.binary_folder).is_dir():
            images, labels, self.classes = self._read_binary()
        else:
            raise FileNotFoundError(
                f"{type(self).__name__}: neither {self.root / self.base_folder} (python "
                f"version) nor {self.root / self.binary_folder} (binary version) exists; pass "
                "download=True or root= the folder that holds one")
        self.data = images.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)  # (N, 32, 32, 3)
        self.targets = [int(t) for t in labels]
        self.class_to_idx = {c: i for i, c in enumerate(self.classes)}

    def _found(self) -> bool:
        return (self.root / self.base_folder).is_dir() or (self.root / self.binary_folder).is_dir()

    def _read_python(self) -> tuple[Any, Any, list]:
        folder = self.root / self.base_folder
        images, labels = [], []
        for name in self.train_list if self.train else self.test_list:
            batch = load_batch(folder / name)
            images.append(np.asarray(batch["data"], dtype=np.uint8))
            labels.extend(batch[self.label_key])
        meta = folder / self.meta["filename"]
        classes = list(load_batch(meta)[self.meta["key"]]) if meta.is_file() \
            else list(self.default_classes)
        return np.concatenate(images), np.asarray(labels), classes

    def _read_binary(self) -> tuple[Any, Any, list]:
        folder = self.root / self.binary_folder
        records = []
        for name in self.binary_train if self.train else self.binary_test:
            raw = np.fromfile(folder / name, dtype=np.uint8)
            width = self.label_bytes + 3072
            if raw.size % width:
                raise ValueError(f"{folder / name}: {raw.size} bytes is not a whole number of "
                                 f"{width}-byte records")
            records.append(raw.reshape(-1, width))
        table = np.concatenate(records)
        text = folder / self.meta["text"]
        classes = [line for line in text.read_text().splitlines() if line.strip()] \
            if text.is_file() else list(self.default_classes)
        return table[:, self.label_bytes:], table[:, self.label_bytes - 1], classes

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        """(image float32 (3, 32, 32) in [0, 1] or transform(image), label int)."""
        pixels = self.data[index].transpose(2, 0, 1).astype(np.float32) / np.float32(255)
        image: Any = Tensor._make(np.ascontiguousarray(pixels), False, None)
        target: Any = self.targets[index]
        return transformed(self, image, target)

    def __getbatch__(self, indices: Sequence[int]) -> list:
        """[images (B, 3, 32, 32), labels int64 (B,)] when no transform is per-image."""
        if self.transform is not None or self.target_transform is not None:
            from ...utils.data import default_collate

            return default_collate([self[i] for i in indices])
        idx = np.asarray(indices, dtype=np.int64)
        pixels = self.data[idx].transpose(0, 3, 1, 2).astype(np.float32) / np.float32(255)
        images = Tensor._make(np.ascontiguousarray(pixels), False, None)
        labels = Tensor._make(np.asarray(self.targets, dtype=np.int64)[idx], False, None)
        return [images, labels]

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train else 'Test'}"


class CIFAR100(CIFAR10):
    """CIFAR-100: 100 fine classes (labels), grouped in 20 coarse ones."""

    base_folder = "cifar-100-python"
    binary_folder = "cifar-100-binary"
    url = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
    tgz_md5 = "eb9058c3a382ffc7106e4002c42a8d85"
    train_list, test_list = ["train"], ["test"]
    label_key = "fine_labels"
    label_bytes = 2  # coarse label, fine label
    binary_train, binary_test = ["train.bin"], ["test.bin"]
    meta = {"filename": "meta", "key": "fine_label_names", "text": "fine_label_names.txt"}
    default_classes = [str(i) for i in range(100)]
