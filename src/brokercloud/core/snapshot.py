"""Snapshots of the core's state, so a restart replays only the journal's tail.

A snapshot is the pickled state with the journal position it reflects, behind a checksum,
written to a temporary file, fsynced and renamed into place: a crash leaves either the old
snapshot or the new one, never half of one. The pickle carries ``FORMAT``: a snapshot written
by a build whose records had another shape (an order's fills and audit trail as tuples, say)
is not loaded; the journal, which is never compacted and decodes the same in every
build, is replayed whole instead. The core writes and reads ``snapshot.bin``; the
back office, journaled the same way, keeps its own ledger under another ``name``.
"""

from __future__ import annotations

import logging
import os
import pickle
import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from brokercloud.core.state import CoreState

log = logging.getLogger("brokercloud.core.snapshot")

_HEADER = struct.Struct("<QI")  # journal position, CRC-32 of the pickle
SNAPSHOT = "snapshot.bin"
#: Raise when the pickled records change shape (2: ``core.model.OrderFill``, ``AuditStep``;
#: 3: the back office's bookings keyed by ``ledger.booking_key``).
FORMAT = 3
State = TypeVar("State")


def write_snapshot(data_dir: Path, state: Any, seq: int, name: str = SNAPSHOT) -> Path:
    body = pickle.dumps((FORMAT, state), protocol=pickle.HIGHEST_PROTOCOL)
    target = data_dir / name
    temporary = data_dir / (name + ".tmp")
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


def load_snapshot(data_dir: Path, fresh: Callable[[], State] = CoreState,  # type: ignore[assignment]
                  name: str = SNAPSHOT) -> tuple[State, int]:
    """The latest good snapshot and its journal position, or ``fresh()`` at 0."""
    path = data_dir / name
    if not path.exists():
        return fresh(), 0
    data = path.read_bytes()
    if len(data) < _HEADER.size:
        log.warning("snapshot %s is too short; replaying the whole journal", path)
        return fresh(), 0
    seq, crc = _HEADER.unpack_from(data)
    body = data[_HEADER.size:]
    if zlib.crc32(body) != crc:
        log.warning("snapshot %s fails its checksum; replaying the whole journal", path)
        return fresh(), 0
    loaded = pickle.loads(body)
    if not (isinstance(loaded, tuple) and len(loaded) == 2 and loaded[0] == FORMAT):
        log.warning("snapshot %s is of an older format; replaying the whole journal", path)
        return fresh(), 0
    return loaded[1], seq
