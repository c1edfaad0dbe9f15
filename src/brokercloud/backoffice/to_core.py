"""What the back office asks of the core: defaults after settlement, each day's opening
holdings, and forced disposals, as the core's own commands.

The core stays the only place that decides on orders and accounts; the back office submits
commands to its sequencer like any other client, and each is durable in the core's journal.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import date

from brokercloud.backoffice import commands as b
from brokercloud.backoffice.ledger import Ledger
from brokercloud.backoffice.margin import DisposalOrder
from brokercloud.backoffice.store import BackOffice
from brokercloud.codes import Code
from brokercloud.core import commands as c
from brokercloud.core.sequencer import Sequencer
from brokercloud.core.state import CoreState
from brokercloud.market.lots import BOARD_LOT, MAX_BOARD_LOT_SHARES
from brokercloud.market.orders import OrderType
from brokercloud.market.sessions import Session

log = logging.getLogger("brokercloud.backoffice.to_core")


def due_settlements(ledger: Ledger, today: date) -> list[b.Settle]:
    """Every settlement date up to ``today`` with trades not yet settled, oldest first."""
    return [b.Settle(date=day) for day in sorted(ledger.days)
            if day <= today and day not in ledger.settled]


async def settle_due(office: BackOffice, sequencer: Sequencer, today: date) -> list[Code]:
    """Settle what is due and tell the core of every investor who defaulted (the risk checks
    then refuse their orders with ACCOUNT_DEFAULTED). A stop between the two loses the
    status change: the default record stays in the books for the broker's workflow."""
    codes = []
    for command in due_settlements(office.ledger, today):
        [code] = office.execute([command])
        codes.append(code)
        if code is Code.OK:
            for change in office.ledger.settled[command.date].status_changes:
                await sequencer.submit(change)
    return codes


async def close_default(office: BackOffice, sequencer: Sequencer, account: str,
                        settle_date: date, on: date, at: int) -> Code:
    """The defaulter paid up: the case closes in the books and, with no other case open, the
    core reopens the account (its orders are accepted again)."""
    [code] = office.execute([b.CloseDefault(account=account, settle_date=settle_date, on=on)])
    if code is Code.OK and not office.ledger.open_defaults(account):
        await sequencer.submit(c.SetAccountStatus(at=at, account=account,
                                                  status=c.AccountStatus.OPEN))
    return code


def start_of_day_holdings(ledger: Ledger, today: date) -> dict[str, dict[str, int]]:
    """Each account's shares at the start of ``today``, by symbol: settled in the depository
    and margin accounts, plus what earlier days traded that has not settled yet (T+2: bought
    shares can be sold before they arrive). Shares withheld from a defaulter are not theirs."""
    holdings: dict[str, dict[str, int]] = {}
    for name, books in ledger.accounts.items():
        shares = dict(books.depository)
        for symbol, qty in books.pledged.items():
            shares[symbol] = shares.get(symbol, 0) + qty
        for settle_date, part in books.days.items():
            if ledger.days[settle_date].trade_date < today:
                for symbol, (free, pledged, _) in part.shares.items():
                    shares[symbol] = shares.get(symbol, 0) + free + pledged
        holdings[name] = {symbol: qty for symbol, qty in shares.items() if qty}
    return holdings


def holdings_for_core(state: CoreState, ledger: Ledger, today: date,
                      at: int) -> list[c.SetHolding]:
    """The core's start-of-day holdings where they differ from the back office's (the core
    keeps only today's trades; settlement is the back office's). Nothing when they agree,
    so sending them again in the middle of a day changes nothing."""
    commands = []
    for name, shares in start_of_day_holdings(ledger, today).items():
        account = state.accounts.get(name)
        if account is None:
            continue
        for symbol in sorted(set(shares) | set(account.holdings)):
            if shares.get(symbol, 0) != account.holdings.get(symbol, 0):
                commands.append(c.SetHolding(at=at, account=name, symbol=symbol,
                                             shares=shares.get(symbol, 0)))
    return commands


