"""Durable FIX session state in SQLite: the next sequence number each way and every message we
sent, so either side resumes its sequence after a restart and can answer a ResendRequest.

Writes are grouped: a session records everything one batch of input produced, then calls
``commit`` once before any of it reaches the socket (write-ahead), so nothing is sent that a
restart could forget. The database runs in WAL mode with ``synchronous=NORMAL``: a committed
batch survives a crash of the process; surviving power loss as well costs an fsync per batch
(``durable=True``).

Writers buffer in memory and write once per commit (``Database.defer``): a session's sent
messages of one batch become one row (their msgpack list), and its sequence numbers one UPDATE,
however many messages the batch held. One row per message cost ~3.7 µs each (a wide row in a
b-tree); one row per batch costs about what copying the bytes into the WAL costs.

The sessions sharing a connection also share the commit (``Database.commit_soon``): each
read or send asks for one, and the connection commits once at the end of the event-loop
iteration, then releases every waiting session's output. A shared pool of 150 lines committed
once per line per read before, and those commits (WAL pages written again and again) were a
quarter of the AP server's time in ``bench api``.

The connection may be shared with the application (the exchange keeps its command journal in
the same file) so that the sequence numbers and what the application did commit atomically.
"""

from __future__ import annotations

import asyncio
import sqlite3
from array import array
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec

_SCHEMA = """
CREATE TABLE IF NOT EXISTS fix_session (
    session_id TEXT PRIMARY KEY,
    next_sender_seq INTEGER NOT NULL,
    next_target_seq INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS fix_sent (
    id INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL,
    first_seq INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    messages BLOB NOT NULL
);
DROP INDEX IF EXISTS fix_sent_by_seq;
"""

_SAVE_SEQS = ("UPDATE fix_session SET next_sender_seq = ?, next_target_seq = ?"
              " WHERE session_id = ?")
_SAVE_SENT = "INSERT INTO fix_sent VALUES (?, ?, ?, ?, ?)"
#: A sent message as stored: (seq, msg_type, sending_time, body after the standard header).
SentMessage = tuple[int, bytes, bytes, bytes]
_encode_sent = msgspec.msgpack.Encoder().encode
_decode_sent = msgspec.msgpack.Decoder(list[SentMessage]).decode


class Database(sqlite3.Connection):
    """A connection whose writers buffer in memory and write at the group commit: each writer
    registers a flush once per batch, and the rows the flushes make for the same statement go
    into SQLite in one ``executemany``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._flushes: list[Callable[[], None]] = []
        self._rows: dict[str, list[tuple[Any, ...]]] = {}
        self._released: list[Callable[[], None]] = []
        self._commit_scheduled = False
        self.sent_rows = SentRows()

    def write_row(self, statement: str, row: tuple[Any, ...]) -> None:
        """``statement`` with ``row``, written with every other row of that statement at the
        end of this flush."""
        rows = self._rows.get(statement)
        if rows is None:
            self._rows[statement] = [row]
        else:
            rows.append(row)

    def commit_soon(self, release: Callable[[], None]) -> None:
        """Run ``release`` (a writer's sends) after the next commit, which comes at the latest
        at the end of this event-loop iteration: one commit for every writer that asked."""
        self._released.append(release)
        if not self._commit_scheduled:
            self._commit_scheduled = True
            asyncio.get_running_loop().call_soon(self._commit_if_waiting)

    def _commit_if_waiting(self) -> None:
        self._commit_scheduled = False  # first: a commit that fails is tried at the next ask
        if self._released:  # else a commit since released them
            self.group_commit()

    def group_commit(self) -> None:
        self.flush_deferred()
        if self.in_transaction:
            self.execute("COMMIT")
        self.execute("BEGIN")
        released, self._released = self._released, []
        for release in released:
            release()

    def defer(self, flush: Callable[[], None]) -> None:
        """Run ``flush`` before the next commit (or a read that must see what it buffered)."""
        self._flushes.append(flush)

    def flush_deferred(self) -> None:
        """Write what the writers buffered now. A writer whose write fails stays registered,
        so its rows are tried again at the next commit rather than forgotten."""
        flushes = self._flushes
        while flushes:
            flushes[0]()
            del flushes[0]
        while self._rows:
            statement, rows = next(iter(self._rows.items()))
            self.executemany(statement, rows)
            del self._rows[statement]


def open_database(path: str | Path, *, durable: bool = False) -> Database:
    """An SQLite connection set up for the FIX store (and anything sharing it)."""
    connection = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False,
                                 factory=Database)
    connection.execute("PRAGMA locking_mode=EXCLUSIVE")  # one owner: no lock syscalls per commit
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
    connection.executescript(_SCHEMA)
    connection.execute("BEGIN")
    if has_table(connection, "fix_message"):
        _migrate_per_message_rows(connection)
    connection.sent_rows.load(connection)
    return connection


class SessionRows:
    """One session's rows of ``fix_sent``, in order: three arrays of machine integers rather
    than a tuple per row, which the cyclic GC would walk (one per batch sent, all day)."""

    __slots__ = ("firsts", "ids", "lasts")

    def __init__(self) -> None:
        self.firsts = array("q")
        self.lasts = array("q")
        self.ids = array("q")

    def append(self, first: int, last: int, row_id: int) -> None:
        self.firsts.append(first)
        self.lasts.append(last)
        self.ids.append(row_id)

    def overlapping(self, begin: int, end: int) -> list[int]:
        """The ids of the rows holding a seq from ``begin`` to ``end``."""
        return [row_id for first, last, row_id in zip(self.firsts, self.lasts, self.ids,
                                                      strict=True)
                if last >= begin and first <= end]


class SentRows:
    """Which rows of ``fix_sent`` hold each session's messages (first seq, last seq, row id),
    kept in memory and read from the table once when the database opens. An index on
    (session, seq) in SQLite put one more page per session into every group commit, the
    sessions' rows interleaving (a tenth of the AP server's time in ``bench api``)."""

    def __init__(self) -> None:
        self.next_id = 1
        self.of: dict[str, SessionRows] = {}

    def load(self, connection: sqlite3.Connection) -> None:
        self.of.clear()
        for row_id, session_id, first, last in connection.execute(
                "SELECT id, session_id, first_seq, last_seq FROM fix_sent ORDER BY id"):
            self._rows(session_id).append(first, last, row_id)
            self.next_id = row_id + 1

    def add(self, session_id: str, first: int, last: int) -> int:
        """A new row's id."""
        row_id, self.next_id = self.next_id, self.next_id + 1
        self._rows(session_id).append(first, last, row_id)
        return row_id

    def _rows(self, session_id: str) -> SessionRows:
        rows = self.of.get(session_id)
        if rows is None:
            rows = self.of[session_id] = SessionRows()
        return rows


