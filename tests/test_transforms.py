"""rosenblatt.transforms: conversions, normalisation and random augmentations."""

import subprocess
import sys

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

import rosenblatt as rb
from rosenblatt import transforms as T


def _image(h=28, w=28, seed=0):
    return np.random.default_rng(seed).random((h, w)).astype(np.float32)


def test_import_does_not_load_scipy():
    code = "import sys, rosenblatt.transforms; print('scipy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_to_tensor_arrays_and_pil():
    hwc = np.random.default_rng(0).integers(0, 256, (5, 6, 3)).astype(np.uint8)
    out = T.ToTensor()(hwc)
    assert out.shape == (3, 5, 6) and out.dtype == rb.float32
    np.testing.assert_allclose(out.numpy(), hwc.transpose(2, 0, 1) / 255.0, rtol=1e-6)
    grey = T.ToTensor()(Image.fromarray(hwc[:, :, 0]))
    assert grey.shape == (1, 5, 6)
    np.testing.assert_allclose(grey.numpy()[0], hwc[:, :, 0] / 255.0, rtol=1e-6)
    rgb = T.ToTensor()(Image.fromarray(hwc))
    np.testing.assert_allclose(rgb.numpy(), out.numpy())
    floats = T.ToTensor()(np.full((2, 2), 3.0, np.float32))
    assert floats.shape == (1, 2, 2) and floats.numpy().max() == 3.0  # no scaling
    t = rb.rand(1, 4, 4)
    assert T.ToTensor()(t) is t
    with pytest.raises(TypeError, match="PIL Image or ndarray"):
        T.ToTensor()([1, 2])


def test_normalize_per_channel_on_images_and_batches():
    x = rb.rand(4, 3, 5, 5)
    mean, std = (0.1, 0.2, 0.3), (0.5, 1.0, 2.0)
    out = T.Normalize(mean, std)(x)
    want = (x.numpy() - np.array(mean)[:, None, None]) / np.array(std)[:, None, None]
    np.testing.assert_allclose(out.numpy(), want, rtol=1e-5)
    single = T.Normalize(mean, std)(x[1])
    np.testing.assert_allclose(single.numpy(), want[1], rtol=1e-5)
    with pytest.raises(ValueError, match="division by zero"):
        T.Normalize((0.0,), (0.0,))(rb.rand(1, 2, 2))
    with pytest.raises(TypeError, match="float tensor"):
        T.Normalize((0.0,), (1.0,))(rb.zeros(1, 2, 2, dtype=rb.uint8))
    with pytest.raises(ValueError, match=r"\(\.\.\., C, H, W\)"):
        T.Normalize((0.0,), (1.0,))(rb.rand(2, 2))
    y = rb.rand(1, 2, 2, requires_grad=True)
    T.Normalize((0.5,), (0.25,))(y).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), np.full((1, 2, 2), 4.0))
    z = rb.rand(1, 2, 2)
    assert T.Normalize((0.5,), (0.25,), inplace=True)(z) is z


def test_compose_and_lambda():
    tf = T.Compose([T.ToTensor(), T.Lambda(lambda t: t * 2), T.Normalize((1.0,), (1.0,))])
    out = tf(np.full((2, 3), 255, np.uint8))
    np.testing.assert_allclose(out.numpy(), np.ones((1, 2, 3)))
    assert not tf.batched
    assert T.Compose([T.ToTensor(), T.RandomRotation(5)]).batched
    with pytest.raises(TypeError, match="callable"):
        T.Lambda(3)
    assert "Normalize" in repr(tf)


@pytest.mark.parametrize("interpolation,order", [("nearest", 0), ("bilinear", 1),
                                                 ("bicubic", 3)])
@pytest.mark.parametrize("angle", [30.0, -75.0, 90.0])
def test_rotation_matches_scipy_rotate(interpolation, order, angle):
    image = _image()
    out = T.RandomRotation((angle, angle), interpolation=interpolation)(rb.tensor(image[None]))
    want = ndimage.rotate(image, angle, reshape=False, order=order, mode="constant", cval=0.0)
    assert out.shape == (1, 28, 28)
    np.testing.assert_allclose(out.numpy()[0], want, atol=1e-5)


