"""From the core to the back office: its events and state as back-office commands.

The core's ``Fill`` event names the order; the order (in the core's state) says how it was
financed and when each fill happened, which the booking needs. So the translation runs next to
the core's state, on the sequencer's event loop, but booking itself runs after the core has
answered: ``CoreFeed`` is a sequencer listener that only queues events, and its task books
them in batches, with the journal's fsync on a worker thread (the thesis: booking during the
day must not slow order entry). Booking's CPU still shares the loop with the core; `bench
booking` measures the cost, and a back office in its own process is the next step.

Depository balances come from the core once, when an account first reaches the back office;
after that the back office's own books are the truth (settlement moves them), so the core's
later ``SetHolding`` is not forwarded (it would undo settlement).
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

from brokercloud.backoffice import commands as b
from brokercloud.backoffice.ledger import Ledger
from brokercloud.backoffice.store import BackOffice
from brokercloud.codes import Code
from brokercloud.core import events as e
from brokercloud.core.state import CoreState
from brokercloud.market.orders import Side
from brokercloud.market.sessions import taiwan_date

log = logging.getLogger("brokercloud.backoffice.feed")


def reference_from_core(state: CoreState, ledger: Ledger) -> list[b.BoCmd]:
    """Brokers, symbols and accounts the back office does not know yet, with the opening
    depository balances of new accounts; and the commission terms of known accounts whose
    terms the core changed since (a discount set by the broker's administrator)."""
    commands: list[b.BoCmd] = [b.RegisterBroker(broker=broker) for broker in state.brokers
                               if broker not in ledger.brokers]
    commands += [b.RegisterSymbol(symbol=symbol, kind=listed.instrument.kind)
                 for symbol, listed in state.listed.items() if symbol not in ledger.kinds]
    for name, account in state.accounts.items():
        known = ledger.accounts.get(name)
        if known is not None and (known.fees, known.day_trading) == (account.fees,
                                                                     account.day_trading):
            continue
        commands.append(b.RegisterAccount(account=name, broker=account.broker, fees=account.fees,
                                          day_trading=account.day_trading))
        if known is None:
            commands += [b.SetHolding(account=name, symbol=symbol, shares=shares)
                         for symbol, shares in account.holdings.items()]
    return commands


def book_fill(state: CoreState, fill: e.Fill) -> b.BoCmd:
    """The booking command for a core fill; an order the core no longer knows is held."""
    order = state.orders.get(fill.order_id)
    if order is None or not order.fills or fill.exec_id not in order.fills:
        return b.HoldException(broker=fill.broker, order_id=fill.order_id,
                               code=Code.UNKNOWN_ORDER_ID, detail=f"fill {fill.exec_id}")
    return b.BookFill(broker=fill.broker, account=fill.account, order_id=fill.order_id,
                      exec_id=fill.exec_id, symbol=fill.symbol, side=_SIDES[fill.side],
                      credit=order.credit, price=fill.price, qty=fill.qty,
                      trade_date=taiwan_date(order.fills[fill.exec_id].at))


_SIDES = {int(side): side for side in Side}


def commands_for(state: CoreState, ledger: Ledger, events: list[e.Event]) -> list[b.BoCmd]:
    """What a batch of the core's events asks of the back office."""
    commands: list[b.BoCmd] = []
    reference = False
    for event in events:
        if isinstance(event, e.Fill):
            commands.append(book_fill(state, event))
        elif isinstance(event, e.UnknownReport):
            commands.append(b.HoldException(broker=event.broker, order_id=event.order_id,
                                            code=Code.UNKNOWN_ORDER_ID, detail=event.report))
        elif isinstance(event, e.ReferenceChanged) and event.what != "SetHolding":
            reference = True
    if reference:  # new brokers, accounts or symbols go first, looked up once per batch
        return reference_from_core(state, ledger) + commands
    return commands


def all_fills(state: CoreState) -> list[e.Fill]:
    """Every fill the core holds, in the order they happened."""
    fills = sorted(((fill.at, exec_id, fill.price, fill.qty, order)
                    for order in state.orders.values()
                    for exec_id, fill in (order.fills or {}).items()),
                   key=lambda item: (item[0], item[1]))
    return [e.Fill(seq=0, broker=order.broker, account=order.account, order_id=order.order_id,
                   exec_id=exec_id, symbol=order.symbol, side=int(order.side), price=price,
                   qty=qty)
            for _, exec_id, price, qty, order in fills]


#: How long booking lets the core's events gather before writing a batch. The fills are
#: already durable in the core's journal (``catch_up`` books what a stop lost), so this costs
#: a pushed net amount at most this much delay and saves a journal write, an fsync and two
#: thread hand-offs per batch: under load, one batch per order path turn.
GATHER_S = 0.01


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
                await asyncio.sleep(GATHER_S)
                try:
                    commands = self._take()
                    if commands:
                        checked = await loop.run_in_executor(writer, self.office.write,
                                                             commands)
                        self.office.apply(checked)
                except Exception:  # the back office must never take the platform down
                    log.exception("booking a batch of the core's events failed")
