"""The IDX file format of MNIST-style data sets: read and write, plain or gzip-compressed.

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of
dimensions), one big-endian int32 per dimension, then the values in row-major order,
big-endian. Reading checks all of it and names the file in every error.
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from typing import Any

from .._backend import np

__all__ = ["read_idx", "write_idx", "IDXError"]

# type code -> big-endian NumPy dtype
_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_GZIP_MAGIC = b"\x1f\x8b"


class IDXError(ValueError):
    """A file that is not a valid IDX file (bad magic number, dimensions or size)."""


def _read_bytes(path: str | os.PathLike) -> bytes:
    """The file's bytes, decompressed when it is gzip (detected from its content)."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] != _GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except EOFError:
        raise IDXError(f"{os.fspath(path)}: the gzip stream is truncated (incomplete download?)"
                       ) from None
    except (OSError, zlib.error) as e:
        raise IDXError(f"{os.fspath(path)}: corrupt gzip data ({e})") from None


def parse_idx(data: bytes, name: str = "<bytes>") -> Any:
    """The array held in the IDX bytes `data` (native byte order); `name` is used in errors."""
    if len(data) < 4:
        raise IDXError(f"{name}: too short for an IDX file ({len(data)} bytes)")
    zero, code, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or code not in _TYPES:
        raise IDXError(f"{name}: bad IDX magic number 0x{data[:4].hex()} (expected 0x0000 then "
                       "a type code 08/09/0B/0C/0D/0E and the number of dimensions)")
    if ndim == 0:
        raise IDXError(f"{name}: IDX header declares 0 dimensions")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise IDXError(f"{name}: truncated IDX header ({len(data)} of {header} bytes)")
    dims = struct.unpack(f">{ndim}i", data[4:header])
    if any(d < 0 for d in dims):
        raise IDXError(f"{name}: negative dimension in IDX header {dims}")
    dtype = np.dtype(_TYPES[code])
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    found = len(data) - header
    if found != expected:
        kind = "truncated" if found < expected else "too long"
        raise IDXError(f"{name}: IDX data is {kind}: shape {list(dims)} of {dtype.name} needs "
                       f"{expected} bytes after the header, found {found}")
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(dims)
    return array.astype(dtype.newbyteorder("="))  # native order, writable copy


def read_idx(path: str | os.PathLike) -> Any:
    """Read an IDX file (plain or .gz) into a NumPy array; raises IDXError on a bad file."""
    return parse_idx(_read_bytes(path), os.fspath(path))


def write_idx(path: str | os.PathLike, array: Any, compress: bool | None = None) -> None:
    """Write a NumPy array as an IDX file; gzip when compress (default: path ends in .gz)."""
    array = np.asarray(array)
    codes = {np.dtype(v).newbyteorder("="): k for k, v in _TYPES.items()}
    code = codes.get(array.dtype.newbyteorder("="))
    if code is None or array.ndim == 0:
        raise IDXError(f"IDX can't store a {array.ndim}-d array of {array.dtype}")
    head = struct.pack(">HBB", 0, code, array.ndim) + struct.pack(f">{array.ndim}i", *array.shape)
    data = head + np.ascontiguousarray(array, dtype=_TYPES[code]).tobytes()
    if compress if compress is not None else os.fspath(path).endswith(".gz"):
        data = gzip.compress(data, compresslevel=6)
    with open(path, "wb") as f:
        f.write(data)
