"""The back office survives a restart: its journal rebuilds the same books."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.backoffice.support import (
    ACCOUNT,
    BROKER,
    BUY,
    MARGIN,
    SELL,
    THU,
    fill,
    reference,
)

from brokercloud.backoffice import commands as b
from brokercloud.backoffice.ledger import Ledger
from brokercloud.backoffice.queries import balance_of, exceptions_of, holdings_of, net_amounts
from brokercloud.backoffice.store import BackOffice
from brokercloud.codes import Code


def _view(books: Ledger) -> bytes:
    return msgspec.msgpack.encode([
        sorted(books.bookings.items()), net_amounts(books, BROKER),
        holdings_of(books, BROKER, ACCOUNT), balance_of(books, BROKER, ACCOUNT),
        exceptions_of(books, BROKER), sorted(books.settled.items())])


def test_restart_when_journal_replayed_then_same_books(tmp_path: Path) -> None:
    office = BackOffice(tmp_path, fsync=False)
    office.execute(reference())
    office.execute([fill(BUY, 10_000, 7_620, credit=MARGIN), fill(SELL, 5_000, 7_730),
                    fill(BUY, 1_000, 7_620, account="99999999"),
                    b.Settle(date=date(2026, 11, 27)), fill(BUY, 1_000, 7_620, trade_date=THU)])
    before = _view(office.ledger)
    office.close()
    again = BackOffice(tmp_path, fsync=False)
    assert _view(again.ledger) == before
    balance = balance_of(again.ledger, BROKER, ACCOUNT)
    assert balance is not None and balance.loans == 457_000
    again.close()


def test_restart_when_fill_redelivered_after_restart_then_booked_once(tmp_path: Path) -> None:
    command = fill(BUY, 1_000, 7_620)
    office = BackOffice(tmp_path, fsync=False)
    office.execute([*reference(), command])
    office.close()
    again = BackOffice(tmp_path, fsync=False)
    assert again.execute([command]) == [Code.OK]
    [amount] = net_amounts(again.ledger, BROKER, ACCOUNT)
    assert (amount.fills, amount.net) == (1, -76_308)
    again.close()


def test_restart_when_journal_tail_torn_then_books_up_to_last_whole_record(
        tmp_path: Path) -> None:
    office = BackOffice(tmp_path, fsync=False)
    office.execute([*reference(), fill(BUY, 1_000, 7_620)])
    office.close()
    journal = tmp_path / "backoffice.bin"
    journal.write_bytes(journal.read_bytes() + b"\x40\x00\x00\x00garbage")
    again = BackOffice(tmp_path, fsync=False)
    assert len(again.ledger.bookings) == 1
    again.close()


def test_restart_when_snapshot_then_tail_replayed_to_the_same_books(tmp_path: Path) -> None:
    office = BackOffice(tmp_path, fsync=False)
    office.execute(reference())
    office.execute([fill(BUY, 10_000, 7_620, credit=MARGIN), fill(SELL, 5_000, 7_730)])
    office.snapshot()
    office.execute([b.Settle(date=date(2026, 11, 27)), fill(BUY, 1_000, 7_620, trade_date=THU)])
    before = _view(office.ledger)
    office.close()
    again = BackOffice(tmp_path, fsync=False)
    assert _view(again.ledger) == before
    seen: list[object] = []
    again.ledger.feed.subscribe(ACCOUNT, seen.append)  # listeners work after a restore
    again.execute([fill(BUY, 1_000, 7_620, trade_date=THU)])
    assert len(seen) == 1
    again.close()


def test_restart_when_snapshot_ahead_of_journal_then_ignored(tmp_path: Path) -> None:
    office = BackOffice(tmp_path, fsync=False)
    office.execute([*reference(), fill(BUY, 1_000, 7_620)])
    office.snapshot()
    office.close()
    (tmp_path / "backoffice.bin").write_bytes(b"")  # the journal lost, the snapshot not
    again = BackOffice(tmp_path, fsync=False)
    assert again.ledger.bookings == {}
    again.close()


_junk = st.one_of(st.none(), st.integers(-10**6, 10**6), st.floats(allow_nan=False),
                  st.text(max_size=5), st.sampled_from([date(2026, 11, 25), date(2026, 11, 28)]))


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["account", "symbol", "side", "credit", "price",
                                           "qty", "trade_date"]), _junk), max_size=4),
       st.lists(st.one_of(st.builds(b.Deposit, account=st.just(ACCOUNT), amount=_junk),
                          st.builds(b.Settle, date=_junk),
                          st.builds(b.TopUp, account=st.just(ACCOUNT), amount=_junk)),
                max_size=3))
def test_execute_when_garbage_then_codes_never_raises_and_replay_agrees(
        tmp_path_factory: pytest.TempPathFactory, damage: list[tuple[str, object]],
        others: list[b.BoCmd]) -> None:
    directory = tmp_path_factory.mktemp("office")
    office = BackOffice(directory, fsync=False)
    office.execute(reference())
    bad = msgspec.structs.replace(fill(BUY, 1_000, 7_620), **dict(damage))
    codes = office.execute([bad, *others, fill(BUY, 1_000, 7_620)])
    assert all(isinstance(code, Code) for code in codes)
    assert codes[-1] is Code.OK  # the good fill after the garbage still books
    before = _view(office.ledger)
    office.close()
    again = BackOffice(directory, fsync=False)
    assert _view(again.ledger) == before
    again.close()