def test_positive_angle_turns_counter_clockwise():
    image = np.zeros((1, 9, 9), np.float32)
    image[0, 4, 7] = 1.0  # right of the centre
    out = T.RandomRotation((90, 90))(rb.tensor(image)).numpy()
    assert np.argwhere(out[0] > 0.5).tolist() == [[1, 4]]  # now above it


def test_random_rotation_per_image_and_seeded():
    batch = rb.tensor(np.repeat(_image()[None, None], 6, axis=0))
    tf = T.RandomRotation(45, interpolation="bilinear", fill=0.0)
    rb.manual_seed(11)
    a = tf(batch).numpy()
    rb.manual_seed(11)
    b = tf(batch).numpy()
    np.testing.assert_array_equal(a, b)
    assert a.shape == (6, 1, 28, 28) and a.dtype == np.float32
    assert len({a[i].tobytes() for i in range(6)}) == 6  # a different angle for each image
    assert np.array_equal(T.RandomRotation(0)(batch).numpy(), batch.numpy())
    with pytest.raises(ValueError, match="positive"):
        T.RandomRotation(-3)


def test_random_affine_translation_is_a_whole_pixel_shift():
    image = _image(20, 20, seed=1)
    rb.manual_seed(2)
    tf = T.RandomAffine(0, translate=(0.2, 0.2))
    for _ in range(5):
        out = tf(rb.tensor(image[None])).numpy()[0]
        matches = []
        for dy in range(-4, 5):
            for dx in range(-4, 5):
                shifted = ndimage.shift(image, (dy, dx), order=0, mode="constant", cval=0.0)
                if np.array_equal(out, shifted):
                    matches.append((dy, dx))
        assert len(matches) == 1


def test_random_affine_scale_about_the_centre():
    image = _image(15, 15, seed=2)
    out = T.RandomAffine(0, scale=(2.0, 2.0), interpolation="bilinear")(rb.tensor(image[None]))
    centre = np.array([7.0, 7.0])
    want = ndimage.affine_transform(image, np.eye(2) * 0.5, centre - 0.5 * centre, order=1)
    np.testing.assert_allclose(out.numpy()[0], want, atol=1e-5)
    assert out.numpy()[0, 7, 7] == pytest.approx(image[7, 7])


def test_random_affine_rotation_scale_shear_against_an_inverted_matrix():
    image = _image(17, 17, seed=3)
    angle, scale, shear = 25.0, 1.3, 12.0
    tf = T.RandomAffine((angle, angle), scale=(scale, scale), shear=(shear, shear),
                        interpolation="bilinear")
    out = tf(rb.tensor(image[None])).numpy()[0]
    a, sh = np.radians(angle), np.tan(np.radians(shear))
    rot = np.array([[np.cos(a), np.sin(a)], [-np.sin(a), np.cos(a)]])  # (x, y), y down
    forward = scale * rot @ np.array([[1.0, sh], [0.0, 1.0]])
    inv = np.linalg.inv(forward)[::-1, ::-1]  # to (row, col)
    centre = np.array([8.0, 8.0])
    want = ndimage.affine_transform(image, inv, centre - inv @ centre, order=1)
    np.testing.assert_allclose(out, want, atol=1e-5)


def test_random_affine_everything_keeps_shape_and_range():
    x = rb.rand(8, 1, 28, 28)
    tf = T.RandomAffine(15, translate=(0.1, 0.1), scale=(0.9, 1.1), shear=10,
                        interpolation="bilinear")
    out = tf(x).numpy()
    assert out.shape == (8, 1, 28, 28) and out.min() >= 0.0 and out.max() <= 1.0 + 1e-6
    assert not np.allclose(out, x.numpy())
    with pytest.raises(ValueError, match="translate"):
        T.RandomAffine(0, translate=(1.5, 0))


