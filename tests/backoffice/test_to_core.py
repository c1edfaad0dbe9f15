"""From the back office to the real core: defaults refuse the defaulter's orders, forced
disposals are orders the core accepts once, each day opens with the settled holdings."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path

from tests.backoffice.core_support import THU, TUE, office_for
from tests.core.support import ACCOUNT, BROKER, MARGIN, SELL, T0, Desk, reference_commands

from brokercloud.backoffice import commands as b
from brokercloud.backoffice.feed import CoreFeed, commands_for
from brokercloud.backoffice.margin import DisposalOrder
from brokercloud.backoffice.store import BackOffice
from brokercloud.backoffice.to_core import disposal_commands, holdings_for_core, settle_due
from brokercloud.codes import Code
from brokercloud.core import commands as c
from brokercloud.core import events as e
from brokercloud.core.sequencer import Core, Sequencer
from brokercloud.market.orders import OrderType, Side
from brokercloud.market.sessions import Session


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
    office = office_for(tmp_path, desk)
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


def test_holdings_for_core_when_next_day_then_yesterdays_trades_count(tmp_path: Path) -> None:
    desk = Desk()  # ACCOUNT holds 10,000 shares of 2330 at the depository
    office = office_for(tmp_path, desk)
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
