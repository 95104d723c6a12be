"""scikit-learn's digits with a seeded split; the moons and XOR generators."""

import numpy as np
from sklearn.datasets import load_digits, make_moons

import rosenblatt as rb
from rosenblatt.datasets import Digits, moons, xor
from rosenblatt.utils.data import DataLoader


def test_digits_split_is_a_seeded_partition():
    train, test = Digits(train=True), Digits(train=False)
    reference = load_digits()
    assert len(train) + len(test) == 1797
    assert abs(len(test) - 0.2 * 1797) <= 10
    # the union of both parts is the whole data set (compare as sorted rows)
    ours = np.concatenate([train.data.numpy(), test.data.numpy()]).reshape(1797, -1)
    both = np.concatenate([ours, np.concatenate([train.targets.numpy(),
                                                 test.targets.numpy()])[:, None]], 1)
    ref = np.concatenate([reference.data, reference.target[:, None]], 1).astype(np.int64)
    np.testing.assert_array_equal(np.unique(both, axis=0), np.unique(ref, axis=0))
    assert sorted(map(tuple, both.tolist())) == sorted(map(tuple, ref.tolist()))
    # stratified: every class has about 20% in the test part
    share = np.bincount(test.targets.numpy(), minlength=10) / np.bincount(reference.target)
    assert np.all(np.abs(share - 0.2) < 0.02)
    again = Digits(train=False)
    np.testing.assert_array_equal(again.targets.numpy(), test.targets.numpy())
    other = Digits(train=False, seed=1)
    assert not np.array_equal(other.data.numpy(), test.data.numpy())


def test_digits_items_and_batches():
    ds = Digits(train=False, test_fraction=0.5)
    assert abs(len(ds) - 898) <= 10
    image, label = ds[0]
    assert image.shape == (1, 8, 8) and image.dtype == rb.float32 and isinstance(label, int)
    np.testing.assert_allclose(image.numpy()[0], ds.data.numpy()[0] / 16)
    assert image.numpy().max() <= 1.0 and image.numpy().min() >= 0.0
    images, labels = next(iter(DataLoader(ds, batch_size=5)))
    assert images.shape == (5, 1, 8, 8) and labels.tolist() == ds.targets[:5].tolist()


def test_moons_match_sklearn_without_noise():
    X, y = moons(101, noise=0.0, shuffle=False)
    Xs, ys = make_moons(101, noise=0.0, shuffle=False)
    assert X.dtype == rb.float32 and y.dtype == rb.int64 and X.shape == (101, 2)
    np.testing.assert_allclose(X.numpy(), Xs, atol=1e-6)
    np.testing.assert_array_equal(y.numpy(), ys)


def test_moons_noise_and_seeds():
    X1, y1 = moons(200, noise=0.1, seed=3)
    X2, y2 = moons(200, noise=0.1, seed=3)
    np.testing.assert_array_equal(X1.numpy(), X2.numpy())
    np.testing.assert_array_equal(y1.numpy(), y2.numpy())
    assert np.bincount(y1.numpy()).tolist() == [100, 100]
    X3, _ = moons(200, noise=0.1, seed=4)
    assert not np.allclose(X1.numpy(), X3.numpy())
    rb.manual_seed(7)
    a = moons(50)[0].numpy()
    rb.manual_seed(7)
    np.testing.assert_array_equal(a, moons(50)[0].numpy())
    # noise of std 0.1 around the clean arcs
    clean, labels = moons(2000, noise=0.0, seed=0)
    noisy, labels2 = moons(2000, noise=0.1, seed=0)
    np.testing.assert_array_equal(labels.numpy(), labels2.numpy())
    spread = (noisy.numpy() - clean.numpy()).std()
    assert 0.09 < spread < 0.11


def test_xor_labels():
    X, y = xor(500, noise=0.0, seed=0)
    x = X.numpy()
    np.testing.assert_array_equal(y.numpy(), ((x[:, 0] > 0) != (x[:, 1] > 0)).astype(np.int64))
    assert x.min() >= -1 and x.max() <= 1 and X.dtype == rb.float32
    assert 200 < y.numpy().sum() < 300
    Xn, yn = xor(500, noise=0.05, seed=0)
    np.testing.assert_array_equal(yn.numpy(), y.numpy())
    assert 0 < np.abs(Xn.numpy() - x).max() < 0.5
