"""The thesis's two worked examples end to end: the middle office's core and line pool against
the exchange simulator over FIX on loopback (reference 74.7; the account margin-buys 10 lots of
2330 at 76.2 and cash-sells 5 lots at 77.3)."""

import asyncio
import contextlib
import datetime
from collections.abc import AsyncIterator
from pathlib import Path
from typing import NamedTuple

import pytest

from brokercloud.codes import Code
from brokercloud.core import commands as c
from brokercloud.core.journal import JournalFile
from brokercloud.core.oms import OrderState
from brokercloud.core.sequencer import Core, Sequencer, decode
from brokercloud.exchange.clock import SimulatedClock
from brokercloud.exchange.registry import demo_registry
from brokercloud.exchange.server import ExchangeConfig, RunningExchange, running_exchange
from brokercloud.fix.store import open_database
from brokercloud.lines.pool import LineConfig, LinePool
from brokercloud.market.instruments import Disposition, Instrument
from brokercloud.market.orders import Side
from brokercloud.market.sessions import at

BROKERS = ["9A00", "9B00"]
TSMC = Instrument(symbol="2330", name="TSMC", margin_eligible=True, short_eligible=True)
T0 = 1_795_564_800_000  # 2026-11-25 08:00 Taiwan


def _reference_data() -> list[c.Cmd]:
    commands: list[c.Cmd] = [c.ListInstrument(at=T0, instrument=TSMC, reference=7470,
                                              previous_close=7470)]
    for broker in BROKERS:
        commands += [c.AddBroker(at=T0, broker=broker, name=broker),
                     c.AddBranch(at=T0, broker=broker, branch="001", name="HQ")]
    commands += [
        c.OpenAccount(at=T0, account="12345678", broker="9A00", branch="001", name="Investor",
                      margin=True, trading_limit=1_000_000, credit_limit=1_000_000),
        c.SetHolding(at=T0, account="12345678", symbol="2330", shares=5_000),
        c.OpenAccount(at=T0, account="99990001", broker="9B00", branch="001", name="Other",
                      trading_limit=10_000_000),
        c.SetHolding(at=T0, account="99990001", symbol="2330", shares=20_000)]
    return commands


def _order(account: str, broker: str, ref: str, side: Side, lots: int, price: int,
           credit: c.Credit = c.Credit.CASH) -> c.PlaceOrder:
    return c.PlaceOrder(at=T0 + 3_600_000, broker=broker, account=account, user="desk",
                        client_ref=ref, symbol="2330", side=side, qty=lots * 1000, price=price,
                        credit=credit)


class Platform(NamedTuple):
    exchange: RunningExchange
    core: Core
    sequencer: Sequencer
    pool: LinePool
    lines: list[LineConfig]


@contextlib.asynccontextmanager
async def platform(tmp_path: Path, reference: list[c.Cmd] | None = None
                   ) -> AsyncIterator[Platform]:
    """The exchange simulator on loopback, a core with the reference data, and the line pool
    logged on to every demo line; everything stopped afterwards."""
    registry = demo_registry(BROKERS)
    clock = SimulatedClock(datetime.date(2026, 11, 25), at(9, 0, 1), 1)
    config = ExchangeConfig(data_dir=str(tmp_path / "exchange"))
    lines = [LineConfig(line.line, line.password, line.brokers) for line in registry.lines]
    async with running_exchange(config, registry, [(TSMC, 7470)], clock) as exchange:
        core = Core(tmp_path / "core")
        if not core.state.brokers:
            core.execute(reference if reference is not None else _reference_data())
        async with Sequencer(core) as sequencer:
            pool = LinePool(sequencer, lines, open_database(tmp_path / "lines.db"),
                            "127.0.0.1", exchange.fix_port)
            await pool.start()
            try:
                yield Platform(exchange, core, sequencer, pool, lines)
            finally:
                await pool.stop()
        core.close()


async def _wait_for(condition, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.01)


