"""The IDX reader: round trips, real files, and clear errors for damaged ones."""

import gzip
import struct

import numpy as np
import pytest

from rosenblatt.datasets import IDXError, read_idx, write_idx


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("name", ["a.idx", "a.idx.gz"])
def test_round_trip(tmp_path, dtype, name):
    array = (np.arange(2 * 3 * 4) - 5).astype(dtype).reshape(2, 3, 4)
    write_idx(tmp_path / name, array)
    raw = (tmp_path / name).read_bytes()
    assert (raw[:2] == b"\x1f\x8b") == name.endswith(".gz")
    back = read_idx(tmp_path / name)
    assert back.dtype == array.dtype and back.shape == array.shape
    np.testing.assert_array_equal(back, array)
    back[0, 0, 0] = 1  # a writable array in native byte order


def test_header_is_big_endian_idx(tmp_path):
    write_idx(tmp_path / "x", np.zeros((3, 2), np.int32))
    raw = (tmp_path / "x").read_bytes()
    assert raw[:4] == bytes([0, 0, 0x0C, 2])
    assert struct.unpack(">2i", raw[4:12]) == (3, 2)
    assert len(raw) == 12 + 3 * 2 * 4


def test_real_mnist_labels_match_an_independent_parse(data_dir):
    path = data_dir / "mnist" / "t10k-labels-idx1-ubyte.gz"
    raw = gzip.open(path).read()
    assert struct.unpack(">4B", raw[:4]) == (0, 0, 8, 1)
    labels = read_idx(path)
    assert labels.shape == (10000,)
    np.testing.assert_array_equal(labels, np.frombuffer(raw[8:], np.uint8))


def _write_raw(path, data):
    path.write_bytes(data)
    return path


def test_truncated_plain_file(tmp_path):
    write_idx(tmp_path / "x", np.zeros((4, 5), np.uint8))
    data = (tmp_path / "x").read_bytes()
    bad = _write_raw(tmp_path / "cut", data[:-3])
    with pytest.raises(IDXError, match=r"cut.*truncated.*needs 20 bytes.*found 17"):
        read_idx(bad)
    with pytest.raises(IDXError, match="truncated IDX header"):
        read_idx(_write_raw(tmp_path / "head", data[:9]))
    with pytest.raises(IDXError, match="too long"):
        read_idx(_write_raw(tmp_path / "long", data + b"\0"))


def test_truncated_gzip_file(tmp_path):
    write_idx(tmp_path / "x.gz", np.arange(5000, dtype=np.int32))
    data = (tmp_path / "x.gz").read_bytes()
    bad = _write_raw(tmp_path / "cut.gz", data[: len(data) // 2])
    with pytest.raises(IDXError, match=r"cut\.gz.*truncated"):
        read_idx(bad)


def test_corrupt_gzip_file(tmp_path):
    write_idx(tmp_path / "x.gz", np.arange(5000, dtype=np.int32))
    data = bytearray((tmp_path / "x.gz").read_bytes())
    data[len(data) // 2] ^= 0xFF
    with pytest.raises(IDXError, match=r"bad\.gz"):
        read_idx(_write_raw(tmp_path / "bad.gz", bytes(data)))


def test_bad_magic_number(tmp_path):
    with pytest.raises(IDXError, match="magic number"):
        read_idx(_write_raw(tmp_path / "m", b"\x01\x00\x08\x01" + b"\0" * 8))
    with pytest.raises(IDXError, match="magic number"):
        read_idx(_write_raw(tmp_path / "t", b"\x00\x00\x07\x01\x00\x00\x00\x01x"))
    with pytest.raises(IDXError, match="too short"):
        read_idx(_write_raw(tmp_path / "s", b"\x00\x00"))
