"""Pre-processing: grey levels, ink, segmentation (count, order, touching, broken), 28x28."""

import io

import numpy as np
import pytest
from PIL import Image

from rosenblatt.apps.digits.preprocess import (
    PAIR_SHAPE,
    _edge_pad,
    _grow,
    _reduce3x3,
    deskew,
    ink_map,
    normalize_digit,
    normalize_pair,
    preprocess_digit,
    preprocess_field,
    to_gray,
)
from rosenblatt.apps.digits.synth import FieldSynth, make_fields, mnist_test_half


def _in_order(seg, field) -> bool:
    """Each found digit's centre lies in the ground-truth box of the digit at its position."""
    if len(seg.boxes) != len(field.boxes):
        return False
    for found, truth in zip(seg.boxes, field.boxes):
        cx = (found[0] + found[2]) / 2 / seg.scale
        if not truth[0] - 1 <= cx <= truth[2] + 1:
            return False
    return True


def test_synthetic_fields_give_five_digits_in_order():
    fields = make_fields(60, part="calibration", seed=21)
    ok = [_in_order(preprocess_field(f.image), f) for f in fields]
    assert np.mean(ok) >= 0.9, f"right count and order on {np.mean(ok):.2%} of fields"


def test_touching_digits_are_split():
    images, labels = mnist_test_half("calibration")
    synth = FieldSynth(images, labels, seed=5, p_touch=1.0, p_break=0.0)
    fields = [synth.sample() for _ in range(40)]
    assert all(f.touching for f in fields)
    ok = [_in_order(preprocess_field(f.image), f) for f in fields]
    assert np.mean(ok) >= 0.85, f"touching pairs cut right on {np.mean(ok):.2%} of fields"


def test_touching_pair_built_by_hand_is_cut_between_the_digits():
    images, labels = mnist_test_half("calibration")
    zero = images[np.nonzero(labels == 0)[0][0]].astype(np.float32) / 255
    four = images[np.nonzero(labels == 4)[0][0]].astype(np.float32) / 255
    ink = np.zeros((40, 70), np.float32)
    ink[6:34, 4:32] = zero
    # shift the 4 left until its strokes overlap the 0's by one column somewhere
    cols0 = np.nonzero(zero.max(axis=0) > 0.5)[0]
    cols4 = np.nonzero(four.max(axis=0) > 0.5)[0]
    left = 4 + cols0[-1] - cols4[0]
    ink[6:34, left : left + 28] = np.maximum(ink[6:34, left : left + 28], four)
    paper = (255 * (1 - 0.9 * ink)).astype(np.uint8)
    seg = preprocess_field(paper, expected=None)
    assert len(seg.boxes) == 2
    cut = seg.boxes[0][2]
    assert 4 + cols0[-1] - 6 <= cut <= left + cols4[0] + 6


def test_broken_stroke_is_merged():
    images, labels = mnist_test_half("calibration")
    seven = images[np.nonzero(labels == 7)[0][0]].astype(np.float32) / 255
    broken = seven.copy()
    rows = np.nonzero(seven.max(axis=1) > 0.3)[0]
    middle = (rows[0] + rows[-1]) // 2
    broken[middle : middle + 2] = 0.0  # a pen lift across the digit
    paper = (255 * (1 - np.pad(broken, 10))).astype(np.uint8)
    seg = preprocess_field(paper, expected=None)
    assert len(seg.boxes) == 1


@pytest.mark.parametrize("kind", ["white", "tinted_gradient_noise"])
def test_blank_image_has_no_ink(kind):
    rng = np.random.default_rng(0)
    if kind == "white":
        image = np.full((50, 160), 255, np.uint8)
    else:
        x = np.linspace(0.7, 1.0, 160)[None, :, None]
        tint = np.array([1.0, 0.95, 0.85])
        image = 230 * x * tint + rng.normal(0, 3, (50, 160, 3))
        image = np.clip(image, 0, 255).astype(np.uint8)
    seg = preprocess_field(image)
    assert seg.no_ink and seg.inputs.shape == (0, 1, 28, 28)
    assert preprocess_digit(image).no_ink


