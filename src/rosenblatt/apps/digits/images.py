"""Image files and uploads checked before any pixel is decoded: the one validation that the
HTTP service and the `zip read` / `explain` commands share.

The encoded size, the format and the dimensions in the header are checked first, so a
decompression bomb (a small file claiming 100,000 x 100,000 pixels) is refused without
allocating its pixels; truncated or corrupt data is refused when decoding.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import Any

MAX_BYTES = 4 * 1024 * 1024  # encoded image
MAX_SIDE = 4096  # pixels on either side
MAX_PIXELS = 8_000_000  # width * height
FORMATS = {"PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP", "PPM"}


class BadInputError(Exception):
    """An image we will not decode: `status` (HTTP 413/415/422) and a one-line message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def decode_image(data: bytes, max_bytes: int = MAX_BYTES) -> Any:
    """Encoded bytes -> a loaded PIL image; BadInputError 413/415/422 for what we refuse."""
    from PIL import Image, UnidentifiedImageError

    if len(data) == 0:
        raise BadInputError(422, "empty image")
    if len(data) > max_bytes:
        raise BadInputError(413, f"image of {len(data):,} bytes is over the limit of "
                            f"{max_bytes:,} bytes")
    limits = f"{MAX_SIDE} pixels a side, {MAX_PIXELS:,} pixels in all"
    try:
        with warnings.catch_warnings():  # our own limit below is far lower than PIL's
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))  # lazy: reads the header only
    except Image.DecompressionBombError:
        raise BadInputError(413, f"image dimensions are over the limit ({limits})") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise BadInputError(415, "not a recognised image (PNG, JPEG, GIF, BMP, TIFF, WEBP, "
                            "PPM)") from None
    if image.format not in FORMATS:
        raise BadInputError(415, f"unsupported image format {image.format}")
    w, h = image.size
    if w < 1 or h < 1 or w > MAX_SIDE or h > MAX_SIDE or w * h > MAX_PIXELS:
        raise BadInputError(413, f"image dimensions {w}x{h} are over the limit ({limits})")
    try:
        image.load()
    except Exception:  # truncated or corrupt data (PIL raises many types)
        raise BadInputError(415, "the image data could not be decoded (truncated or "
                            "corrupt)") from None
    return image


def read_image_file(path: str | Path, max_bytes: int = MAX_BYTES) -> Any:
    """A file -> a loaded PIL image, checked as the service checks uploads; BadInputError
    (message without the file's name) for a missing, oversized or undecodable file."""
    path = Path(path)
    if not path.is_file():
        raise BadInputError(422, "no such file")
    size = path.stat().st_size
    if size > max_bytes:  # not even read
        raise BadInputError(413, f"image of {size:,} bytes is over the limit of "
                            f"{max_bytes:,} bytes")
    return decode_image(path.read_bytes(), max_bytes)
