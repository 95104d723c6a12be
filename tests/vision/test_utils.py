"""make_grid tiles images as torchvision does; save_image writes a real PNG of that grid."""

from __future__ import annotations

import numpy as np
import pytest

import rosenblatt as rb
from rosenblatt.vision.utils import make_grid, save_image


def test_grid_layout_padding_and_channels() -> None:
    images = rb.arange(5 * 4 * 3, dtype=rb.float32).reshape(5, 1, 4, 3) / 60.0
    grid = make_grid(images, nrow=2, padding=1, pad_value=0.5).numpy()
    # 2 columns, 3 rows of 4x3 images with a 1-pixel border: (3, 3*5+1, 2*4+1)
    assert grid.shape == (3, 16, 9)
    np.testing.assert_array_equal(grid[:, 1:5, 1:4], np.repeat(images.numpy()[0], 3, axis=0))
    np.testing.assert_array_equal(grid[0, 11:15, 1:4], images.numpy()[4, 0])  # 5th: row 3, col 1
    assert (grid[:, 11:15, 5:8] == 0.5).all()  # the empty sixth cell keeps pad_value
    assert (grid[:, 0, :] == 0.5).all()


def test_single_image_and_list_input() -> None:
    one = rb.rand(1, 1, 4, 4)
    assert make_grid(one).shape == (3, 4, 4)  # torchvision: one image comes back unpadded
    grid = make_grid([rb.rand(3, 2, 2), rb.rand(3, 2, 2)], padding=0)
    assert grid.shape == (3, 2, 4)


def test_normalize_by_range_and_each() -> None:
    images = rb.tensor([[[[0.0, 2.0]]], [[[4.0, 8.0]]]])
    whole = make_grid(images, padding=0, normalize=True).numpy()[0]
    np.testing.assert_allclose(whole, [[0.0, 0.25, 0.5, 1.0]])
    each = make_grid(images, padding=0, normalize=True, scale_each=True).numpy()[0]
    np.testing.assert_allclose(each, [[0.0, 1.0, 0.0, 1.0]])
    clipped = make_grid(images, padding=0, normalize=True, value_range=(0, 4)).numpy()[0]
    np.testing.assert_allclose(clipped, [[0.0, 0.5, 1.0, 1.0]])


def test_save_image_writes_the_grid_as_png(tmp_path) -> None:
    image = pytest.importorskip("PIL.Image")
    images = rb.rand(6, 3, 5, 7)
    path = tmp_path / "grid.png"
    save_image(images, path, nrow=3, padding=2)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = np.asarray(image.open(path))
    expected = make_grid(images, nrow=3, padding=2).numpy()
    assert pixels.shape == expected.shape[1:] + (3,)
    np.testing.assert_array_equal(
        pixels, np.clip(expected * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0))