def has_table(connection: sqlite3.Connection, name: str) -> bool:
    return connection.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                              (name,)).fetchone() is not None


def _migrate_per_message_rows(connection: Database) -> None:
    """A database written when sent messages were one row each (``fix_message``): each becomes
    a row of ``fix_sent``, so a ResendRequest after the upgrade still finds it."""
    rows = connection.execute("SELECT session_id, seq, msg_type, sending_time, body"
                              " FROM fix_message ORDER BY session_id, seq").fetchall()
    connection.executemany("INSERT INTO fix_sent VALUES (NULL, ?, ?, ?, ?)", [
        (session_id, seq, seq, _encode_sent([(seq, msg_type, stamp, body)]))
        for session_id, seq, msg_type, stamp, body in rows])
    connection.execute("DROP TABLE fix_message")
    commit(connection)


class SessionStore:
    """One session's sequence numbers and sent messages."""

    def __init__(self, connection: Database, session_id: str) -> None:
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
        self._seqs_dirty = False
        self._unsaved: list[SentMessage] = []

    @property
    def next_sender_seq(self) -> int:
        return self._next_sender_seq

    @next_sender_seq.setter
    def next_sender_seq(self, seq: int) -> None:
        self._next_sender_seq = seq
        self._seqs_changed()

    @property
    def next_target_seq(self) -> int:
        return self._next_target_seq

    @next_target_seq.setter
    def next_target_seq(self, seq: int) -> None:
        self._next_target_seq = seq
        self._seqs_changed()

    def record_sent(self, seq: int, msg_type: bytes, sending_time: bytes, body: bytes) -> None:
        """Keep a sent message for resends (``body``: everything after the standard header);
        the next one sent is ``seq + 1``."""
        if not self._unsaved:
            self._db.defer(self._save_sent)
        self._unsaved.append((seq, msg_type, sending_time, body))
        self._next_sender_seq = seq + 1
        self._seqs_changed()

    def sent_between(self, begin: int, end: int) -> list[SentMessage]:
        """Stored (seq, msg_type, sending_time, body) with begin <= seq <= end, in order."""
        self._db.flush_deferred()
        held = self._db.sent_rows.of.get(self.session_id)
        ids = held.overlapping(begin, end) if held is not None else []
        rows = self._db.execute(
            "SELECT messages FROM fix_sent WHERE id BETWEEN ? AND ? AND session_id = ?"
            " AND last_seq >= ? AND first_seq <= ? ORDER BY id",
            (ids[0] if ids else 0, ids[-1] if ids else -1, self.session_id, begin, end))
        found: dict[int, SentMessage] = {}
        for (blob,) in rows:
            for message in _decode_sent(blob):
                if begin <= message[0] <= end:
                    found[message[0]] = message  # a later recording of a seq wins
        return [found[seq] for seq in sorted(found)]

    def reset(self) -> None:
        """Sequence reset (ResetSeqNumFlag or a new day): both sides start again at 1."""
        self._unsaved.clear()  # recorded before the reset, never to be resent
        self._db.flush_deferred()  # rows a failed write left waiting go first, then with the rest
        rows = self._db.sent_rows.of.pop(self.session_id, None)
        self._db.executemany("DELETE FROM fix_sent WHERE id = ?",
                             [(row_id,) for row_id in (rows.ids if rows is not None else ())])
        self.next_sender_seq = self.next_target_seq = 1

    def commit(self) -> None:
        """Make everything recorded so far durable (this store's and the connection's)."""
        commit(self._db)

    def commit_soon(self, release: Callable[[], None]) -> None:
        """``release`` once what was recorded so far is durable (``Database.commit_soon``)."""
        self._db.commit_soon(release)

    def _seqs_changed(self) -> None:
        if not self._seqs_dirty:
            self._seqs_dirty = True
            self._db.defer(self._save_seqs)

    def _save_seqs(self) -> None:
        self._seqs_dirty = False
        self._db.write_row(_SAVE_SEQS, (self._next_sender_seq, self._next_target_seq,
                                        self.session_id))

    def _save_sent(self) -> None:
        unsaved = self._unsaved
        if unsaved:  # a reset may have emptied it since
            first, last = unsaved[0][0], unsaved[-1][0]
            row_id = self._db.sent_rows.add(self.session_id, first, last)
            self._db.write_row(_SAVE_SENT, (row_id, self.session_id, first, last,
                                            _encode_sent(unsaved)))
            unsaved.clear()


def commit(connection: Database) -> None:
    """Commit the open transaction (buffered writes included), start the next one, and release
    what was waiting for it (``Database.commit_soon``)."""
    connection.group_commit()