async def start_day(office: BackOffice, sequencer: Sequencer, today: date,
                    at: int) -> list[Code]:
    """What a day starts with, at start-up or when the date turns: settle what is due (the
    core learns of defaults), then give the core the day's opening holdings."""
    codes = await settle_due(office, sequencer, today)
    for command in holdings_for_core(sequencer.core.state, office.ledger, today, at):
        await sequencer.submit(command)
    return codes


async def start_days_forever(office: BackOffice, sequencer: Sequencer,
                             today: Callable[[], date], now_ms: Callable[[], int],
                             poll_s: float = 30.0) -> None:
    """A platform that runs for days starts each new date as it started up: without this,
    T+2 would settle only at the next restart. Checked every ``poll_s``; a failure is logged
    and tried again at the next date, never taking the platform down."""
    started = today()
    while True:
        await asyncio.sleep(poll_s)
        day = today()
        if day == started:
            continue
        started = day
        try:
            await start_day(office, sequencer, day, now_ms())
        except Exception:
            log.exception("starting the back office's day %s failed", day)


DISPOSAL_USER = "backoffice"  # who the core's audit trail names for forced disposals


def disposal_commands(orders: list[DisposalOrder], prices: dict[str, int],
                      at: int) -> list[c.PlaceOrder]:
    """The core's orders for forced disposals: market orders of at most 499 lots each, and an
    odd remainder as an odd-lot limit order at the last marked price (odd lots take limit
    orders only). Client references name the day, account and symbol, so submitting them
    twice is refused by the core as a duplicate rather than sold twice."""
    commands = []
    for order in orders:
        whole = order.qty - order.qty % BOARD_LOT
        chunks = [MAX_BOARD_LOT_SHARES] * (whole // MAX_BOARD_LOT_SHARES)
        chunks += [whole % MAX_BOARD_LOT_SHARES, order.qty % BOARD_LOT]
        ref = f"disposal-{order.on:%Y%m%d}-{order.account}-{order.symbol}"
        for n, qty in enumerate(chunks):
            if not qty:
                continue
            odd = qty < BOARD_LOT
            commands.append(c.PlaceOrder(
                at=at, broker=order.broker, account=order.account, user=DISPOSAL_USER,
                client_ref=f"{ref}-{n}", symbol=order.symbol, side=order.side, qty=qty,
                price=prices[order.symbol] if odd else 0,
                order_type=OrderType.LIMIT if odd else OrderType.MARKET,
                session=Session.ODD_LOT if odd else Session.REGULAR, credit=order.credit))
    return commands


def disposals_due(state: CoreState, ledger: Ledger, at: int) -> list[c.PlaceOrder]:
    """The forced sales the core has not been given yet. Their client references name the
    day they were decided, and the core refuses a reference twice only within a day, so the
    core's own records of orders placed by the back office say what was sent already."""
    sent = {order.client_ref for order in state.orders.values() if order.user == DISPOSAL_USER}
    return [command for command in disposal_commands(ledger.disposals, ledger.prices, at)
            if command.client_ref not in sent]


async def mark_prices(office: BackOffice, sequencer: Sequencer, today: date,
                      prices: dict[str, int], at: int, tried: set[str]) -> None:
    """Value the margin accounts at ``prices`` (calls open or clear) and send the core every
    forced sale now due. ``tried`` holds what this process sent already, so a sale the core
    refuses is not sent again at every marking."""
    office.execute([b.MarkPrices(date=today, prices=prices)])
    for command in disposals_due(sequencer.core.state, office.ledger, at):
        if command.client_ref not in tried:
            tried.add(command.client_ref)
            await sequencer.submit(command)


async def mark_prices_forever(office: BackOffice, sequencer: Sequencer,
                              today: Callable[[], date],
                              prices: Callable[[], Awaitable[dict[str, int]]],
                              now_ms: Callable[[], int], every_s: float = 60.0) -> None:
    """Maintenance ratios follow the market while the platform runs: marked every
    ``every_s`` at the last prices; a failure is logged and tried at the next marking."""
    tried: set[str] = set()
    while True:
        await asyncio.sleep(every_s)
        try:
            await mark_prices(office, sequencer, today(), await prices(), now_ms(), tried)
        except Exception:
            log.exception("marking the margin accounts failed")
