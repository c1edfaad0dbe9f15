"""The exchange's command journal: what it records, in what order, per trading date, what
survives a commit and what does not, and a gateway rebuilding its day from it (no sockets)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import msgspec
import pytest

from brokercloud.exchange.clock import SimulatedClock
from brokercloud.exchange.commands import AmendOrder, CancelOrder, NewOrder
from brokercloud.exchange.fix_gateway import ExchangeGateway
from brokercloud.exchange.journal import Journal, JournalEntry
from brokercloud.exchange.registry import demo_registry
from brokercloud.fix.codec import frame, parse
from brokercloud.fix.store import Database, SessionStore, commit, open_database
from brokercloud.market.instruments import Instrument
from brokercloud.market.orders import OrderType, Side, TimeInForce
from brokercloud.market.sessions import Session, at

DAY = date(2026, 11, 25)
NEXT_DAY = date(2026, 11, 26)
START = at(9, 0, 1)
TSMC = Instrument(symbol="2330", name="TSMC")
LISTINGS = [(TSMC, 7470)]
COMMANDS = [
    NewOrder("9A00", "12345678", "C1", "2330", Side.BUY, 3000, 7470),
    NewOrder("9B00", "87654321", "C1", "2330", Side.SELL, 300, 0, OrderType.MARKET,
             TimeInForce.IOC, Session.ODD_LOT),
    AmendOrder("9A00", 0, "C1", "R1", qty=2000),
    AmendOrder("9A00", 1, "", "R2", price=7460),
    CancelOrder("9A00", 0, "R2", "X1"),
    CancelOrder("9A00", order_id=1),
]


@pytest.fixture
def connection(tmp_path: Path) -> Iterator[Database]:
    """The FIX store's connection, which buffers the journal's entries until the commit."""
    db = open_database(tmp_path / "journal.db")
    yield db
    db.close()


def test_a_new_day_and_its_seed_and_listings(connection: Database) -> None:
    journal = Journal(connection, DAY)
    assert journal.day() is None
    listings = msgspec.msgpack.encode(LISTINGS)
    journal.start_day(7, listings, True)
    assert journal.day() == (7, listings, 1)
    assert Journal(connection, NEXT_DAY).day() is None  # each trading date its own
    Journal(connection, NEXT_DAY).start_day(8, b"", False)
    assert Journal(connection, NEXT_DAY).day() == (8, b"", 0)
    with pytest.raises(sqlite3.IntegrityError):
        journal.start_day(9, listings, False)  # a day starts once


def test_entries_come_back_in_order_with_their_lines_and_times(
        connection: Database) -> None:
    journal = Journal(connection, DAY)
    journal.record_tick(at(9))
    for i, command in enumerate(COMMANDS):
        journal.record_command(START + i, f"T9A00A{i % 2}", command)
    journal.record_tick(at(13, 30))
    entries = list(journal.entries())  # reads what it wrote, deferred or not
    assert entries == [
        JournalEntry(at(9), "", None),
        *[JournalEntry(START + i, f"T9A00A{i % 2}", command)
          for i, command in enumerate(COMMANDS)],
        JournalEntry(at(13, 30), "", None)]
    assert [type(entry.command) for entry in entries[1:-1]] == [
        NewOrder, NewOrder, AmendOrder, AmendOrder, CancelOrder, CancelOrder]
    assert list(Journal(connection, NEXT_DAY).entries()) == []


def test_the_schema_is_created_once(connection: Database) -> None:
    Journal(connection, DAY).record_command(START, "T9A00A0", COMMANDS[0])
    again = Journal(connection, DAY)  # a restart on the same database
    assert [entry.command for entry in again.entries()] == [COMMANDS[0]]


def test_a_journal_with_one_row_per_entry_is_migrated_in_order(tmp_path: Path) -> None:
    old = sqlite3.connect(tmp_path / "exchange.db")
    old.execute("CREATE TABLE exchange_journal (id INTEGER PRIMARY KEY, trading_date TEXT NOT NULL,"
                " time INTEGER NOT NULL, line TEXT NOT NULL, kind INTEGER NOT NULL, payload BLOB)")
    rows = [(DAY.isoformat(), at(9), "", 0, None),
            *[(DAY.isoformat(), START + i, "T9A00A0", kind, msgspec.msgpack.encode(command))
              for i, (kind, command) in enumerate([(1, COMMANDS[0]), (3, COMMANDS[2]),
                                                   (2, COMMANDS[4])])],
            (NEXT_DAY.isoformat(), START, "T9A00A1", 1, msgspec.msgpack.encode(COMMANDS[1]))]
    old.executemany("INSERT INTO exchange_journal (trading_date, time, line, kind, payload)"
                    " VALUES (?, ?, ?, ?, ?)", rows)
    old.commit()
    old.close()
    db = open_database(tmp_path / "exchange.db")
    try:
        assert list(Journal(db, DAY).entries()) == [
            JournalEntry(at(9), "", None), JournalEntry(START, "T9A00A0", COMMANDS[0]),
            JournalEntry(START + 1, "T9A00A0", COMMANDS[2]),
            JournalEntry(START + 2, "T9A00A0", COMMANDS[4])]
        assert list(Journal(db, NEXT_DAY).entries()) == [
            JournalEntry(START, "T9A00A1", COMMANDS[1])]
    finally:
        db.close()


def test_only_committed_entries_survive(tmp_path: Path) -> None:
    path = tmp_path / "exchange.db"
    db = open_database(path)
    journal = Journal(db, DAY)
    journal.start_day(1, b"", False)
    journal.record_command(START, "T9A00A0", COMMANDS[0])
    commit(db)
    journal.record_command(START + 1, "T9A00A0", COMMANDS[1])  # the process dies before commit
    db.close()
    db = open_database(path)
    try:
        assert list(Journal(db, DAY).entries()) == [
            JournalEntry(START, "T9A00A0", COMMANDS[0])]
        assert Journal(db, DAY).day() == (1, b"", 0)
    finally:
        db.close()


# -- a gateway replaying its journal ---------------------------------------------------------------


def gateway(db: Database, clock_start: int = START,
            listings: list[tuple[Instrument, int]] | None = None) -> ExchangeGateway:
    return ExchangeGateway(demo_registry(["9A00", "9B00"], 1), LISTINGS if listings is None
                           else listings, db, SimulatedClock(DAY, clock_start))


def reports(db: Database, line: str) -> list[dict[bytes, bytes]]:
    """What the exchange stored for a line (it was not logged on): the messages' fields."""
    store = SessionStore(db, f"XTAI->{line}")
    return [parse(frame(b"35=%s\x0149=XTAI\x0156=%s\x0134=%d\x0152=%s\x01%s" % (
        msg_type, line.encode(), seq, stamp, body))).fields
        for seq, msg_type, stamp, body in store.sent_between(1, 1 << 30)]