def test_normalized_digit_follows_the_mnist_convention():
    images, _ = mnist_test_half("calibration")
    for img in images[:20]:
        ink = np.zeros((70, 70), np.float32)
        ink[5:61, 9:65] = np.kron(img.astype(np.float32) / 255, np.ones((2, 2)))
        out = normalize_digit(ink)
        assert out.shape == (28, 28) and out.dtype == np.float32
        assert 0 <= out.min() and out.max() <= 1.0 and out.max() > 0.9
        ys, xs = np.nonzero(out > 0.05)
        assert max(ys.max() - ys.min(), xs.max() - xs.min()) + 1 <= 21  # fitted in 20x20
        cy = (out.sum(1) * np.arange(28)).sum() / out.sum()
        cx = (out.sum(0) * np.arange(28)).sum() / out.sum()
        assert abs(cy - 14) <= 0.5 and abs(cx - 14) <= 0.5  # MNIST: centre of mass at (14, 14)
        ys, xs = np.nonzero(ink > 0.05)  # the same digit cropped to its ink reads the same
        tight = ink[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]
        np.testing.assert_array_equal(normalize_digit(tight), out)
    assert not normalize_digit(np.zeros((9, 7), np.float32)).any()


def test_normalized_pair_keeps_its_aspect_and_centres_its_mass():
    """Two digits side by side -> 28x48: 20 rows high (or 44 columns wide when wider), the
    centre of mass at (14, 24), the strokes scaled to ~1 whatever their darkness."""
    images, _ = mnist_test_half("calibration")
    for a, b, dark in ((0, 1, 1.0), (2, 3, 0.4), (4, 5, 0.7)):
        pair = np.concatenate([images[a], images[b]], axis=1).astype(np.float32) / 255 * dark
        out = normalize_pair(pair)
        assert out.shape == PAIR_SHAPE and out.dtype == np.float32
        assert 0 <= out.min() and 0.9 < out.max() <= 1.0
        ys, xs = np.nonzero(out > 0.05)
        assert ys.max() - ys.min() + 1 <= 21 and xs.max() - xs.min() + 1 <= 45
        assert ys.max() - ys.min() + 1 >= 18 or xs.max() - xs.min() + 1 >= 42  # fills the box
        cy = (out.sum(1) * np.arange(28)).sum() / out.sum()
        cx = (out.sum(0) * np.arange(48)).sum() / out.sum()
        assert abs(cy - 14) <= 0.5
        # centred unless the ink would leave the canvas (as MNIST's own placement)
        assert abs(cx - 24) <= 0.5 or xs.min() == 0 or xs.max() == 47
    assert not normalize_pair(np.zeros((10, 30), np.float32)).any()  # no ink: all zero


def test_a_touching_pair_cut_in_two_is_also_kept_whole():
    """Every way that cuts one blob into two digits points at that blob normalized whole;
    fields without touching digits have none."""
    images, labels = mnist_test_half("calibration")
    synth = FieldSynth(images, labels, seed=5, p_touch=1.0)
    found = 0
    for field in (synth.sample() for _ in range(30)):
        seg = preprocess_field(field.image)
        pieces = len(seg.pieces())
        for (i, j), row in seg.pair_of.items():
            assert i < pieces and j < pieces and any((i, j) in ways for ways in seg.choices)
            whole = seg.pair_inputs[row, 0]
            assert whole.shape == PAIR_SHAPE and whole.max() > 0.9
            found += 1
        if seg.pair_of:
            assert len(seg.pair_inputs) == len(set(seg.pair_of.values()))
    assert found >= 30  # most touching fields have their pair cut, some in several ways
    apart = FieldSynth(images, labels, seed=5, p_touch=0.0).sample()
    seg = preprocess_field(apart.image)
    if len(seg.boxes) == 5 and not seg.choices:
        assert seg.pair_inputs is None and seg.pair_of == {}


def test_inputs_match_mnist_digits():
    """A clean MNIST digit drawn dark on paper comes back close to the MNIST image itself."""
    images, _ = mnist_test_half("evaluation")
    for img in images[:10]:
        paper = 255 - img
        out = preprocess_digit(np.pad(paper, 8, constant_values=255)).inputs[0, 0]
        reference = img.astype(np.float32) / 255
        assert np.abs(out - reference).mean() < 0.08


def _moments(x):
    """Centre (cy, cx) and shear mu11 / mu02 of each (28, 28) image of x (N, 28, 28)."""
    r = np.arange(28.0)
    m = x.sum((1, 2))
    cy, cx = (x.sum(2) @ r) / m, (x.sum(1) @ r) / m
    dy, dx = r - cy[:, None], r - cx[:, None]
    mu02 = (x.sum(2) * dy**2).sum(1)
    mu11 = np.einsum("nr,nrc,nc->n", dy, x, dx)
    return cy, cx, mu11 / mu02


