"""Pre-processing: grey levels, ink, segmentation (count, order, touching, broken), 28x28."""

import io

import numpy as np
import pytest
from PIL import Image

from rosenblatt.apps.digits.preprocess import (
    normalize_digit,
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


def test_inputs_match_mnist_digits():
    """A clean MNIST digit drawn dark on paper comes back close to the MNIST image itself."""
    images, _ = mnist_test_half("evaluation")
    for img in images[:10]:
        paper = 255 - img
        out = preprocess_digit(np.pad(paper, 8, constant_values=255)).inputs[0, 0]
        reference = img.astype(np.float32) / 255
        assert np.abs(out - reference).mean() < 0.08


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
