"""`torchvision.io` (images): read_image / decode_image to uint8 tensors (C, H, W), and
write_png / write_jpeg, through Pillow (the optional 'images' extra)."""

from __future__ import annotations

import io as _io
import os
from typing import Any

from .._backend import CPU, np, to_device
from ..autograd.tensor import Tensor

__all__ = ["ImageReadMode", "read_image", "decode_image", "read_file", "write_png",
           "write_jpeg"]


class ImageReadMode:
    """Which channels to read (torchvision's names)."""

    UNCHANGED = "UNCHANGED"
    GRAY = "GRAY"
    GRAY_ALPHA = "GRAY_ALPHA"
    RGB = "RGB"
    RGB_ALPHA = "RGB_ALPHA"


_PIL_MODES = {ImageReadMode.GRAY: "L", ImageReadMode.GRAY_ALPHA: "LA",
              ImageReadMode.RGB: "RGB", ImageReadMode.RGB_ALPHA: "RGBA"}


def read_file(path: str | os.PathLike) -> Tensor:
    """The file's bytes as a uint8 tensor (N,)."""
    with open(path, "rb") as f:
        return Tensor._make(np.frombuffer(f.read(), dtype=np.uint8).copy(), False, None)


def decode_image(input: Tensor | str | os.PathLike,  # noqa: A002
                 mode: str = ImageReadMode.UNCHANGED) -> Tensor:
    """Encoded image bytes (or a path) -> uint8 tensor (C, H, W) in the requested mode."""
    from PIL import Image  # optional dependency, loaded on use

    if not isinstance(input, Tensor):
        input = read_file(input)  # noqa: A001
    image = Image.open(_io.BytesIO(to_device(input._data, CPU).tobytes()))
    mode = getattr(mode, "name", mode)
    if mode != ImageReadMode.UNCHANGED:
        image = image.convert(_PIL_MODES[mode])
    elif image.mode not in ("L", "LA", "RGB", "RGBA"):
        image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
    pixels = np.asarray(image, dtype=np.uint8)
    pixels = pixels[:, :, None] if pixels.ndim == 2 else pixels
    return Tensor._make(np.ascontiguousarray(pixels.transpose(2, 0, 1)), False, None)


def read_image(path: str | os.PathLike, mode: str = ImageReadMode.UNCHANGED) -> Tensor:
    """The image file at path as a uint8 tensor (C, H, W)."""
    return decode_image(read_file(path), mode)


def _save(tensor: Tensor, filename: str | os.PathLike, image_format: str, **options: Any) -> None:
    from PIL import Image

    pixels = to_device(tensor.detach()._data, CPU)
    if pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[0] not in (1, 3, 4):
        raise ValueError(f"expected a uint8 tensor (C, H, W) with C in 1, 3, 4; got "
                         f"{pixels.dtype} {list(pixels.shape)}")
    array = pixels.transpose(1, 2, 0)
    Image.fromarray(array[:, :, 0] if array.shape[2] == 1 else array).save(
        filename, format=image_format, **options)


def write_png(input: Tensor, filename: str | os.PathLike,  # noqa: A002
              compression_level: int = 6) -> None:
    """Save a uint8 tensor (C, H, W) as PNG."""
    _save(input, filename, "PNG", compress_level=compression_level)


def write_jpeg(input: Tensor, filename: str | os.PathLike, quality: int = 75) -> None:  # noqa: A002
    """Save a uint8 tensor (C, H, W) as JPEG."""
    _save(input, filename, "JPEG", quality=quality)
