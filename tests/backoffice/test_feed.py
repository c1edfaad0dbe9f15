"""From the real core to the back office: the thesis's two orders placed, sent, filled by the
exchange and booked; unknown reports held; a restart catches up exactly what was missed."""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from pathlib import Path

from tests.backoffice.core_support import THU, TUE, office_for, thesis_day
from tests.core.support import ACCOUNT, BROKER, MARGIN, T0, Desk, reference_commands

from brokercloud.backoffice.feed import CoreFeed, commands_for, trade_date
from brokercloud.backoffice.queries import exceptions_of, net_amounts
from brokercloud.backoffice.store import BackOffice
from brokercloud.codes import Code
from brokercloud.core import commands as c
from brokercloud.core.sequencer import Core, Sequencer
from brokercloud.market.orders import Side
from brokercloud.market.sessions import TAIWAN


def test_feed_when_core_fills_thesis_orders_then_booked_with_exact_net(tmp_path: Path) -> None:
    desk = Desk()
    office = office_for(tmp_path, desk)
    events = thesis_day(desk)
    commands = commands_for(desk.state, office.ledger, events)
    assert [type(command).__name__ for command in commands] == ["BookFill", "BookFill"]
    assert [(x.credit, x.trade_date) for x in commands] == [  # type: ignore[union-attr]
        (c.Credit.MARGIN, TUE), (c.Credit.CASH, TUE)]
    assert office.execute(commands) == [Code.OK, Code.OK]
    [amount] = net_amounts(office.ledger, BROKER, ACCOUNT)
    assert (amount.trade_date, amount.settle_date, amount.net) == (TUE, THU, 78_706)
    office.close()


def test_feed_when_core_reports_unknown_order_then_held_for_operator(tmp_path: Path) -> None:
    desk = Desk()
    office = office_for(tmp_path, desk)
    events = desk.do(c.ExchangeFilled(at=T0 + 1, order_id="20251125-99999999", exec_id="X9",
                                      price=7_620, qty=1_000))
    office.execute(commands_for(desk.state, office.ledger, events))
    [record] = exceptions_of(office.ledger, "")
    assert (record.order_id, record.code, record.detail) == (
        "20251125-99999999", Code.UNKNOWN_ORDER_ID, "ExchangeFilled")
    office.close()


def test_catch_up_when_back_office_missed_fills_then_books_exactly_those(
        tmp_path: Path) -> None:
    desk = Desk()
    office = office_for(tmp_path, desk)
    events = thesis_day(desk)
    office.execute(commands_for(desk.state, office.ledger, events[:1]))  # the buy only
    office.close()
    again = BackOffice(tmp_path, fsync=False)  # restarted; the sell was never journaled here
    CoreFeed(again, desk.state).catch_up()
    assert len(again.ledger.bookings) == 2
    [amount] = net_amounts(again.ledger, BROKER, ACCOUNT)
    assert (amount.fills, amount.net) == (2, 78_706)
    again.close()


def test_core_feed_when_listening_to_sequencer_then_books_off_the_order_path(
        tmp_path: Path) -> None:
    async def scenario() -> int:
        core = Core(tmp_path / "core", fsync=False)
        core.execute(reference_commands())
        office = BackOffice(tmp_path / "backoffice", fsync=False)
        feed = CoreFeed(office, core.state)
        feed.catch_up()
        task = asyncio.create_task(feed.run())
        async with Sequencer(core, [feed]) as sequencer:
            [*_, accepted] = await sequencer.submit(c.PlaceOrder(
                at=T0 + 1_000, broker=BROKER, account=ACCOUNT, user="sales1",
                client_ref="r1", symbol="2330", side=Side.BUY, qty=10_000, price=7_620,
                credit=MARGIN))
            order_id = accepted.order_id  # type: ignore[union-attr]
            await sequencer.submit(c.MarkSent(at=T0 + 2_000, order_id=order_id, line="L1"))
            await sequencer.submit(c.ExchangeFilled(at=T0 + 3_000, order_id=order_id,
                                                    exec_id="X1", price=7_620, qty=10_000))
            for _ in range(100):
                if office.ledger.bookings:
                    break
                await asyncio.sleep(0.01)
        task.cancel()
        [amount] = net_amounts(office.ledger, BROKER, ACCOUNT)
        office.close()
        core.close()
        return amount.net

    assert asyncio.run(scenario()) == -306_085


def test_commands_for_when_account_opened_then_registered_once_with_its_holdings(
        tmp_path: Path) -> None:
    desk = Desk()
    office = office_for(tmp_path, desk)
    events = desk.do(c.OpenAccount(at=T0 + 1, account="22223333", broker=BROKER, branch="001",
                                   name="Hsu", discount_bp=5_000))
    events += desk.do(c.SetHolding(at=T0 + 2, account="22223333", symbol="2330", shares=3_000))
    commands = commands_for(desk.state, office.ledger, events + events)
    assert [type(x).__name__ for x in commands] == ["RegisterAccount", "SetHolding"]
    office.execute(commands)
    assert office.ledger.accounts["22223333"].fees.discount_bp == 5_000
    assert office.ledger.accounts["22223333"].available == {"2330": 3_000}
    office.close()


def test_trade_date_when_around_taiwan_midnight_then_as_the_time_zone_says() -> None:
    midnight = int(datetime(2026, 11, 26, tzinfo=TAIWAN).timestamp() * 1000)
    for at in (midnight - 1, midnight, midnight + 1, T0, 0, 1_893_456_000_000):
        assert trade_date(at) == datetime.fromtimestamp(at / 1000, TAIWAN).date(), at
    assert trade_date(midnight - 1) == date(2026, 11, 25)
    assert trade_date(midnight) == date(2026, 11, 26)