def test_a_restarted_gateway_rebuilds_the_day_from_the_journal(tmp_path: Path) -> None:
    path = tmp_path / "exchange.db"
    db = open_database(path)
    first = gateway(db, START + 60_000)  # 09:01:01
    first.apply("T9A00A0", NewOrder("9A00", "A1", "C1", "2330", Side.BUY, 3000, 7470))
    first.apply("T9B00A0", NewOrder("9B00", "B1", "S1", "2330", Side.SELL, 1000, 7470))
    first.apply("T9A00A0", AmendOrder("9A00", 0, "C1", "R1", qty=1000 + 1000))
    first.apply("T9A00A0", NewOrder("9A00", "A1", "C2", "2330", Side.BUY, 1000, 7460))
    first.apply("T9A00A0", CancelOrder("9A00", 0, "C2", "X1"))
    first.apply("T9B00A0", NewOrder("9B00", "B1", "S2", "2330", Side.SELL, 2000, 7500))
    book = first.exchange.book("2330")
    assert book is not None
    depth = book.depth()
    assert depth == ([(7470, 1000)], [(7500, 2000)])
    orders = {key: msgspec.structs.asdict(order) for key, order in first.exchange.orders.items()}
    now = first.exchange.now
    stored = reports(db, "T9A00A0")
    assert [(m[b"150"], m[b"37"]) for m in stored] == [
        (b"0", b"1"), (b"F", b"1"), (b"5", b"1"), (b"0", b"3"), (b"4", b"3")]
    commit(db)
    db.close()

    db = open_database(path)
    try:
        # the day's listings and seed come from the journal, not from the caller
        second = gateway(db, START, listings=[])
        book = second.exchange.book("2330")
        assert book is not None and book.depth() == depth
        assert {key: msgspec.structs.asdict(order)
                for key, order in second.exchange.orders.items()} == orders
        # nothing was reported again, and the clock does not go back before the journal
        assert reports(db, "T9A00A0") == stored
        assert second.exchange.now == now >= START + 60_000
        assert second.clock.now() >= now

        # the next order and execution IDs follow on; a fill of C1 goes to C1's line
        second.apply("T9B00A0", NewOrder("9B00", "B1", "S3", "2330", Side.SELL, 1000, 7470))
        fill = reports(db, "T9A00A0")[-1]
        assert (fill[b"150"], fill[b"37"], fill[b"11"], fill[b"14"], fill[b"151"],
                fill[b"6"], fill[b"34"]) == (b"F", b"1", b"R1", b"2000", b"0", b"74.7000", b"6")
        ack = reports(db, "T9B00A0")[-2]
        assert (ack[b"150"], ack[b"37"]) == (b"0", b"5")
        assert int(fill[b"17"]) == int(ack[b"17"]) + 1
        assert int(ack[b"37"]) == max(orders) + 1
        # the duplicate check survived too
        second.apply("T9A00A0", NewOrder("9A00", "A1", "C1", "2330", Side.BUY, 1000, 7400))
        duplicate = reports(db, "T9A00A0")[-1]
        assert (duplicate[b"150"], duplicate[b"5001"]) == (b"8", b"3001")
    finally:
        db.close()
