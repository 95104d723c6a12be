"""DatasetFolder and ImageFolder: one sub-folder per class (root/dog/xxx.png), torchvision's
scan (sorted classes, sorted files, extension filter), loader and names.

ImageFolder's default loader gives float tensors (3, H, W) in [0, 1] rather than PIL images,
like the other data sets here (`transforms.ToTensor()` passes them through); `pil_loader`
is torchvision's, for a `loader=` that wants PIL. Reading images needs Pillow.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Sequence

from ..._backend import np
from ...autograd.tensor import Tensor
from ...datasets._batching import transformed
from ...utils.data import Dataset

__all__ = ["DatasetFolder", "ImageFolder", "IMG_EXTENSIONS", "default_loader", "pil_loader",
           "find_classes", "make_dataset", "has_file_allowed_extension"]

IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


def has_file_allowed_extension(filename: str, extensions: str | Sequence[str]) -> bool:
    """Whether filename ends with one of the extensions (case-insensitive)."""
    ends = extensions if isinstance(extensions, str) else tuple(extensions)
    return filename.lower().endswith(ends)


def find_classes(directory: str | os.PathLike) -> tuple[list[str], dict[str, int]]:
    """The class folders of directory, sorted, and their indices."""
    classes = sorted(entry.name for entry in os.scandir(directory) if entry.is_dir())
    if not classes:
        raise FileNotFoundError(f"Couldn't find any class folder in {directory}.")
    return classes, {name: i for i, name in enumerate(classes)}


def make_dataset(directory: str | os.PathLike, class_to_idx: dict[str, int] | None = None,
                 extensions: str | Sequence[str] | None = None,
                 is_valid_file: Callable[[str], bool] | None = None,
                 allow_empty: bool = False) -> list[tuple[str, int]]:
    """(path, class index) of every accepted file under each class folder, in sorted order."""
    directory = os.path.expanduser(directory)
    if class_to_idx is None:
        _, class_to_idx = find_classes(directory)
    if (extensions is None) == (is_valid_file is None):
        raise ValueError("Both extensions and is_valid_file cannot be None or not None at the "
                         "same time")
    if is_valid_file is None:
        def is_valid_file(path: str) -> bool:
            return has_file_allowed_extension(path, extensions)  # type: ignore[arg-type]
    samples, found = [], set()
    for name in sorted(class_to_idx):
        folder = os.path.join(directory, name)
        if not os.path.isdir(folder):
            continue
        for walk_root, _, files in sorted(os.walk(folder, followlinks=True)):
            for file in sorted(files):
                path = os.path.join(walk_root, file)
                if is_valid_file(path):
                    samples.append((path, class_to_idx[name]))
                    found.add(name)
    empty = set(class_to_idx) - found
    if empty and not allow_empty:
        hint = f"Supported extensions are: {extensions}" if extensions is not None else ""
        raise FileNotFoundError(f"Found no valid file for the classes {', '.join(sorted(empty))}. "
                                f"{hint}")
    return samples


def pil_loader(path: str | os.PathLike) -> Any:
    """The image at path as an RGB PIL image (torchvision's loader)."""
    from PIL import Image  # optional extra 'images'

    with open(path, "rb") as f:
        return Image.open(f).convert("RGB")


def default_loader(path: str | os.PathLike) -> Tensor:
    """The image at path as a float tensor (3, H, W) in [0, 1] (RGB)."""
    pixels = np.asarray(pil_loader(path), dtype=np.float32) / np.float32(255)
    return Tensor._make(np.ascontiguousarray(pixels.transpose(2, 0, 1)), False, None)


class DatasetFolder(Dataset):
    """Samples in root/<class>/.../<file>: (loader(path) or transform(it), class index)."""

    def __init__(self, root: str | os.PathLike, loader: Callable[[str], Any],
                 extensions: Sequence[str] | None = None, transform: Callable | None = None,
                 target_transform: Callable | None = None,
                 is_valid_file: Callable[[str], bool] | None = None,
                 allow_empty: bool = False) -> None:
        self.root = str(Path(root).expanduser())
        self.transform, self.target_transform = transform, target_transform
        self.classes, self.class_to_idx = self.find_classes(self.root)
        self.samples = self.make_dataset(self.root, self.class_to_idx, extensions, is_valid_file,
                                         allow_empty)
        self.loader = loader
        self.extensions = extensions
        self.targets = [target for _, target in self.samples]

    @staticmethod
    def make_dataset(directory: str, class_to_idx: dict[str, int],
                     extensions: Sequence[str] | None = None,
                     is_valid_file: Callable[[str], bool] | None = None,
                     allow_empty: bool = False) -> list[tuple[str, int]]:
        """(path, class index) pairs (override to change the scan)."""
        return make_dataset(directory, class_to_idx, extensions, is_valid_file, allow_empty)

    def find_classes(self, directory: str) -> tuple[list[str], dict[str, int]]:
        """Class names and indices (override to change which folders are classes)."""
        return find_classes(directory)

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        """(loaded sample or transform(it), class index or target_transform(it))."""
        path, target = self.samples[index]
        sample = self.loader(path)
        return transformed(self, sample, target)


class ImageFolder(DatasetFolder):
    """Images in root/<class>/<image>.png (jpg, bmp, ...), as float tensors (3, H, W)."""

    def __init__(self, root: str | os.PathLike, transform: Callable | None = None,
                 target_transform: Callable | None = None,
                 loader: Callable[[str], Any] = default_loader,
                 is_valid_file: Callable[[str], bool] | None = None,
                 allow_empty: bool = False) -> None:
        super().__init__(root, loader, IMG_EXTENSIONS if is_valid_file is None else None,
                         transform, target_transform, is_valid_file, allow_empty)
        self.imgs = self.samples
