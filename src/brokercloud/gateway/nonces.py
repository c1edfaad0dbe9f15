"""The nonces of accepted signed requests, in SQLite: a restart of the AP server, or a second AP
process opening the same file, still refuses a replay.

One row per (certificate serial, nonce): the SHA-256 of the canonical bytes that were signed
(what tells a retry of the same request from a replay with other content), the signed
timestamp, and the request's outcome once known: the order ID it created or acted on, or the
code it was refused with. Only requests whose signature verified are recorded, so forged
requests can neither fill the table nor burn an investor's nonces.

Recording is one ``INSERT OR IGNORE`` in its own transaction, atomic across threads and
processes: of two racing copies exactly one is first. WAL mode with ``synchronous=NORMAL``: a
recorded nonce survives a crash of the process (not a power cut, which also loses the
in-flight requests themselves).

Pruning: a request signed at ``t`` is refused as stale once ``now > t + skew``, so its row is
useless after that. Rows are deleted once older than twice the skew, the margin covering AP
processes whose clocks disagree by up to one skew; at most once per ``PRUNE_EVERY_MS``, so the
table holds about the requests of two skew windows and pruning costs one indexed delete a
second.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS signed_nonces (
    serial TEXT NOT NULL, nonce TEXT NOT NULL, digest BLOB NOT NULL,
    timestamp_ms INTEGER NOT NULL, order_id TEXT, code INTEGER,
    PRIMARY KEY (serial, nonce)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS signed_nonces_by_time ON signed_nonces (timestamp_ms);
"""
PRUNE_EVERY_MS = 1_000


@dataclass(frozen=True, slots=True)
class Prior:
    """The first request recorded with a nonce: what a later request with it is compared to.

    Neither ``order_id`` nor ``code`` while the first request is still being processed (or
    its process died before it learned the outcome)."""

    digest: bytes
    order_id: str | None
    code: int | None


class NonceStore:
    """Accepted nonces per certificate in one SQLite file (module docstring); thread-safe."""

    def __init__(self, path: str | Path) -> None:
        # Autocommit: every statement is its own transaction, so no write waits on another.
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False,
                                   timeout=5.0)
        self._db.executescript("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()
        self._pruned_at_ms = 0

    def close(self) -> None:
        self._db.close()

    def prior(self, serial: int, nonce: str) -> Prior | None:
        """The first request recorded with this nonce for this certificate, if any."""
        with self._lock:
            row = self._db.execute(
                "SELECT digest, order_id, code FROM signed_nonces WHERE serial = ? AND nonce = ?",
                (str(serial), nonce)).fetchone()
        return None if row is None else Prior(*row)

    def claim(self, serial: int, nonce: str, digest: bytes, timestamp_ms: int) -> Prior | None:
        """Record a verified request; ``None`` if it is the first with its nonce, else the first
        one (a retry when the digests match, a replay when they differ)."""
        with self._lock:
            inserted = self._db.execute(
                "INSERT OR IGNORE INTO signed_nonces (serial, nonce, digest, timestamp_ms) "
                "VALUES (?, ?, ?, ?)", (str(serial), nonce, digest, timestamp_ms)).rowcount
        return None if inserted else self.prior(serial, nonce)

    def settle(self, serial: int, nonce: str, *, order_id: str | None = None,
               code: int | None = None) -> None:
        """Remember the outcome of the first request with this nonce, for its retries. Only the
        first outcome counts: a row once settled is never changed."""
        with self._lock:
            self._db.execute(
                "UPDATE signed_nonces SET order_id = ?, code = ? WHERE serial = ? AND nonce = ? "
                "AND order_id IS NULL AND code IS NULL", (order_id, code, str(serial), nonce))

    def prune(self, before_ms: int) -> int:
        """Forget nonces signed before ``before_ms`` (at most once per ``PRUNE_EVERY_MS`` of
        advancing ``before_ms``); returns how many rows went."""
        with self._lock:
            if before_ms < self._pruned_at_ms + PRUNE_EVERY_MS:
                return 0
            self._pruned_at_ms = before_ms
            return self._db.execute("DELETE FROM signed_nonces WHERE timestamp_ms < ?",
                                    (before_ms,)).rowcount

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM signed_nonces").fetchone()[0])
