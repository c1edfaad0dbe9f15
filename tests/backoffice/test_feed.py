"""From the real core to the back office: the thesis's two orders placed, sent, filled by the
exchange and booked; unknown reports held; a restart catches up exactly what was missed."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.backoffice.core_support import THU, TUE, office_for, thesis_day
from tests.core.support import ACCOUNT, BROKER, MARGIN, T0, Desk, reference_commands

from brokercloud.backoffice.feed import CoreFeed, commands_for
from brokercloud.backoffice.queries import exceptions_of, net_amounts
from brokercloud.backoffice.store import BackOffice
from brokercloud.codes import Code
from brokercloud.core import commands as c
from brokercloud.core.sequencer import Core, Sequencer
from brokercloud.market.orders import Side


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


def test_commands_for_when_discount_changed_later_then_fills_book_at_the_new_rate(
        tmp_path: Path) -> None:
    """A discount the administrator sets after the account reached the back office applies to
    the next fills, and the holdings are not registered again."""
    desk = Desk()
    office = office_for(tmp_path, desk)
    events = desk.do(c.SetCommissionDiscount(at=T0 + 1, account=ACCOUNT, discount_bp=6_000))
    commands = commands_for(desk.state, office.ledger, events)
    assert [type(x).__name__ for x in commands] == ["RegisterAccount"]
    office.execute(commands)
    buy = desk.live(qty=1_000, price=7_620)
    [booked] = commands_for(desk.state, office.ledger, desk.fill(buy, 1_000, price=7_620))
    office.execute([booked])
    booking = office.ledger.booking(buy, booked.exec_id)  # type: ignore[union-attr]
    # 76,200 x 0.1425% x 60% = 65.15 -> 65 (the old full rate: 108.58 -> 108)
    assert booking is not None and booking.commission == 65
    assert commands_for(desk.state, office.ledger, events) == []  # the same terms: nothing
    office.close()
