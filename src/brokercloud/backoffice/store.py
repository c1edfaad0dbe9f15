"""The back office's durability: its own journal of commands, replayed on open.

The ledger is a pure function of its commands, so the journal is the whole persistent state
(the core's design, and the core's ``JournalFile``: CRC'd records, torn tail truncated), with
the core's snapshots so a restart replays only the journal's tail.
Not the core's journal alone, because settlement runs and bank deposits are back-office inputs
the core never sees. What the core decided but the back office had not yet journaled when a
process stopped is recovered by ``feed.CoreFeed.catch_up``: fills are booked once by
(order ID, exec ID), so offering them all again books exactly the missing ones.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

import msgspec

from brokercloud.backoffice.commands import BoCmd, Command
from brokercloud.backoffice.ledger import Ledger
from brokercloud.codes import Code
from brokercloud.core.journal import JournalFile
from brokercloud.core.snapshot import load_snapshot, write_snapshot
from brokercloud.market.calendar import TWSE_CALENDAR, TradingCalendar

log = logging.getLogger("brokercloud.backoffice.store")

SNAPSHOT = "backoffice-snapshot.bin"
_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(Command)


def encode(command: BoCmd) -> bytes:
    return _encoder.encode(command)


class BackOffice:
    """The ledger and its journal: replay on open, then journal-and-apply."""

    def __init__(self, data_dir: str | Path, *, fsync: bool = True,
                 calendar: TradingCalendar = TWSE_CALENDAR) -> None:
        self.data_dir = Path(data_dir)
        self.journal = JournalFile(self.data_dir / "backoffice.bin", fsync=fsync)
        self.ledger, start = load_snapshot(self.data_dir, lambda: Ledger(calendar), SNAPSHOT)
        if start > self.journal.records:
            log.warning("back-office snapshot at %d is ahead of the journal (%d); ignoring it",
                        start, self.journal.records)
            self.ledger, start = Ledger(calendar), 0
        apply = self.ledger.apply
        for payload in self.journal.read(start):
            try:
                apply(_decoder.decode(payload))
            except Exception:  # it failed the same way live; the books must still open
                log.exception("journaled back-office command fails to apply; skipped")

    def snapshot(self) -> Path:
        """The books as of every journaled command, so a restart replays only what follows
        (the core's snapshot format: checksummed, written atomically)."""
        return write_snapshot(self.data_dir, self.ledger, self.journal.records, SNAPSHOT)

    def execute(self, commands: Iterable[BoCmd]) -> list[Code]:
        """Journal a batch durably, then apply it; one code per command."""
        return self.apply(self.write(list(commands)))

    def write(self, batch: list[BoCmd]) -> list[BoCmd | None]:
        """The durable half of ``execute``: safe on a worker thread (it touches only the
        journal), so an event loop need not wait for the fsync. Each command goes through
        the journal's own encoding and back, so what is applied is exactly what a replay will
        apply, and a command that does not fit its schema (a float for money, a string for a
        date) is refused here (None) instead of journaled."""
        payloads: list[bytes] = []
        checked: list[BoCmd | None] = []
        for command in batch:
            try:
                payload = encode(command)
                checked.append(_decoder.decode(payload))
            except (TypeError, ValueError, msgspec.ValidationError):
                log.warning("malformed back-office command refused: %r", command)
                checked.append(None)
                continue
            payloads.append(payload)
        self.journal.append(payloads)
        return checked

    def apply(self, checked: list[BoCmd | None]) -> list[Code]:
        """The other half, on the thread that owns the ledger, after ``write``."""
        results = []
        for command in checked:
            if command is None:
                results.append(Code.MALFORMED_COMMAND)
                continue
            try:
                results.append(self.ledger.apply(command))
            except Exception:  # a bug in one command must not stop booking the rest
                log.exception("back-office command failed: %r", command)
                results.append(Code.BACK_OFFICE_FAULT)
        return results

    def close(self) -> None:
        self.journal.close()
