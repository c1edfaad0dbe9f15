"""The exchange's journal: every command and every clock step that ran scheduled actions, in
order, in SQLite, so a restarted exchange rebuilds its books by replaying them through a fresh,
deterministic engine.

It lives in the same database as the FIX store and commits with it: a command is durable exactly
when the sequence number of the message that carried it is. Entries are buffered and written at
the group commit as one row per batch (their msgpack list, ``Database.defer``): one insert
however many commands the batch held, and no encoding call per command.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import msgspec

from brokercloud.exchange.commands import AmendOrder, CancelOrder, Command, NewOrder
from brokercloud.fix.store import Database, has_table

_SCHEMA = """
CREATE TABLE IF NOT EXISTS exchange_day (
    trading_date TEXT PRIMARY KEY,
    seed INTEGER NOT NULL,
    listings BLOB NOT NULL,
    price_stabilization INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS exchange_journal_batch (
    id INTEGER PRIMARY KEY,
    trading_date TEXT NOT NULL,
    entries BLOB NOT NULL
);
"""

TICK, NEW, CANCEL, AMEND = 0, 1, 2, 3
_KINDS: dict[type, int] = {NewOrder: NEW, CancelOrder: CANCEL, AmendOrder: AMEND}
_TYPES: dict[int, type] = {kind: cls for cls, kind in _KINDS.items()}
#: A batch as stored: [time, line, kind, command (nil for a clock step)] per entry.
_Row = tuple[int, str, int, Command | None]
_decode_batch = msgspec.msgpack.Decoder(list[tuple[int, str, int, msgspec.Raw]]).decode


class JournalEntry(msgspec.Struct, frozen=True):
    time: int
    line: str
    command: Command | None  # None: a clock step


class Journal:
    def __init__(self, connection: Database, trading_date: date) -> None:
        self._db = connection
        self._date = trading_date.isoformat()
        for statement in _SCHEMA.strip().split(";"):
            if statement.strip():
                connection.execute(statement)
        self._encode = msgspec.msgpack.Encoder().encode
        self._unsaved: list[_Row] = []
        if has_table(connection, "exchange_journal"):
            self._migrate_per_entry_rows()

    def _migrate_per_entry_rows(self) -> None:
        """A journal written when entries were one row each (``exchange_journal``): they are
        rewritten in order, one batch row each, so a restart after the upgrade replays them."""
        rows = self._db.execute("SELECT trading_date, time, line, kind, payload"
                                " FROM exchange_journal ORDER BY id").fetchall()
        self._db.executemany("INSERT INTO exchange_journal_batch VALUES (NULL, ?, ?)", [
            (trading_date, self._encode([(time, line, kind, None if kind == TICK else
                                          msgspec.msgpack.decode(payload, type=_TYPES[kind]))]))
            for trading_date, time, line, kind, payload in rows])
        self._db.execute("DROP TABLE exchange_journal")

    def day(self) -> tuple[int, bytes, int] | None:
        """(seed, listings, price stabilisation on) recorded when this trading date started, or
        None for a new day: a replay must run the engine exactly as configured then."""
        return self._db.execute(
            "SELECT seed, listings, price_stabilization FROM exchange_day WHERE trading_date = ?",
            (self._date,)).fetchone()

    def start_day(self, seed: int, listings: bytes, price_stabilization: bool) -> None:
        self._db.execute("INSERT INTO exchange_day VALUES (?, ?, ?, ?)",
                         (self._date, seed, listings, int(price_stabilization)))

    def record_command(self, time: int, line: str, command: Command) -> None:
        self._record((time, line, _KINDS[type(command)], command))

    def record_tick(self, time: int) -> None:
        self._record((time, "", TICK, None))

    def _record(self, row: _Row) -> None:
        if not self._unsaved:
            self._db.defer(self._save)
        self._unsaved.append(row)

    def _save(self) -> None:
        self._db.execute("INSERT INTO exchange_journal_batch VALUES (NULL, ?, ?)",
                         (self._date, self._encode(self._unsaved)))
        self._unsaved.clear()

    def entries(self) -> Iterator[JournalEntry]:
        self._db.flush_deferred()
        rows = self._db.execute(
            "SELECT entries FROM exchange_journal_batch WHERE trading_date = ? ORDER BY id",
            (self._date,))
        for (batch,) in rows:
            for time, line, kind, command in _decode_batch(batch):
                yield JournalEntry(time, line, None if kind == TICK else msgspec.msgpack.decode(
                    command, type=_TYPES[kind]))
