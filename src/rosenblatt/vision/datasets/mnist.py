"""MNIST's relatives with torchvision's names: KMNIST (Kuzushiji) and EMNIST (letters and
digits, six splits), read from IDX files like MNIST and FashionMNIST (re-exported here)."""

from __future__ import annotations

import os
import string
from typing import Any, Callable

from ...datasets.mnist import MNIST, FashionMNIST, idx_md5s

__all__ = ["MNIST", "FashionMNIST", "KMNIST", "EMNIST"]


class KMNIST(MNIST):
    """Kuzushiji-MNIST: 28x28 images of ten cursive Japanese (hiragana) characters."""

    folder = "kmnist"
    mirrors = ["http://codh.rois.ac.jp/kmnist/dataset/kmnist/"]
    resources = idx_md5s("bdb82020997e1d708af4cf47b453dcf7", "e144d726b3acfaa3e44228e80efcd344",
                         "5c965bf0a639b31b8f53240b1b52f4d7", "7320c461ea6c1c855c0b718fb2a4b134")
    classes = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]


_MERGED = set("cijklmopsuvwxyz")  # lowercase letters EMNIST's merged splits fold into uppercase
_LETTERS = list(string.digits + string.ascii_uppercase + string.ascii_lowercase)
_SPLIT_CLASSES = {
    "byclass": _LETTERS,
    "bymerge": [c for c in _LETTERS if c not in _MERGED],
    "balanced": [c for c in _LETTERS if c not in _MERGED],
    "letters": ["N/A", *string.ascii_lowercase],
    "digits": list(string.digits),
    "mnist": list(string.digits),
}


class EMNIST(MNIST):
    """EMNIST (Cohen et al., 2017): `split` one of byclass, bymerge, balanced, letters,
    digits, mnist; files `emnist-{split}-{train,test}-{images-idx3,labels-idx1}-ubyte[.gz]`
    in root or root/EMNIST/raw. The images are kept as stored (transposed, as torchvision
    keeps them). Not downloaded: NIST publishes one 560 MB zip of every split."""

    folder = "emnist"
    splits = tuple(_SPLIT_CLASSES)
    mirrors = ["https://biometrics.nist.gov/cs_links/EMNIST/"]
    resources: dict[str, str] = {}

    def __init__(self, root: str | os.PathLike | None = None, split: str = "balanced",
                 train: bool = True, transform: Callable | None = None,
                 target_transform: Callable | None = None, download: bool = False) -> None:
        if split not in _SPLIT_CLASSES:
            raise ValueError(f'Unknown value "{split}" for argument split. Valid values are '
                             f'{{{", ".join(repr(s) for s in self.splits)}}}.')
        self.split = split
        self.classes = _SPLIT_CLASSES[split]
        super().__init__(root, train, transform, target_transform, download=False)

    def _stems(self, train: bool) -> tuple[str, str]:
        part = "train" if train else "test"
        return (f"emnist-{self.split}-{part}-images-idx3-ubyte",
                f"emnist-{self.split}-{part}-labels-idx1-ubyte")

    def _find(self, stem: str, download: bool) -> Any:
        return super()._find(stem, False)
