"""ColorJitter, RandomGrayscale, GaussianBlur and RandomErasing: torchvision's formulas, with
each random factor pinned so the result can be checked exactly."""

from __future__ import annotations

import colorsys

import numpy as np
import pytest
import torch

import rosenblatt as rb
from rosenblatt.vision import transforms as T

IMAGE = np.random.default_rng(0).random((3, 6, 8)).astype(np.float32)


def test_brightness_contrast_saturation_with_fixed_factors() -> None:
    x = rb.tensor(IMAGE)
    np.testing.assert_allclose(T.ColorJitter(brightness=(1.5, 1.5))(x).numpy(),
                               np.clip(IMAGE * 1.5, 0, 1), rtol=1e-6)
    gray = (IMAGE * np.array([0.299, 0.587, 0.114]).reshape(3, 1, 1)).sum(0, keepdims=True)
    np.testing.assert_allclose(T.ColorJitter(contrast=(0.5, 0.5))(x).numpy(),
                               np.clip(0.5 * IMAGE + 0.5 * gray.mean(), 0, 1), rtol=1e-5)
    np.testing.assert_allclose(T.ColorJitter(saturation=(0.0, 0.0))(x).numpy(),
                               np.broadcast_to(gray, IMAGE.shape), rtol=1e-5)


def test_hue_shift_matches_colorsys() -> None:
    out = T.ColorJitter(hue=(0.25, 0.25))(rb.tensor(IMAGE)).numpy()
    for y, x in ((0, 0), (3, 5), (5, 7)):
        h, s, v = colorsys.rgb_to_hsv(*IMAGE[:, y, x])
        np.testing.assert_allclose(out[:, y, x], colorsys.hsv_to_rgb((h + 0.25) % 1, s, v),
                                   atol=1e-5)


def test_jitter_draws_each_image_of_a_batch_separately() -> None:
    batch = rb.tensor(np.stack([IMAGE] * 4))
    out = T.ColorJitter(brightness=0.5)(batch).numpy()
    assert len({round(float(o.sum()), 3) for o in out}) == 4
    with pytest.raises(ValueError, match="hue values should be between"):
        T.ColorJitter(hue=0.7)


def test_gaussian_blur_matches_a_reflect_padded_convolution() -> None:
    out = T.GaussianBlur(5, sigma=(1.0, 1.0))(rb.tensor(IMAGE)).numpy()
    k = np.exp(-0.5 * (np.arange(5) - 2.0) ** 2)
    k /= k.sum()
    weight = torch.tensor(np.outer(k, k), dtype=torch.float32).expand(3, 1, 5, 5)
    padded = torch.nn.functional.pad(torch.tensor(IMAGE)[None], (2, 2, 2, 2), mode="reflect")
    ref = torch.nn.functional.conv2d(padded, weight, groups=3)[0].numpy()
    np.testing.assert_allclose(out, ref, atol=1e-6)
    with pytest.raises(ValueError, match="odd and positive"):
        T.GaussianBlur(4)


def test_random_erasing_fills_one_rectangle_and_grayscale_equalises_channels() -> None:
    out = T.RandomErasing(p=1.0, value=0.5, scale=(0.1, 0.2))(rb.tensor(IMAGE)).numpy()
    filled = (out == 0.5).all(axis=0)
    rows, cols = np.flatnonzero(filled.any(1)), np.flatnonzero(filled.any(0))
    assert filled[rows.min():rows.max() + 1, cols.min():cols.max() + 1].all()
    assert 0.05 <= filled.mean() <= 0.3
    np.testing.assert_array_equal(out[:, ~filled], IMAGE[:, ~filled])
    assert rb.equal(T.RandomErasing(p=0.0)(rb.tensor(IMAGE)), rb.tensor(IMAGE))
    gray = T.RandomGrayscale(p=1.0)(rb.tensor(IMAGE)).numpy()
    assert gray.shape == IMAGE.shape and np.allclose(gray[0], gray[2])
