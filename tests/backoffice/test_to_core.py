"""From the back office to the real core: defaults refuse the defaulter's orders, forced
disposals are orders the core accepts once, each day opens with the settled holdings."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import NamedTuple

from tests.backoffice.core_support import THU, TUE, office_for
from tests.core.support import ACCOUNT, BROKER, MARGIN, SELL, T0, Desk, reference_commands

from brokercloud.backoffice import commands as b
from brokercloud.backoffice.feed import CoreFeed, commands_for
from brokercloud.backoffice.margin import DisposalOrder
from brokercloud.backoffice.store import BackOffice
from brokercloud.backoffice.to_core import (
    DISPOSAL_USER,
    close_default,
    disposal_commands,
    holdings_for_core,
    mark_prices,
    settle_due,
    start_day,
    start_days_forever,
)
from brokercloud.codes import Code
from brokercloud.core import commands as c
from brokercloud.core import events as e
from brokercloud.core.sequencer import Core, Sequencer
from brokercloud.market.orders import OrderType, Side
from brokercloud.market.sessions import Session


class Running(NamedTuple):
    core: Core
    office: BackOffice
    feed: CoreFeed
    sequencer: Sequencer


@contextlib.asynccontextmanager
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    """The real core with the test reference data, a back office listening to its sequencer
    and caught up (no deposits: the account cannot pay), all closed afterwards."""
    core = Core(tmp_path / "core", fsync=False)
    core.execute(reference_commands())
    office = BackOffice(tmp_path / "backoffice", fsync=False)
    feed = CoreFeed(office, core.state)
    feed.catch_up()
    try:
        async with Sequencer(core, [feed]) as sequencer:
            yield Running(core, office, feed, sequencer)
    finally:
        office.close()
        core.close()


async def bought(world: Running, ref: str = "r1", qty: int = 1_000,
                 credit: c.Credit = c.Credit.CASH) -> None:
    """ACCOUNT buys 2330 at 76.20 on Tuesday, filled whole and booked."""
    [*_, accepted] = await world.sequencer.submit(c.PlaceOrder(
        at=T0 + 1_000, broker=BROKER, account=ACCOUNT, user="sales1", client_ref=ref,
        symbol="2330", side=Side.BUY, qty=qty, price=7_620, credit=credit))
    order_id = accepted.order_id  # type: ignore[union-attr]
    await world.sequencer.submit(c.MarkSent(at=T0 + 2_000, order_id=order_id, line="L1"))
    await world.sequencer.submit(c.ExchangeFilled(at=T0 + 3_000, order_id=order_id,
                                                  exec_id=f"X-{ref}", price=7_620, qty=qty))
    world.feed.drain()


async def buy_events(world: Running, ref: str, at: int) -> list[e.Event]:
    """What the core answers to one more 1-lot buy of ACCOUNT's."""
    return await world.sequencer.submit(c.PlaceOrder(
        at=at, broker=BROKER, account=ACCOUNT, user="sales1", client_ref=ref, symbol="2330",
        side=Side.BUY, qty=1_000, price=7_620))


def test_settle_due_when_investor_cannot_pay_then_core_refuses_their_orders(
        tmp_path: Path) -> None:
    async def scenario() -> tuple[list[Code], Code]:
        async with running(tmp_path) as world:
            await bought(world)
            codes = await settle_due(world.office, world.sequencer, THU)
            [rejected] = await buy_events(world, "r2", T0 + 4_000)
        return codes, rejected.code  # type: ignore[union-attr]

    codes, rejected = asyncio.run(scenario())
    assert codes == [Code.OK]
    assert rejected == Code.ACCOUNT_DEFAULTED


def test_close_default_when_defaulter_pays_then_core_accepts_their_orders_again(
        tmp_path: Path) -> None:
    async def scenario() -> tuple[Code, Code, list[str]]:
        async with running(tmp_path) as world:
            await bought(world)
            await settle_due(world.office, world.sequencer, THU)
            short = await close_default(world.office, world.sequencer, ACCOUNT, THU, THU,
                                        T0 + 4_000)
            world.office.execute([b.Deposit(account=ACCOUNT, amount=1_000_000)])
            paid = await close_default(world.office, world.sequencer, ACCOUNT, THU, THU,
                                       T0 + 5_000)
            events = await buy_events(world, "r2", T0 + 6_000)
        return short, paid, [type(event).__name__ for event in events]

    short, paid, events = asyncio.run(scenario())
    assert short == Code.DEFAULT_PAYMENT_EXCEEDS_BANK_BALANCE
    assert paid == Code.OK
    assert events == ["OrderUpdated", "SendOrder"]  # the account trades again


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


def test_start_days_forever_when_the_date_turns_then_the_new_day_settles_without_a_restart(
        tmp_path: Path) -> None:
    """serve runs across days: Thursday's turn settles Tuesday's trades (this investor cannot
    pay, so the core then refuses them) while the platform keeps running."""
    days = [TUE]

    async def scenario() -> Code:
        async with running(tmp_path) as world:
            turning = asyncio.create_task(start_days_forever(
                world.office, world.sequencer, lambda: days[-1], lambda: T0 + 5_000,
                poll_s=0.01))
            await bought(world)
            await asyncio.sleep(0.05)
            assert THU not in world.office.ledger.settled  # the same day: nothing moves
            days.append(THU)
            for _ in range(200):
                if THU in world.office.ledger.settled:
                    break
                await asyncio.sleep(0.01)
            turning.cancel()
            [rejected] = await buy_events(world, "r2", T0 + 6_000)
        return rejected.code  # type: ignore[union-attr]

    assert asyncio.run(scenario()) == Code.ACCOUNT_DEFAULTED


def test_mark_prices_when_a_call_runs_past_its_deadline_then_the_core_gets_the_sale_once(
        tmp_path: Path) -> None:
    """Marked at 59.0 the day after a margin buy at 76.2: a call; still 59.0 after the
    deadline: the forced sale goes to the real core, once, however often prices are marked."""
    async def scenario() -> list[c.PlaceOrder]:
        tried: set[str] = set()
        async with running(tmp_path) as world:
            office, sequencer = world.office, world.sequencer
            await bought(world, "m1", 10_000, MARGIN)
            await mark_prices(office, sequencer, date(2025, 11, 26), {"2330": 5_900},
                              T0 + 4_000, tried)
            assert office.ledger.margin_calls and not office.ledger.disposals
            for _ in range(3):
                await mark_prices(office, sequencer, date(2025, 12, 1), {"2330": 5_900},
                                  T0 + 5_000, tried)
            # as after a restart, on a later day with the shares in the core's opening
            # holdings (the core's duplicate check of client references is per day): the
            # core's records alone prevent a repeat
            office.execute([b.Deposit(account=ACCOUNT, amount=10_000_000)])
            await start_day(office, sequencer, date(2025, 12, 2), T0 + 86_400_000)
            tried.clear()
            await mark_prices(office, sequencer, date(2025, 12, 2), {"2330": 5_900},
                              T0 + 86_400_000, tried)
            sales = [order for order in world.core.state.orders.values()
                     if order.user == DISPOSAL_USER]
        return sales  # type: ignore[return-value]

    sales = asyncio.run(scenario())
    assert [(order.side, order.credit, order.qty, order.order_type) for order in sales] == [
        (SELL, MARGIN, 10_000, OrderType.MARKET)]