def test_deskew_is_a_shear_by_the_second_moments():
    """Each row moves by a * (row - centre row), a = mu11 / mu02: the same image as SciPy's
    linear-interpolation affine transform; ink total and centre of mass are kept."""
    from scipy import ndimage

    images, _ = mnist_test_half("calibration")
    x = np.stack([normalize_digit(img.astype(np.float32) / 255) for img in images[:300]])
    out = deskew(x[:, None])
    assert out.shape == (300, 1, 28, 28) and out.dtype == np.float32
    np.testing.assert_array_equal(deskew(x), out[:, 0])  # (N, 28, 28) works the same
    cy, cx, shear = _moments(x.astype(np.float64))
    for i in range(0, 300, 37):
        # output (r, c) <- input (r, c + a (r - cy))
        ref = ndimage.affine_transform(x[i].astype(np.float64), [[1, 0], [shear[i], 1]],
                                       offset=[0, -shear[i] * cy[i]], order=1)
        np.testing.assert_allclose(out[i, 0], ref, atol=1e-5)
    kept = np.abs(shear) * 14 < 3.5  # no ink pushed off the 28-wide row
    np.testing.assert_allclose(out[kept, 0].sum((1, 2)), x[kept].sum((1, 2)), rtol=1e-5)
    cy2, cx2, shear2 = _moments(out[kept, 0].astype(np.float64))
    np.testing.assert_allclose(cx2, cx[kept], atol=1e-3)
    assert np.abs(shear2).max() < 0.02 < np.abs(shear[kept]).mean()  # now upright


def test_deskew_undoes_a_slant():
    """A vertical bar and the same bar slanted by 0.4 px per row read the same once
    deskewed; blank inputs stay blank."""
    bar = np.zeros((28, 28), np.float32)
    bar[4:24, 13:15] = 1.0
    from scipy import ndimage

    slanted = ndimage.affine_transform(bar, [[1, 0], [0.4, 1]], offset=[0, -0.4 * 13.5], order=1)
    out = deskew(np.stack([bar, slanted, np.zeros((28, 28), np.float32)]))
    np.testing.assert_allclose(out[0], bar, atol=1e-6)

    def column_spread(img):  # variance of the ink's column, about its centre
        cols = img.sum(0) / img.sum()
        centre = cols @ np.arange(28)
        return cols @ (np.arange(28) - centre) ** 2

    assert column_spread(slanted) > 5 and column_spread(out[1]) < 0.7  # upright again
    assert abs(column_spread(bar) - 0.25) < 1e-6
    np.testing.assert_allclose(out[1].sum(), slanted.sum(), rtol=1e-5)
    assert not out[2].any()


def test_to_gray_accepts_arrays_pil_images_and_bytes():
    rgb = np.zeros((10, 12, 3), np.uint8)
    rgb[..., 0] = 255
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "PNG")
    rgba = np.dstack([rgb, np.zeros((10, 12), np.uint8)])  # fully transparent: white paper
    for image in (rgb, Image.fromarray(rgb), buf.getvalue()):
        g = to_gray(image)
        assert g.shape == (10, 12) and g.dtype == np.float32
        assert np.allclose(g, 0.299, atol=0.01)
    assert np.allclose(to_gray(rgba), 1.0)
    with pytest.raises(ValueError, match="shape"):
        to_gray(np.zeros((2, 3, 4, 5)))


@pytest.mark.parametrize("shape", [(1, 1), (1, 7), (6, 1), (7, 19)])
def test_3x3_filters_match_scipy(shape):
    from scipy import ndimage

    a = np.random.default_rng(0).random(shape).astype(np.float32)
    assert np.array_equal(_reduce3x3(_edge_pad(a), np.maximum),
                          ndimage.maximum_filter(a, size=3, mode="nearest"))
    mean = _reduce3x3(_edge_pad(a), np.add) / np.float32(9.0)
    assert np.allclose(mean, ndimage.uniform_filter(a, size=3, mode="nearest"), atol=1e-6)
    mask = a > 0.7
    assert np.array_equal(_grow(mask), ndimage.binary_dilation(mask, np.ones((3, 3), bool)))


def test_ink_is_found_under_uneven_light_on_light_and_dark_ground():
    h, w = 40, 90
    light = np.linspace(0.55, 1.0, w, dtype=np.float32)[None, :].repeat(h, axis=0)
    paper = light.copy()
    paper[10:30, 20:24] *= 0.3  # a stroke in the dim part
    paper[10:30, 70:74] *= 0.3  # and one in the bright part
    for gray, flip in ((paper, False), (1.0 - paper, True)):  # dark ink / light ink (MNIST)
        ink = ink_map(gray)
        assert ink[10:30, 20:24].min() > 0.6 and ink[10:30, 70:74].min() > 0.6, flip
        # the paper between them, whatever its light, stays under the lowest ink threshold
        assert ink[:, 40:60].max() < 0.12, flip
