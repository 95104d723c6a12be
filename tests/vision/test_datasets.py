"""torchvision's data sets: KMNIST/EMNIST file layouts, CIFAR from both versions (the python
one through a restricted unpickler), FakeData, DatasetFolder/ImageFolder's scan."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest

import rosenblatt as rb
from rosenblatt.datasets import write_idx
from rosenblatt.utils.data import DataLoader
from rosenblatt.vision import datasets, transforms


def _idx_pair(folder, image_stem: str, label_stem: str, labels) -> np.ndarray:
    images = np.random.default_rng(0).integers(0, 256, (len(labels), 28, 28), dtype=np.uint8)
    write_idx(folder / f"{image_stem}.gz", images)
    write_idx(folder / label_stem, np.asarray(labels, dtype=np.uint8))
    return images


def test_kmnist_reads_torchvisions_raw_layout(tmp_path) -> None:
    raw = tmp_path / "KMNIST" / "raw"
    raw.mkdir(parents=True)
    images = _idx_pair(raw, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", [3, 9, 0])
    data = datasets.KMNIST(tmp_path, train=False)
    assert len(data) == 3 and data.classes[3] == "tsu"
    image, label = data[1]
    assert label == 9 and image.shape == (1, 28, 28)
    np.testing.assert_allclose(image.numpy()[0], images[1] / 255.0, rtol=1e-6)


def test_emnist_split_files_and_label_range(tmp_path) -> None:
    _idx_pair(tmp_path, "emnist-letters-train-images-idx3-ubyte",
              "emnist-letters-train-labels-idx1-ubyte", [1, 26, 5])
    letters = datasets.EMNIST(tmp_path, split="letters")
    assert [letters[i][1] for i in range(3)] == [1, 26, 5] and len(letters.classes) == 27
    assert letters.classes[26] == "z"
    assert len(datasets.EMNIST.__dict__["splits"]) == 6
    with pytest.raises(ValueError, match="Unknown value"):
        datasets.EMNIST(tmp_path, split="kanji")
    with pytest.raises(FileNotFoundError, match="emnist-digits-test-images"):
        datasets.EMNIST(tmp_path, split="digits", train=False)
    _idx_pair(tmp_path, "emnist-digits-test-images-idx3-ubyte",
              "emnist-digits-test-labels-idx1-ubyte", [1, 12])
    with pytest.raises(ValueError, match="labels must be 0-9"):
        datasets.EMNIST(tmp_path, split="digits", train=False)


def _cifar_images(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, 3072), dtype=np.uint8)


def test_cifar10_python_version(tmp_path) -> None:
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    batches = []
    for i in range(1, 6):
        batch = {"data": _cifar_images(4, i), "labels": [i, 0, 9, 2],
                 "batch_label": f"training batch {i} of 5"}
        (folder / f"data_batch_{i}").write_bytes(pickle.dumps(batch, protocol=2))
        batches.append(batch)
    (folder / "test_batch").write_bytes(pickle.dumps({"data": _cifar_images(2, 9),
                                                      "labels": [1, 1]}, protocol=2))
    names = ["plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": names}, protocol=2))
    train = datasets.CIFAR10(tmp_path)
    assert len(train) == 20 and train.classes == names and train.data.shape == (20, 32, 32, 3)
    image, label = train[4]
    assert label == 2 and image.shape == (3, 32, 32)
    np.testing.assert_allclose(image.numpy(), batches[1]["data"][0].reshape(3, 32, 32) / 255.0,
                               rtol=1e-6)
    assert len(datasets.CIFAR10(tmp_path, train=False)) == 2
    images, labels = next(iter(DataLoader(train, batch_size=8)))
    assert images.shape == (8, 3, 32, 32) and labels.tolist() == [1, 0, 9, 2, 2, 0, 9, 2]


class _Boom:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_cifar_python_files_cannot_run_code(tmp_path) -> None:
    folder = tmp_path / "cifar-100-python"
    folder.mkdir()
    (folder / "train").write_bytes(pickle.dumps({"data": _Boom(), "fine_labels": []}))
    with pytest.raises(pickle.UnpicklingError, match="refusing to load .*system"):
        datasets.CIFAR100(tmp_path)


def test_cifar100_binary_version(tmp_path) -> None:
    folder = tmp_path / "cifar-100-binary"
    folder.mkdir()
    images = _cifar_images(3, 1)
    records = np.concatenate([np.array([[4, 40], [1, 99], [0, 7]], np.uint8), images], axis=1)
    records.tofile(folder / "test.bin")
    test = datasets.CIFAR100(tmp_path, train=False, transform=transforms.Normalize([0.5] * 3,
                                                                                   [0.5] * 3))
    assert test.targets == [40, 99, 7] and len(test.classes) == 100
    image, _ = test[2]
    np.testing.assert_allclose(image.numpy(), images[2].reshape(3, 32, 32) / 127.5 - 1, atol=1e-6)
    (folder / "test.bin").write_bytes(b"\x00" * 3075)
    with pytest.raises(ValueError, match="whole number of 3074-byte records"):
        datasets.CIFAR100(tmp_path, train=False)


def test_cifar_missing_says_what_it_looked_for(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="cifar-10-batches-py.*download=True"):
        datasets.CIFAR10(tmp_path)


def test_fake_data_is_the_same_for_the_same_index() -> None:
    data = datasets.FakeData(size=5, image_size=(3, 8, 6), num_classes=4,
                             transform=transforms.Compose([transforms.Resize(4),
                                                           transforms.ToTensor()]))
    first, label = data[2]
    again, label_again = data[2]
    assert first.shape == (3, 5, 4) and rb.equal(first, again) and label == label_again
    assert 0 <= label < 4 and len(data) == 5
    assert not rb.equal(data[1][0], first)
    with pytest.raises(IndexError):
        data[5]


def test_image_folder_scans_as_torchvision(tmp_path) -> None:
    image = pytest.importorskip("PIL.Image")
    for cls, count in (("cat", 2), ("dog", 1)):
        (tmp_path / cls / "sub").mkdir(parents=True)
        for k in range(count):
            pixels = np.full((4, 5, 3), 40 * k, dtype=np.uint8)
            image.fromarray(pixels).save(tmp_path / cls / f"{k}.PNG")
        (tmp_path / cls / "notes.txt").write_text("not an image")
    image.fromarray(np.zeros((4, 5, 3), np.uint8)).save(tmp_path / "dog" / "sub" / "x.jpg")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no valid file for the classes empty"):
        datasets.ImageFolder(tmp_path)
    data = datasets.ImageFolder(tmp_path, allow_empty=True)
    assert data.classes == ["cat", "dog", "empty"] and data.targets == [0, 0, 1, 1]
    assert [os.path.relpath(p, tmp_path) for p, _ in data.imgs] == [
        "cat/0.PNG", "cat/1.PNG", "dog/0.PNG", os.path.join("dog", "sub", "x.jpg")]
    sample, target = data[1]
    assert sample.shape == (3, 4, 5) and target == 0
    np.testing.assert_allclose(sample.numpy(), 40 / 255, rtol=1e-6)
    texts = datasets.DatasetFolder(tmp_path, loader=lambda p: Path(p).read_text(),
                                   extensions=(".txt",), allow_empty=True)
    assert [s for s, _ in texts] == ["not an image", "not an image"]


def test_ten_class_sets_refuse_other_labels(tmp_path) -> None:
    _idx_pair(tmp_path, "train-images-idx3-ubyte", "train-labels-idx1-ubyte", [10])
    with pytest.raises(ValueError, match="labels must be 0-9"):
        datasets.KMNIST(tmp_path)
