"""MNIST and Fashion-MNIST on the real files, plus the missing-file error and downloads."""

import hashlib
import urllib.error

import numpy as np
import pytest

import rosenblatt as rb
from rosenblatt import transforms as T
from rosenblatt.datasets import MNIST, FashionMNIST, download, write_idx
from rosenblatt.utils.data import DataLoader

# the first labels of the official files (published with the data sets)
MNIST_TRAIN_FIRST = [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
MNIST_TEST_FIRST = [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
FASHION_TEST_FIRST = [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]


def test_mnist_train_and_test(data_dir):
    train = MNIST(data_dir / "mnist", train=True)
    test = MNIST(train=False)  # root from $ROSENBLATT_DATA
    assert len(train) == 10000 and len(test) == 10000
    assert train.data.shape == (10000, 28, 28) and train.data.dtype == rb.uint8
    assert train.targets.dtype == rb.int64
    assert train.targets[:10].tolist() == MNIST_TRAIN_FIRST
    assert test.targets[:10].tolist() == MNIST_TEST_FIRST
    counts = np.bincount(test.targets.numpy(), minlength=10)
    assert counts.tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    image, label = train[0]
    assert image.shape == (1, 28, 28) and image.dtype == rb.float32 and label == 5
    assert isinstance(label, int)
    np.testing.assert_array_equal(image.numpy()[0], train.data.numpy()[0] / np.float32(255))
    assert 0.0 == image.numpy().min() and image.numpy().max() == 1.0


def test_mnist_loader_batches_match_items(data_dir):
    test = MNIST(data_dir / "mnist", train=False)
    images, labels = next(iter(DataLoader(test, batch_size=16)))
    assert images.shape == (16, 1, 28, 28) and labels.tolist() == MNIST_TEST_FIRST + [0, 6, 9, 0,
                                                                                     1, 5]
    for i in (0, 7, 15):
        np.testing.assert_array_equal(images.numpy()[i], test[i][0].numpy())
    rb.manual_seed(0)
    seen = np.concatenate([y.numpy() for _, y in DataLoader(test, batch_size=500, shuffle=True)])
    np.testing.assert_array_equal(np.sort(seen), np.sort(test.targets.numpy()))


def test_transforms_per_item_and_per_batch(data_dir):
    norm = T.Compose([T.ToTensor(), T.Normalize((0.1307,), (0.3081,))])
    ds = MNIST(data_dir / "mnist", train=False, transform=norm, target_transform=lambda y: y + 10)
    image, label = ds[3]
    assert label == 10
    raw = ds.data.numpy()[3] / np.float32(255)
    np.testing.assert_allclose(image.numpy()[0], (raw - 0.1307) / 0.3081, rtol=1e-5)
    images, labels = next(iter(DataLoader(ds, batch_size=4)))
    np.testing.assert_allclose(images.numpy()[3], image.numpy(), rtol=1e-6)
    assert labels.tolist() == [17, 12, 11, 10]
    ds.transform = T.Lambda(lambda x: x * 2)  # not batched: applied image by image
    images, _ = next(iter(DataLoader(ds, batch_size=4)))
    np.testing.assert_allclose(images.numpy()[3, 0], raw * 2, rtol=1e-6)


def test_fashion_mnist(data_dir):
    test = FashionMNIST(train=False)
    assert len(test) == 10000 and test.targets[:10].tolist() == FASHION_TEST_FIRST
    assert test.classes[9] == "Ankle boot"
    train = FashionMNIST(data_dir / "fashion-mnist")
    assert len(train) == 60000 and np.bincount(train.targets.numpy()).tolist() == [6000] * 10


def test_missing_files_error_names_the_files(tmp_path):
    with pytest.raises(FileNotFoundError) as info:
        MNIST(tmp_path / "nothing")
    text = str(info.value)
    assert "train-images-idx3-ubyte.gz" in text and str(tmp_path / "nothing") in text
    assert "download=True" in text


def test_corrupt_local_files_are_rejected(tmp_path):
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", np.zeros((3, 28, 28), np.uint8))
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.zeros(4, np.uint8))
    with pytest.raises(ValueError, match="4 labels but .* 3 images"):
        MNIST(tmp_path, train=False)
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", np.zeros((4, 27, 28), np.uint8))
    with pytest.raises(ValueError, match="28 x 28"):
        MNIST(tmp_path, train=False)


def _fake_mirror(folder):
    """A folder of tiny IDX files served through file:// URLs, and their md5s."""
    folder.mkdir()
    rng = np.random.default_rng(0)
    md5 = {}
    for split, n in (("train", 6), ("t10k", 4)):
        write_idx(folder / f"{split}-images-idx3-ubyte.gz",
                  rng.integers(0, 256, (n, 28, 28)).astype(np.uint8))
        write_idx(folder / f"{split}-labels-idx1-ubyte.gz", np.arange(n, dtype=np.uint8))
        for kind in ("images-idx3", "labels-idx1"):
            stem = f"{split}-{kind}-ubyte"
            md5[stem] = hashlib.md5((folder / f"{stem}.gz").read_bytes()).hexdigest()
    return md5


def test_download_from_file_url(tmp_path):
    md5 = _fake_mirror(tmp_path / "mirror")

    class Tiny(MNIST):
        mirrors = ["file:///nonexistent/", (tmp_path / "mirror").as_uri() + "/"]
        resources = md5

    ds = Tiny(tmp_path / "dest", train=False, download=True)
    assert len(ds) == 4 and ds.targets.tolist() == [0, 1, 2, 3]
    assert sorted(p.name for p in (tmp_path / "dest").iterdir()) == [
        "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]

    class WrongSum(Tiny):
        resources = {k: "0" * 32 for k in md5}

    with pytest.raises(RuntimeError, match="md5"):
        WrongSum(tmp_path / "dest2", train=True, download=True)
    assert list((tmp_path / "dest2").iterdir()) == []  # nothing half-written is left


def test_interrupted_download_leaves_no_file(tmp_path, monkeypatch):
    class Broken:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def __init__(self):
            self.calls = 0

        def read(self, n):
            self.calls += 1
            if self.calls > 1:
                raise urllib.error.URLError("connection reset")
            return b"\x1f\x8b partial"

    monkeypatch.setattr(download, "urlopen", lambda request, timeout: Broken())
    with pytest.raises(RuntimeError, match="connection reset"):
        download.download_from_mirrors(["https://example.invalid/"], "f.gz", tmp_path,
                                       verbose=False)
    assert list(tmp_path.iterdir()) == []
