"""From the real core to the back office: the thesis's two orders placed, sent, filled by the
exchange and booked; unknown reports held; a restart catches up exactly what was missed."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

from tests.core.support import (
    ACCOUNT,
    BROKER,
    MARGIN,
    SELL,
    T0,
    Desk,
    reference_commands,
)

from brokercloud.backoffice import commands as b
from brokercloud.backoffice.feed import (
    CoreFeed,
    commands_for,
    disposal_commands,
    holdings_for_core,
    reference_from_core,
    settle_due,
)
from brokercloud.backoffice.margin import DisposalOrder
from brokercloud.backoffice.queries import exceptions_of, net_amounts
from brokercloud.backoffice.store import BackOffice
from brokercloud.codes import Code
from brokercloud.core import commands as c
from brokercloud.core import events as e
from brokercloud.core.sequencer import Core, Sequencer
from brokercloud.market.orders import OrderType, Side
from brokercloud.market.sessions import Session

TUE = date(2025, 11, 25)  # the core tests' trading day
THU = date(2025, 11, 27)  # its T+2


def _thesis_day(desk: Desk) -> list[e.Event]:
    """Margin buy 10 lots at 76.2 and cash sell 5 lots at 77.3, both filled."""
    buy = desk.live(qty=10_000, price=7_620, credit=MARGIN)
    sell = desk.live(side=SELL, qty=5_000, price=7_730)
    return desk.fill(buy, 10_000, 7_620, exec_id="X1") + desk.fill(sell, 5_000, 7_730,
                                                                     exec_id="X2")


def _office(tmp_path: Path, desk: Desk) -> BackOffice:
    office = BackOffice(tmp_path, fsync=False)
    office.execute(reference_from_core(desk.state, office.ledger))
    return office


def test_feed_when_core_fills_thesis_orders_then_booked_with_exact_net(tmp_path: Path) -> None:
    desk = Desk()
    office = _office(tmp_path, desk)
    events = _thesis_day(desk)
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
    office = _office(tmp_path, desk)
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
    office = _office(tmp_path, desk)
    events = _thesis_day(desk)
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


def test_settle_due_when_investor_cannot_pay_then_core_refuses_their_orders(
        tmp_path: Path) -> None:
    async def scenario() -> tuple[list[Code], Code]:
        core = Core(tmp_path / "core", fsync=False)
        core.execute(reference_commands())
        office = BackOffice(tmp_path / "backoffice", fsync=False)
        feed = CoreFeed(office, core.state)
        feed.catch_up()  # no deposit: the account cannot pay
        async with Sequencer(core, [feed]) as sequencer:
            [*_, accepted] = await sequencer.submit(c.PlaceOrder(
                at=T0 + 1_000, broker=BROKER, account=ACCOUNT, user="sales1",
                client_ref="r1", symbol="2330", side=Side.BUY, qty=1_000, price=7_620))
            order_id = accepted.order_id  # type: ignore[union-attr]
            await sequencer.submit(c.MarkSent(at=T0 + 2_000, order_id=order_id, line="L1"))
            await sequencer.submit(c.ExchangeFilled(at=T0 + 3_000, order_id=order_id,
                                                    exec_id="X1", price=7_620, qty=1_000))
            feed.drain()
            codes = await settle_due(office, sequencer, THU)
            [rejected] = await sequencer.submit(c.PlaceOrder(
                at=T0 + 4_000, broker=BROKER, account=ACCOUNT, user="sales1",
                client_ref="r2", symbol="2330", side=Side.BUY, qty=1_000, price=7_620))
        office.close()
        core.close()
        return codes, rejected.code  # type: ignore[union-attr]

    codes, rejected = asyncio.run(scenario())
    assert codes == [Code.OK]
    assert rejected == Code.ACCOUNT_DEFAULTED


def test_disposal_commands_when_call_not_met_then_core_accepts_the_forced_sale(
        tmp_path: Path) -> None:
    desk = Desk()
    office = _office(tmp_path, desk)
    buy = desk.live(qty=10_000, price=7_620, credit=MARGIN)
    office.execute(commands_for(desk.state, office.ledger, desk.fill(buy, 10_000, 7_620)))
    office.execute([b.MarkPrices(date=TUE, prices={"2330": 6_800})])  # 148.8%: no call
    office.execute([b.MarkPrices(date=date(2025, 11, 26), prices={"2330": 5_900})])
    office.execute([b.MarkPrices(date=date(2025, 12, 1), prices={"2330": 5_900})])
    [order] = office.ledger.disposals
    [command] = disposal_commands([order], office.ledger.prices, T0 + 10_000)
    assert (command.side, command.credit, command.qty, command.order_type) == (
        SELL, MARGIN, 10_000, OrderType.MARKET)
    events = desk.do(command)
    assert not any(isinstance(event, e.OrderRejected) for event in events), events
    assert desk.do(command)[0].code == Code.DUPLICATE_CLIENT_REF  # type: ignore[union-attr]
    office.close()


def test_disposal_commands_when_large_or_odd_then_499_lot_chunks_and_odd_lot_limit() -> None:
    order = DisposalOrder("9A00", ACCOUNT, TUE, "2330", SELL, MARGIN, 600_250)
    commands = disposal_commands([order], {"2330": 5_900}, T0)
    assert [(x.qty, x.order_type, x.session, x.price) for x in commands] == [
        (499_000, OrderType.MARKET, Session.REGULAR, 0),
        (101_000, OrderType.MARKET, Session.REGULAR, 0),
        (250, OrderType.LIMIT, Session.ODD_LOT, 5_900)]
    assert len({x.client_ref for x in commands}) == 3


def test_commands_for_when_account_opened_then_registered_once_with_its_holdings(
        tmp_path: Path) -> None:
    desk = Desk()
    office = _office(tmp_path, desk)
    events = desk.do(c.OpenAccount(at=T0 + 1, account="22223333", broker=BROKER, branch="001",
                                   name="Hsu", discount_bp=5_000))
    events += desk.do(c.SetHolding(at=T0 + 2, account="22223333", symbol="2330", shares=3_000))
    commands = commands_for(desk.state, office.ledger, events + events)
    assert [type(x).__name__ for x in commands] == ["RegisterAccount", "SetHolding"]
    office.execute(commands)
    assert office.ledger.accounts["22223333"].fees.discount_bp == 5_000
    assert office.ledger.accounts["22223333"].available == {"2330": 3_000}
    office.close()


def test_holdings_for_core_when_next_day_then_yesterdays_trades_count(tmp_path: Path) -> None:
    desk = Desk()  # ACCOUNT holds 10,000 shares of 2330 at the depository
    office = _office(tmp_path, desk)
    buy = desk.live(qty=2_000, price=7_620)
    margin = desk.live(qty=3_000, price=7_620, credit=MARGIN)
    sell = desk.live(side=SELL, qty=1_000, price=7_620)
    events = (desk.fill(buy, 2_000) + desk.fill(margin, 3_000) + desk.fill(sell, 1_000))
    office.execute(commands_for(desk.state, office.ledger, events))
    assert holdings_for_core(desk.state, office.ledger, TUE, T0) == []  # today: as it was
    wednesday = T0 + 24 * 3_600_000
    [command] = holdings_for_core(desk.state, office.ledger, date(2025, 11, 26), wednesday)
    # 10,000 + 2,000 bought + 3,000 on margin - 1,000 sold
    assert (command.account, command.symbol, command.shares) == (ACCOUNT, "2330", 14_000)
    desk.do(command)
    desk.now = wednesday
    desk.order_id(qty=1_000, price=7_620)  # Wednesday's first order starts the core's day
    assert desk.account().available_shares("2330") == 14_000
    assert holdings_for_core(desk.state, office.ledger, date(2025, 11, 26), wednesday) == []
    office.close()
