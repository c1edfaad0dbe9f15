"""From the core to the back office: its events and state as back-office commands.

The core's ``Fill`` event names the order; the order (in the core's state) says how it was
financed and when each fill happened, which the booking needs. So the translation runs next to
the core's state, on the sequencer's event loop, but booking itself runs after the core has
answered: ``CoreFeed`` is a sequencer listener that only queues events, and its task books
them in batches, with the journal's fsync on a worker thread, off the order path (the thesis:
booking during the day must not slow order entry).

Depository balances come from the core once, when an account first reaches the back office;
after that the back office's own books are the truth (settlement moves them), so the core's
later ``SetHolding`` is not forwarded (it would undo settlement).
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime

from brokercloud.backoffice import commands as b
from brokercloud.backoffice.ledger import Ledger
from brokercloud.backoffice.margin import DisposalOrder
from brokercloud.backoffice.store import BackOffice
from brokercloud.codes import Code
from brokercloud.core import commands as c
from brokercloud.core import events as e
from brokercloud.core.sequencer import Sequencer
from brokercloud.core.state import CoreState
from brokercloud.market.lots import BOARD_LOT, MAX_BOARD_LOT_SHARES
from brokercloud.market.orders import OrderType, Side
from brokercloud.market.sessions import TAIWAN, Session

log = logging.getLogger("brokercloud.backoffice.feed")


def reference_from_core(state: CoreState, ledger: Ledger) -> list[b.BoCmd]:
    """Brokers, symbols and accounts the back office does not know yet, with the opening
    depository balances of new accounts."""
    commands: list[b.BoCmd] = [b.RegisterBroker(broker=broker) for broker in state.brokers
                               if broker not in ledger.brokers]
    commands += [b.RegisterSymbol(symbol=symbol, kind=listed.instrument.kind)
                 for symbol, listed in state.listed.items() if symbol not in ledger.kinds]
    for name, account in state.accounts.items():
        if name in ledger.accounts:
            continue
        commands.append(b.RegisterAccount(account=name, broker=account.broker, fees=account.fees,
                                          day_trading=account.day_trading))
        commands += [b.SetHolding(account=name, symbol=symbol, shares=shares)
                     for symbol, shares in account.holdings.items()]
    return commands


def book_fill(state: CoreState, fill: e.Fill) -> b.BoCmd:
    """The booking command for a core fill; an order the core no longer knows is held."""
    order = state.orders.get(fill.order_id)
    if order is None or not order.fills or fill.exec_id not in order.fills:
        return b.HoldException(broker=fill.broker, order_id=fill.order_id,
                               code=Code.UNKNOWN_ORDER_ID, detail=f"fill {fill.exec_id}")
    at = order.fills[fill.exec_id][0]
    return b.BookFill(broker=fill.broker, account=fill.account, order_id=fill.order_id,
                      exec_id=fill.exec_id, symbol=fill.symbol, side=Side(fill.side),
                      credit=order.credit, price=fill.price, qty=fill.qty,
                      trade_date=datetime.fromtimestamp(at / 1000, TAIWAN).date())


def commands_for(state: CoreState, ledger: Ledger, events: list[e.Event]) -> list[b.BoCmd]:
    """What a batch of the core's events asks of the back office."""
    commands: list[b.BoCmd] = []
    if any(isinstance(event, e.ReferenceChanged) and event.what != "SetHolding"
           for event in events):  # new brokers, accounts or symbols first, once per batch
        commands += reference_from_core(state, ledger)
    for event in events:
        if isinstance(event, e.Fill):
            commands.append(book_fill(state, event))
        elif isinstance(event, e.UnknownReport):
            commands.append(b.HoldException(broker=event.broker, order_id=event.order_id,
                                            code=Code.UNKNOWN_ORDER_ID, detail=event.report))
    return commands


def all_fills(state: CoreState) -> list[e.Fill]:
    """Every fill the core holds, in the order they happened."""
    fills = sorted(((at, exec_id, price, qty, order) for order in state.orders.values()
                    for exec_id, (at, price, qty) in (order.fills or {}).items()),
                   key=lambda item: (item[0], item[1]))
    return [e.Fill(seq=0, broker=order.broker, account=order.account, order_id=order.order_id,
                   exec_id=exec_id, symbol=order.symbol, side=int(order.side), price=price,
                   qty=qty)
            for _, exec_id, price, qty, order in fills]


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


class CoreFeed:
    """A sequencer listener that queues the core's events; ``run`` books them in batches."""

    def __init__(self, office: BackOffice, state: CoreState) -> None:
        self.office = office
        self.state = state
        self._pending: list[e.Event] = []
        self._wakeup = asyncio.Event()

    def __call__(self, events: list[e.Event]) -> None:
        self._pending.extend(events)
        self._wakeup.set()

    def catch_up(self) -> None:
        """Reference data and every fill the core holds; already booked fills change
        nothing, so this books exactly what a stop lost."""
        office, state = self.office, self.state
        office.execute(reference_from_core(state, office.ledger))
        office.execute([book_fill(state, fill) for fill in all_fills(state)])

    def _take(self) -> list[b.BoCmd]:
        events, self._pending = self._pending, []
        self._wakeup.clear()
        return commands_for(self.state, self.office.ledger, events)

    def drain(self) -> None:
        """Book what has queued, here and now (shutdown, tests)."""
        commands = self._take()
        if commands:
            self.office.execute(commands)

    async def run(self) -> None:
        """Book batches as they queue: the journal's fsync on a worker thread, so the event
        loop (and the order path on it) never waits for the disk; applying stays on the
        loop, the one thread that reads and changes the ledger."""
        loop = asyncio.get_running_loop()
        with ThreadPoolExecutor(1, thread_name_prefix="backoffice-journal") as writer:
            while True:
                await self._wakeup.wait()
                try:
                    commands = self._take()
                    if commands:
                        await loop.run_in_executor(writer, self.office.write, commands)
                        self.office.apply(commands)
                except Exception:  # the back office must never take the platform down
                    log.exception("booking a batch of the core's events failed")
