"""Durable FIX session state in SQLite: the next sequence number each way and every message we
sent, so either side resumes its sequence after a restart and can answer a ResendRequest.

Writes are grouped: a session records everything one batch of input produced, then calls
``commit`` once before any of it reaches the socket (write-ahead), so nothing is sent that a
restart could forget. The database runs in WAL mode with ``synchronous=NORMAL``: a committed
batch survives a crash of the process; surviving power loss as well costs an fsync per batch
(``durable=True``).

The connection may be shared with the application (the exchange keeps its command journal in
the same file) so that the sequence numbers and what the application did commit atomically.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS fix_session (
    session_id TEXT PRIMARY KEY,
    next_sender_seq INTEGER NOT NULL,
    next_target_seq INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS fix_message (
    session_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    msg_type BLOB NOT NULL,
    sending_time BLOB NOT NULL,
    body BLOB NOT NULL,
    PRIMARY KEY (session_id, seq)
) WITHOUT ROWID;
"""


class Database(sqlite3.Connection):
    """A connection that defers inserts until the commit and then runs each statement once with
    ``executemany``: a batch of messages costs one round into SQLite, not one per message."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deferred: dict[str, list[tuple[object, ...]]] = {}

    def defer(self, sql: str, row: tuple[object, ...]) -> None:
        rows = self._deferred.get(sql)
        if rows is None:
            self._deferred[sql] = [row]
        else:
            rows.append(row)

    def flush_deferred(self) -> None:
        """Run the deferred inserts now (before a read that must see them, or a commit)."""
        if self._deferred:
            for sql, rows in self._deferred.items():
                self.executemany(sql, rows)
            self._deferred.clear()


def open_database(path: str | Path, *, durable: bool = False) -> Database:
    """An SQLite connection set up for the FIX store (and anything sharing it)."""
    connection = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False,
                                 factory=Database)
    connection.execute("PRAGMA locking_mode=EXCLUSIVE")  # one owner: no lock syscalls per commit
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
    connection.executescript(_SCHEMA)
    connection.execute("BEGIN")
    return connection


class SessionStore:
    """One session's sequence numbers and sent messages."""

    def __init__(self, connection: sqlite3.Connection, session_id: str) -> None:
        self._db = connection
        self.session_id = session_id
        row = connection.execute(
            "SELECT next_sender_seq, next_target_seq FROM fix_session WHERE session_id = ?",
            (session_id,)).fetchone()
        if row is None:
            connection.execute("INSERT INTO fix_session VALUES (?, 1, 1)", (session_id,))
            row = (1, 1)
        self._next_sender_seq: int = row[0]
        self._next_target_seq: int = row[1]
        self._dirty = False

    @property
    def next_sender_seq(self) -> int:
        return self._next_sender_seq

    @next_sender_seq.setter
    def next_sender_seq(self, seq: int) -> None:
        self._next_sender_seq = seq
        self._dirty = True

    @property
    def next_target_seq(self) -> int:
        return self._next_target_seq

    @next_target_seq.setter
    def next_target_seq(self, seq: int) -> None:
        self._next_target_seq = seq
        self._dirty = True

    def record_sent(self, seq: int, msg_type: bytes, sending_time: bytes, body: bytes) -> None:
        """Keep a sent message for resends; ``body`` is everything after the standard header."""
        insert(self._db, "INSERT OR REPLACE INTO fix_message VALUES (?, ?, ?, ?, ?)",
                (self.session_id, seq, msg_type, sending_time, body))
        self._dirty = True

    def sent_between(self, begin: int, end: int) -> list[tuple[int, bytes, bytes, bytes]]:
        """Stored (seq, msg_type, sending_time, body) with begin <= seq <= end, in order."""
        if isinstance(self._db, Database):
            self._db.flush_deferred()
        return self._db.execute(
            "SELECT seq, msg_type, sending_time, body FROM fix_message"
            " WHERE session_id = ? AND seq BETWEEN ? AND ? ORDER BY seq",
            (self.session_id, begin, end)).fetchall()

    def reset(self) -> None:
        """Sequence reset (ResetSeqNumFlag or a new day): both sides start again at 1."""
        if isinstance(self._db, Database):
            self._db.flush_deferred()  # or inserts recorded before the reset land after it
        self._db.execute("DELETE FROM fix_message WHERE session_id = ?", (self.session_id,))
        self.next_sender_seq = self.next_target_seq = 1

    def commit(self) -> None:
        """Make everything recorded so far durable; cheap when nothing changed."""
        if self._dirty:
            self._db.execute(
                "UPDATE fix_session SET next_sender_seq = ?, next_target_seq = ?"
                " WHERE session_id = ?",
                (self._next_sender_seq, self._next_target_seq, self.session_id))
            self._dirty = False
        commit(self._db)


def commit(connection: sqlite3.Connection) -> None:
    """Commit the open transaction (deferred inserts included) and start the next one."""
    if isinstance(connection, Database):
        connection.flush_deferred()
    if connection.in_transaction:
        connection.execute("COMMIT")
    connection.execute("BEGIN")


def insert(connection: sqlite3.Connection, sql: str, row: tuple[object, ...]) -> None:
    """Insert now, or at the next commit on a ``Database``."""
    if isinstance(connection, Database):
        connection.defer(sql, row)
    else:
        connection.execute(sql, row)
