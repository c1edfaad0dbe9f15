"""Snapshots of the core's state, so a restart replays only the journal's tail.

A snapshot is the pickled state with the journal position it reflects, behind a checksum,
written to a temporary file, fsynced and renamed into place: a crash leaves either the old
snapshot or the new one, never half of one. Only the core writes and reads these files.
"""

from __future__ import annotations

import logging
import os
import pickle
import struct
import zlib
from pathlib import Path

from brokercloud.core.state import CoreState

log = logging.getLogger("brokercloud.core.snapshot")

_HEADER = struct.Struct("<QI")  # journal position, CRC-32 of the pickle
SNAPSHOT = "snapshot.bin"


def write_snapshot(data_dir: Path, state: CoreState, seq: int) -> Path:
    body = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
    target = data_dir / SNAPSHOT
    temporary = data_dir / (SNAPSHOT + ".tmp")
    with temporary.open("wb") as handle:
        handle.write(_HEADER.pack(seq, zlib.crc32(body)) + body)
        handle.flush()
        os.fsync(handle.fileno())
    temporary.replace(target)
    directory = os.open(data_dir, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return target


def load_snapshot(data_dir: Path) -> tuple[CoreState, int]:
    """The latest good snapshot and its journal position, or a fresh state at 0."""
    path = data_dir / SNAPSHOT
    if not path.exists():
        return CoreState(), 0
    data = path.read_bytes()
    if len(data) < _HEADER.size:
        log.warning("snapshot %s is too short; replaying the whole journal", path)
        return CoreState(), 0
    seq, crc = _HEADER.unpack_from(data)
    body = data[_HEADER.size:]
    if zlib.crc32(body) != crc:
        log.warning("snapshot %s fails its checksum; replaying the whole journal", path)
        return CoreState(), 0
    state = pickle.loads(body)
    return state, seq
