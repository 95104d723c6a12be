"""torchvision.io's image reading and writing through Pillow."""

from __future__ import annotations

import numpy as np
import pytest

import rosenblatt as rb
from rosenblatt.vision import io

pytest.importorskip("PIL")


def test_png_round_trip_and_modes(tmp_path) -> None:
    pixels = np.random.default_rng(0).integers(0, 256, (3, 5, 7), dtype=np.uint8)
    path = tmp_path / "x.png"
    io.write_png(rb.tensor(pixels), path)
    image = io.read_image(path)
    assert image.dtype == rb.uint8 and image.shape == (3, 5, 7)
    np.testing.assert_array_equal(image.numpy(), pixels)
    gray = io.read_image(path, io.ImageReadMode.GRAY)
    r, g, b = pixels.astype(int)
    luma = (r * 299 + g * 587 + b * 114 + 500) // 1000
    assert gray.shape == (1, 5, 7) and np.abs(gray.numpy()[0].astype(int) - luma).max() <= 1
    assert io.decode_image(io.read_file(path), io.ImageReadMode.RGB_ALPHA).shape == (4, 5, 7)


def test_write_checks_the_tensor(tmp_path) -> None:
    with pytest.raises(ValueError, match="uint8 tensor"):
        io.write_png(rb.rand(3, 4, 4), tmp_path / "x.png")
    io.write_jpeg(rb.zeros(1, 4, 4, dtype=rb.uint8), tmp_path / "x.jpg")
    assert io.read_image(tmp_path / "x.jpg").shape == (1, 4, 4)