def test_thesis_examples_when_sent_over_fix_then_filled_with_exact_reservations(tmp_path: Path):
    async def scenario() -> None:
        async with platform(tmp_path) as p:
            buy = await p.sequencer.submit(
                _order("12345678", "9A00", "thesis-1", Side.BUY, 10, 7620, c.Credit.MARGIN))
            sell = await p.sequencer.submit(
                _order("12345678", "9A00", "thesis-2", Side.SELL, 5, 7730))
            buy_id, sell_id = buy[0].order_id, sell[0].order_id
            account = p.core.state.accounts["12345678"]
            # reserved on acceptance: own part 762,000 + 1,085 - loan 457,000; the loan
            assert (account.used_trading, account.used_credit) == (306_085, 457_000)
            assert account.available_shares("2330") == 0  # 5 lots offered
            # the other broker's account takes the other side of both
            await p.sequencer.submit(_order("99990001", "9B00", "c1", Side.SELL, 10, 7620))
            await p.sequencer.submit(_order("99990001", "9B00", "c2", Side.BUY, 5, 7730))
            orders = p.core.state.orders
            await _wait_for(lambda: orders[buy_id].state is OrderState.FILLED
                            and orders[sell_id].state is OrderState.FILLED)
            assert [(fill.price, fill.qty) for fill in orders[buy_id].fills.values()] == [
                (7620, 10_000)]
            assert [(fill.price, fill.qty) for fill in orders[sell_id].fills.values()] == [
                (7730, 5_000)]
            assert (account.used_trading, account.used_credit) == (306_085, 457_000)
            assert account.bought["2330"] == 10_000 and account.sell_reserved["2330"] == 5_000
            assert account.available_shares("2330") == 10_000  # 5 held + 10 bought - 5 sold
            assert orders[buy_id].exchange_order_id > 0 and orders[buy_id].line
            # each order went out exactly once, on the lines its broker may use
            assert sorted(order_id for _, order_id in p.pool.recent_sends()) == sorted(orders)

    asyncio.run(scenario())


def test_restart_when_crash_came_after_mark_sent_then_reconciled_and_sent_once(
        tmp_path: Path):
    """The core journaled an order as sent, but the process died before its NewOrderSingle
    reached the line: after the restart the pool asks the exchange, learns it does not know
    the order, sends it once, and it fills."""
    placed: list[str] = []

    def crash_after_mark_sent(core: Core) -> None:
        events = core.execute([_order("12345678", "9A00", "t1", Side.BUY, 2, 7500)])
        placed.append(events[0][0].order_id)
        core.execute([c.MarkSent(at=T0, order_id=placed[0], line="T9A00A0")])  # then: crash
        core.close()
        reopened = Core(tmp_path / "core")  # the restart: replay
        assert reopened.state.orders[placed[0]].state is OrderState.SENT
        reopened.close()

    async def scenario() -> None:
        core = Core(tmp_path / "core")
        core.execute(_reference_data())
        crash_after_mark_sent(core)
        async with platform(tmp_path) as p:
            order_id = placed[0]
            orders = p.core.state.orders
            await _wait_for(lambda: orders[order_id].state is OrderState.ACKNOWLEDGED)
            await p.sequencer.submit(_order("99990001", "9B00", "c1", Side.SELL, 2, 7500))
            await _wait_for(lambda: orders[order_id].state is OrderState.FILLED)
            assert p.pool.recent_sends().count(("T9A00A0", order_id)) == 1
            cl_ord_ids = [o.cl_ord_id for o in p.exchange.gateway.exchange.orders.values()]
            assert cl_ord_ids.count(order_id) == 1

    asyncio.run(scenario())


def test_order_when_above_approval_threshold_then_waits_approved_by_supervisor_then_sent(
        tmp_path: Path):
    """Tiered approval end to end: nothing reaches the exchange until a named supervisor of the
    broker approves; then the order is sent once and trades."""
    reference = _reference_data()
    reference[1] = c.AddBroker(at=T0, broker="9A00", name="9A00", approval_bands=[(500_000, 1)])
    reference.append(c.AddStaff(at=T0, broker="9A00", user="chen", role=c.Role.SUPERVISOR,
                                level=1))

    async def scenario() -> None:
        async with platform(tmp_path, reference) as p:
            placed = await p.sequencer.submit(
                _order("12345678", "9A00", "big", Side.BUY, 10, 7620, c.Credit.MARGIN))
            order_id = placed[0].order_id
            assert placed[0].state is OrderState.PENDING_APPROVAL
            assert (placed[1].amount, placed[1].level) == (763_085, 1)
            await asyncio.sleep(0.2)
            assert not p.pool.recent_sends() and not p.exchange.gateway.exchange.orders
            await p.sequencer.submit(c.Approve(at=T0 + 3_700_000, broker="9A00", user="chen",
                                               order_id=order_id))
            orders = p.core.state.orders
            await _wait_for(lambda: orders[order_id].state is OrderState.ACKNOWLEDGED)
            await p.sequencer.submit(_order("99990001", "9B00", "c1", Side.SELL, 10, 7620))
            await _wait_for(lambda: orders[order_id].state is OrderState.FILLED)
            assert [step.what for step in orders[order_id].audit][:3] == [
                "needs_approval", "approved", "sent"]
            assert orders[order_id].audit[1].by == "chen"
            assert len(p.pool.recent_sends()) == 2

    asyncio.run(scenario())


