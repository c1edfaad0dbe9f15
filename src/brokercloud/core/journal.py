"""The middle office's journal: an append-only file of length-prefixed, checksummed records.

Record: 4-byte little-endian payload length, 4-byte CRC-32 of the payload, the payload. A batch
of records is written with one ``write`` and made durable with one ``fsync`` (group commit);
nobody is answered before that returns. On open, the file is scanned: a record that is cut
short or fails its checksum can only be the tail of a write the process did not finish (a torn
write), so the file is truncated after the last good record and the loss is logged, never
silently replayed.
"""

from __future__ import annotations

import logging
import os
import struct
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path

log = logging.getLogger("brokercloud.core.journal")

_HEADER = struct.Struct("<II")
HEADER_SIZE = _HEADER.size
MAX_RECORD = 16 * 1024 * 1024


class JournalCorruptError(Exception):
    """A bad record followed by good ones: not a torn tail, so not safe to truncate."""


class JournalFile:
    """Appends batches durably; reads back every record that was made durable."""

    def __init__(self, path: str | Path, *, fsync: bool = True) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fsync = fsync
        self.records, good_end = _scan(self.path)
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        size = os.fstat(self._fd).st_size
        if size > good_end:
            log.warning("journal %s: torn tail of %d bytes after record %d truncated",
                        self.path, size - good_end, self.records)
            os.ftruncate(self._fd, good_end)
            os.fsync(self._fd)
        self.size = good_end

    def append(self, payloads: Sequence[bytes]) -> None:
        """Write records as one batch and make them durable before returning."""
        if not payloads:
            return
        parts = []
        for payload in payloads:
            parts.append(_HEADER.pack(len(payload), zlib.crc32(payload)))
            parts.append(payload)
        data = b"".join(parts)
        written = os.write(self._fd, data)
        while written < len(data):  # a short write: keep going, never leave half a batch
            written += os.write(self._fd, data[written:])
        if self._fsync:
            os.fsync(self._fd)
        self.size += len(data)
        self.records += len(payloads)

    def read(self, start_record: int = 0) -> Iterator[bytes]:
        """Every durable payload from record number ``start_record`` on (checksums were proven
        when the file was opened; appended records were written by us)."""
        with self.path.open("rb") as handle:
            data = handle.read(self.size)
        unpack = _HEADER.unpack_from
        pos = index = 0
        end = len(data)
        while pos < end:
            length = unpack(data, pos)[0]
            start = pos + HEADER_SIZE
            pos = start + length
            if index >= start_record:
                yield data[start:pos]
            index += 1

    def close(self) -> None:
        os.close(self._fd)


def _scan(path: Path) -> tuple[int, int]:
    """(number of good records, byte offset after the last one)."""
    if not path.exists():
        return 0, 0
    data = path.read_bytes()
    pos = count = 0
    while pos + HEADER_SIZE <= len(data):
        length, crc = _HEADER.unpack_from(data, pos)
        end = pos + HEADER_SIZE + length
        if not 0 < length <= MAX_RECORD or end > len(data) or zlib.crc32(
                data[pos + HEADER_SIZE:end]) != crc:
            if _has_good_record_after(data, pos + 1):
                raise JournalCorruptError(
                    f"journal {path}: bad record at byte {pos} followed by good records")
            break
        pos = end
        count += 1
    return count, pos


def _has_good_record_after(data: bytes, start: int) -> bool:
    """Whether a valid record starts anywhere after ``start`` (corruption, not a torn tail).
    The whole rest of the file is searched: a good record far behind the bad one must refuse
    the open, not be truncated away. The search ends at the first hit, so it is long only for
    a real torn tail, which is at most one batch."""
    unpack = _HEADER.unpack_from
    size = len(data)
    for pos in range(start, size - HEADER_SIZE):
        length, crc = unpack(data, pos)
        end = pos + HEADER_SIZE + length
        if 0 < length <= MAX_RECORD and end <= size and zlib.crc32(
                data[pos + HEADER_SIZE:end]) == crc:
            return True
    return False
