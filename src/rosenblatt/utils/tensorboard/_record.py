"""TensorBoard's event file: length-prefixed records, each guarded by a masked CRC-32C.

A record is `uint64 length | uint32 masked_crc(length) | data | uint32 masked_crc(data)`,
little-endian; `data` is one serialised `Event` protobuf. The first event of a file names
the format version ("brain.Event:2"). TensorBoard finds files by the name
`events.out.tfevents.<seconds>.<host>.<pid>.<n>` in the run's folder.
"""

from __future__ import annotations

import itertools
import os
import socket
import struct
import time
from pathlib import Path


def _crc32c_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1  # Castagnoli, reflected
        table.append(crc)
    return table


_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli) of `data`, as TensorFlow's record format uses."""
    crc = 0xFFFFFFFF
    table = _TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data: bytes) -> int:
    """The CRC rotated and offset, so that a CRC of data holding CRCs is not degenerate."""
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def encode_record(data: bytes) -> bytes:
    """One record of the TFRecord format around `data`."""
    header = struct.pack("<Q", len(data))
    return (header + struct.pack("<I", masked_crc32c(header)) + data
            + struct.pack("<I", masked_crc32c(data)))


_counter = itertools.count()


class EventFileWriter:
    """Appends serialised `Event`s to a new event file in `log_dir`."""

    def __init__(self, log_dir: str | os.PathLike, filename_suffix: str = "") -> None:
        from tensorboard.compat.proto import event_pb2

        self.log_dir = Path(log_dir)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        name = (f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}."
                f"{os.getpid()}.{next(_counter)}{filename_suffix}")
        self.path = self.log_dir / name
        self._file = open(self.path, "wb")  # noqa: SIM115 - kept open until close()
        self.write(event_pb2.Event(wall_time=time.time(), file_version="brain.Event:2"))
        self.flush()

    def write(self, event: object) -> None:
        """Append one Event protobuf."""
        self._file.write(encode_record(event.SerializeToString()))  # type: ignore[attr-defined]

    def flush(self) -> None:
        """Push what was written to the file, so that TensorBoard sees it."""
        if not self._file.closed:
            self._file.flush()

    def close(self) -> None:
        """Flush and close the file (writing after that is an error)."""
        if not self._file.closed:
            self._file.close()