def test_random_crop_is_a_window_of_the_padded_image():
    image = _image(10, 10)
    padded = np.pad(image, 2)
    rb.manual_seed(5)
    outs = T.RandomCrop(10, padding=2)(rb.tensor(np.repeat(image[None, None], 12, 0))).numpy()
    offsets = set()
    for out in outs:
        found = [(i, j) for i in range(5) for j in range(5)
                 if np.array_equal(out[0], padded[i:i + 10, j:j + 10])]
        assert found
        offsets.add(found[0])
    assert len(offsets) > 1
    small = T.RandomCrop(4)(rb.tensor(image[None]))
    assert small.shape == (1, 4, 4)
    grown = T.RandomCrop(12, pad_if_needed=True)(rb.tensor(image[None]))
    assert grown.shape == (1, 12, 12)
    with pytest.raises(ValueError, match="larger than input image size"):
        T.RandomCrop(11)(rb.tensor(image[None]))
    edge = T.RandomCrop(14, padding=2, padding_mode="edge")(rb.tensor(image))
    np.testing.assert_array_equal(edge.numpy(), np.pad(image, 2, mode="edge"))


def test_center_crop():
    image = _image(9, 8)
    out = T.CenterCrop((5, 4))(rb.tensor(image[None]))
    np.testing.assert_array_equal(out.numpy()[0], image[2:7, 2:6])


def test_flips():
    x = rb.rand(200, 1, 4, 5)
    np.testing.assert_array_equal(T.RandomHorizontalFlip(1.0)(x).numpy(), x.numpy()[..., ::-1])
    np.testing.assert_array_equal(T.RandomVerticalFlip(1.0)(x).numpy(), x.numpy()[..., ::-1, :])
    np.testing.assert_array_equal(T.RandomHorizontalFlip(0.0)(x).numpy(), x.numpy())
    out = T.RandomHorizontalFlip(0.5)(x).numpy()
    flipped = [np.array_equal(o, i[..., ::-1]) for o, i in zip(out, x.numpy())]
    same = [np.array_equal(o, i) for o, i in zip(out, x.numpy())]
    assert all(f or s for f, s in zip(flipped, same))
    assert 60 < sum(flipped) < 140


def test_gaussian_noise():
    x = rb.full((50, 1, 20, 20), 0.5)
    noisy = T.GaussianNoise(0.1)(x).numpy()
    assert abs((noisy - 0.5).std() - 0.1) < 0.005 and abs((noisy - 0.5).mean()) < 0.005
    clipped = T.AddGaussianNoise(std=2.0, clip=True)(x).numpy()
    assert clipped.min() == 0.0 and clipped.max() == 1.0
    with pytest.raises(TypeError, match="float"):
        T.GaussianNoise(0.1)(rb.zeros(1, 2, 2, dtype=rb.uint8))


def test_pipeline_is_deterministic_under_manual_seed_and_keeps_forms():
    tf = T.Compose([T.RandomAffine(10, translate=(0.1, 0.1), scale=(0.9, 1.1)),
                    T.RandomCrop(28, padding=2), T.RandomHorizontalFlip(),
                    T.GaussianNoise(0.05), T.Normalize((0.1307,), (0.3081,))])
    x = rb.rand(16, 1, 28, 28)
    rb.manual_seed(9)
    a = tf(x).numpy()
    rb.manual_seed(9)
    b = tf(x).numpy()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, tf(x).numpy())
    assert tf(rb.rand(1, 28, 28)).shape == (1, 28, 28)
    hw = T.RandomRotation(10)(np.zeros((6, 7), np.float32))
    assert isinstance(hw, np.ndarray) and hw.shape == (6, 7)
    ints = T.RandomRotation(10)(rb.zeros(2, 3, 8, 8, dtype=rb.uint8))
    assert ints.dtype == rb.uint8 and ints.shape == (2, 3, 8, 8)