def test_line_when_dropped_by_the_exchange_then_logged_on_again_and_orders_flow(
        tmp_path: Path):
    """A line's connection drops mid-day: the pool logs it on again with its sequence numbers
    resumed, and orders keep flowing (on the other line meanwhile)."""
    async def scenario() -> None:
        async with platform(tmp_path) as p:
            line = p.lines[0].line
            first = p.pool.sessions[line]
            assert first.store is not None
            sent_before = first.store.next_sender_seq
            p.exchange.gateway.sessions[line].disconnect()
            await _wait_for(lambda: p.pool.sessions[line] is not first
                            and p.pool.sessions[line].state.value == "active")
            again = p.pool.sessions[line].store
            assert again is not None and again.next_sender_seq > sent_before  # not reset
            placed = [await p.sequencer.submit(_order("12345678", "9A00", f"b{i}", Side.BUY,
                                                      1, 7500)) for i in range(4)]
            await p.sequencer.submit(_order("99990001", "9B00", "s", Side.SELL, 4, 7500))
            orders = p.core.state.orders
            ids = [events[0].order_id for events in placed]
            await _wait_for(lambda: all(orders[i].state is OrderState.FILLED for i in ids))

    asyncio.run(scenario())


def _margin_buy() -> c.PlaceOrder:
    return _order("12345678", "9A00", "thesis-1", Side.BUY, 10, 7620, c.Credit.MARGIN)


def _cash_sell(lots: int = 5) -> c.PlaceOrder:
    return _order("12345678", "9A00", "thesis-2", Side.SELL, lots, 7730)


_NOT_MARGIN_ELIGIBLE = Instrument(symbol="2330", name="TSMC", short_eligible=True)
_IN_DISPOSITION = Instrument(symbol="2330", name="TSMC", margin_eligible=True,
                             disposition=Disposition.REPEAT)


@pytest.mark.parametrize(("change", "order", "code"), [
    (c.SetAccountStatus(at=T0, account="12345678", status=c.AccountStatus.DEFAULTED),
     _margin_buy(), Code.ACCOUNT_DEFAULTED),
    (c.ListInstrument(at=T0, instrument=_NOT_MARGIN_ELIGIBLE, reference=7470),
     _margin_buy(), Code.NOT_MARGIN_ELIGIBLE),
    (c.SetAccountLimits(at=T0, account="12345678", trading_limit=300_000,
                        credit_limit=1_000_000), _margin_buy(), Code.TRADING_LIMIT_EXCEEDED),
    (c.SetAccountLimits(at=T0, account="12345678", trading_limit=1_000_000,
                        credit_limit=400_000), _margin_buy(), Code.CREDIT_LIMIT_EXCEEDED),
    (c.ListInstrument(at=T0, instrument=_IN_DISPOSITION, reference=7470), _margin_buy(),
     Code.DISPOSITION_PREPAYMENT_REQUIRED),
    (c.SetHolding(at=T0, account="12345678", symbol="2330", shares=4_000), _cash_sell(),
     Code.INSUFFICIENT_INVENTORY),
])
def test_thesis_variant_when_a_check_fails_then_its_code_and_nothing_reaches_the_exchange(
        tmp_path: Path, change: c.Cmd, order: c.PlaceOrder, code: Code):
    """Each check of the thesis's Tables 4-1 and 4-2, failed by one change to the worked
    example's reference data, refuses the order with its own code before any line sees it."""
    async def scenario() -> None:
        async with platform(tmp_path, [*_reference_data(), change]) as p:
            events = await p.sequencer.submit(order)
            assert [(type(x).__name__, x.code) for x in events] == [("OrderRejected", code)]
            await asyncio.sleep(0.1)
            assert not p.pool.recent_sends() and not p.exchange.gateway.exchange.orders

    asyncio.run(scenario())


def test_dispatch_when_several_lines_free_then_their_marks_share_one_group_commit(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Every NewOrderSingle waits for its MarkSent to be durable; the marks of one dispatch
    round are committed together, or the pool sends one order per fsync whatever its lines
    allow."""
    marks_per_append: list[int] = []
    append = JournalFile.append

    def counting_append(journal: JournalFile, payloads: list[bytes]) -> None:
        marks_per_append.append(sum(isinstance(decode(payload), c.MarkSent)
                                    for payload in payloads))
        append(journal, payloads)

    monkeypatch.setattr(JournalFile, "append", counting_append)

    async def scenario() -> None:
        async with platform(tmp_path) as p:
            orders = [_order("12345678", "9A00", f"a{n}", Side.BUY, 1, 7470) for n in range(2)]
            orders += [_order("99990001", "9B00", f"b{n}", Side.SELL, 1, 7480) for n in range(2)]
            await asyncio.gather(*(p.sequencer.submit_nowait(order) for order in orders))
            await _wait_for(lambda: len(p.pool.recent_sends()) == 4)
            assert len({line for line, _ in p.pool.recent_sends()}) == 4  # one order on each line

    asyncio.run(scenario())
    assert max(marks_per_append) == 4
