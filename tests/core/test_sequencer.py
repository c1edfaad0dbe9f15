"""The sequencer and the Core: commands are answered only once the journal holds them, in the
order they were submitted; execute-then-reopen rebuilds the same state; and a property test: any
sequence of random valid and invalid commands replays to identical states, with reservations
that never go negative and come back to what the fills used once every order has finished."""

from __future__ import annotations

import asyncio
import gc
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from brokercloud.codes import Code
from brokercloud.core import commands as c
from brokercloud.core import events as e
from brokercloud.core.commands import AccountStatus, Credit
from brokercloud.core.oms import AT_EXCHANGE, FINISHED, OrderState
from brokercloud.core.sequencer import Core, Sequencer
from brokercloud.core.state import CoreState
from brokercloud.market.instruments import Disposition
from brokercloud.market.orders import OrderType, Side

from .scenario import place, run_day
from .support import (
    ACCOUNT,
    BANDS,
    BROKER,
    CASH_ACCOUNT,
    OTHER_ACCOUNT,
    OTHER_BROKER,
    SALES,
    SUP1,
    SUP2,
    T0,
    TSMC,
    disposition_listing,
    fingerprint,
    first,
    oracle_holds,
    order_reference_price,
    reference_commands,
)


def reference() -> list[c.Cmd]:
    return reference_commands(bands=BANDS)


# -- the sequencer -----------------------------------------------------------------------------

def test_submit_when_awaited_then_the_journal_already_holds_the_command(tmp_path: Path) -> None:
    async def scenario() -> tuple[list[e.Event], Core]:
        core = Core(tmp_path)
        core.execute(reference())
        async with Sequencer(core) as sequencer:
            events = await sequencer.submit(place(T0 + 60_000, "A1", qty=2_000))
            witness = Core(tmp_path)  # a second reader, as after a crash right now
        core.close()
        return events, witness

    events, witness = asyncio.run(scenario())
    order_id = first(events, e.OrderUpdated).order_id
    assert order_id == "20251125-00000001"
    assert events[0].seq == 14
    order = witness.state.orders[order_id]
    assert (order.state, order.qty, order.client_ref) == (OrderState.PENDING_SEND, 2_000, "A1")
    assert witness.state.accounts[ACCOUNT].used_trading == 152_617
    witness.close()


def test_submit_when_journal_write_is_slow_then_no_answer_before_it_completes(
        tmp_path: Path) -> None:
    """Answers wait for the durable write: every answered command is already on disk."""
    core = Core(tmp_path, fsync=False)
    core.execute(reference())
    real_append = core.journal.append
    durable: list[int] = []

    def slow_append(payloads: list[bytes]) -> None:
        time.sleep(0.02)
        real_append(payloads)
        durable.append(core.journal.records)

    core.journal.append = slow_append  # type: ignore[method-assign]

    async def scenario() -> list[tuple[int, int]]:
        seen: list[tuple[int, int]] = []
        async with Sequencer(core) as sequencer:
            futures = [sequencer.submit_nowait(place(T0 + 60_000 + i, f"A{i}"))
                       for i in range(5)]
            for future in futures:
                events = await future
                seen.append((events[0].seq, durable[-1]))
        return seen

    seen = asyncio.run(scenario())
    assert all(seq <= records for seq, records in seen)
    assert [seq for seq, _ in seen] == [14, 15, 16, 17, 18]
    core.close()


def test_submit_when_many_concurrent_then_applied_and_answered_in_submission_order(
        tmp_path: Path) -> None:
    core = Core(tmp_path, fsync=False)
    core.execute([*reference(), c.SetAccountLimits(at=T0, account=ACCOUNT,
                                                   trading_limit=1_000_000_000,
                                                   credit_limit=0)])
    seen_by_listener: list[int] = []

    async def scenario() -> list[list[e.Event]]:
        async with Sequencer(core, [lambda events: seen_by_listener.append(events[0].seq)]) as s:
            return await asyncio.gather(*(
                s.submit(place(T0 + 60_000 + i, f"C{i}", qty=1_000 * (1 + i % 3)))
                for i in range(300)))

    results = asyncio.run(scenario())
    ids = [first(events, e.OrderUpdated).order_id for events in results]
    assert ids == [f"20251125-{n:08d}" for n in range(1, 301)]
    assert [events[0].seq for events in results] == list(range(15, 315))
    assert seen_by_listener == list(range(15, 315))
    assert [core.state.orders[i].client_ref for i in ids] == [f"C{i}" for i in range(300)]
    assert core.journal.records == core.seq == 314
    core.close()
    reopened = Core(tmp_path)
    assert list(reopened.state.orders) == ids
    reopened.close()


def test_submit_when_refused_then_answered_with_the_refusal_and_still_journaled(
        tmp_path: Path) -> None:
    async def scenario() -> list[e.Event]:
        core = Core(tmp_path, fsync=False)
        async with Sequencer(core) as sequencer:
            events = await sequencer.submit(c.AddBranch(at=T0, broker="9Z99", branch="1",
                                                        name="x"))
        core.close()
        return events

    assert asyncio.run(scenario()) == [e.CommandRejected(seq=1, broker="9Z99",
                                                         code=Code.UNKNOWN_BROKER,
                                                         command="AddBranch")]
    reopened = Core(tmp_path)
    assert (reopened.journal.records, reopened.seq, reopened.state.brokers) == (1, 1, {})
    reopened.close()


def test_exit_when_stopped_then_gc_frozen_objects_released_and_thresholds_restored(
        tmp_path: Path) -> None:
    """While running, the state that lives all day is frozen out of the collector's scans; a
    stopped sequencer must hand it back, or a process that opens cores in turn (tests, tools)
    would keep every old core alive and unscanned."""
    core = Core(tmp_path, fsync=False)
    gc.unfreeze()
    outside = gc.get_threshold()
    gc.set_threshold(700, 10, 10)  # CPython's defaults, whatever earlier tests left
    before = gc.get_threshold()
    seen: dict[str, int] = {}

    async def scenario() -> None:
        async with Sequencer(core):
            seen["frozen"] = gc.get_freeze_count()
            seen["threshold"] = gc.get_threshold()[0]

    asyncio.run(scenario())
    assert seen["frozen"] > 0
    assert seen["threshold"] != before[0]
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == before
    gc.set_threshold(*outside)
    core.close()


def test_exit_when_commands_still_in_flight_then_every_future_answered(tmp_path: Path) -> None:
    core = Core(tmp_path, fsync=False)
    real_append = core.journal.append

    def slow_append(payloads: list[bytes]) -> None:
        time.sleep(0.05)
        real_append(payloads)

    core.journal.append = slow_append  # type: ignore[method-assign]

    async def scenario() -> list[asyncio.Future[list[e.Event]]]:
        async with Sequencer(core) as sequencer:
            futures = [sequencer.submit_nowait(c.AddBroker(at=T0, broker=f"B{i}", name="b"))
                       for i in range(3)]
            await asyncio.sleep(0.01)  # the batch is being written
        return futures

    futures = asyncio.run(scenario())
    assert [future.done() for future in futures] == [True, True, True]
    assert core.seq == core.journal.records == 3
    core.close()


def test_submit_when_journal_write_fails_then_caller_gets_the_error(tmp_path: Path) -> None:
    core = Core(tmp_path, fsync=False)

    def failing_append(payloads: list[bytes]) -> None:
        raise OSError(28, "No space left on device")

    core.journal.append = failing_append  # type: ignore[method-assign]

    async def scenario() -> None:
        sequencer = Sequencer(core)
        await sequencer.__aenter__()
        try:
            future = sequencer.submit_nowait(c.AddBroker(at=T0, broker="B", name="b"))
            done, _ = await asyncio.wait({future}, timeout=1.0)
            assert done == {future}, "the submit was never answered"
            error = future.exception()
            assert isinstance(error, OSError)
            assert error.errno == 28
        finally:
            task = sequencer._task
            assert task is not None
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            sequencer._writer.shutdown(wait=True)

    asyncio.run(scenario())
    core.close()


def test_reopen_when_a_journaled_command_raised_in_apply_then_core_still_opens(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug in apply must not make the middle office unable to restart: the command is in the
    journal, the live sequencer answered its caller with the error and went on; replay skips
    it the same way."""
    original = CoreState._open_account

    def broken(self: CoreState, seq: int, cmd: c.OpenAccount) -> list[e.Event]:
        if cmd.account == "99990000":
            raise RuntimeError("a bug in apply")
        return original(self, seq, cmd)

    monkeypatch.setattr(CoreState, "_open_account", broken)

    async def scenario() -> None:
        core = Core(tmp_path, fsync=False)
        core.execute(reference())
        async with Sequencer(core) as sequencer:
            bad = c.OpenAccount(at=T0, account="99990000", broker=BROKER, branch="001",
                                name="x")
            with pytest.raises(RuntimeError, match="a bug in apply"):
                await sequencer.submit(bad)
            events = await sequencer.submit(place(T0 + 60_000, "after"))
            assert first(events, e.OrderUpdated).state is OrderState.PENDING_SEND
        core.close()

    asyncio.run(scenario())
    reopened = Core(tmp_path)
    assert len(reopened.state.orders) == 1 and "99990000" not in reopened.state.accounts
    assert reopened.seq == reopened.journal.records
    reopened.close()


# -- determinism -------------------------------------------------------------------------------

def test_execute_when_core_reopened_then_identical_state(tmp_path: Path) -> None:
    core = Core(tmp_path, fsync=False)
    commands = run_day(core)
    live = fingerprint(core.state)
    core.close()
    reopened = Core(tmp_path)
    assert reopened.replayed == len(commands) == 41
    assert fingerprint(reopened.state) == live
    reopened.close()
    fresh = CoreState()
    for seq, command in enumerate(commands, 1):
        fresh.apply(seq, command)
    assert fingerprint(fresh) == live


def test_execute_when_batches_differ_then_same_state_as_one_at_a_time(tmp_path: Path) -> None:
    batched = Core(tmp_path / "a", fsync=False)
    commands = run_day(batched)
    singles = Core(tmp_path / "b", fsync=False)
    for command in commands:
        singles.execute([command])
    assert fingerprint(singles.state) == fingerprint(batched.state)
    batched.close()
    singles.close()


# -- property: random commands -----------------------------------------------------------------

BOGUS = "20251125-99999999"
ACTIONS = ("place", "place", "place", "place", "cancel", "amend", "approve", "deny", "expire",
           "sent", "accepted", "fill", "fill", "fill", "refill", "cancelled", "expired",
           "rejected", "holding", "status", "limits")


def world() -> list[c.Cmd]:
    return [*reference_commands(bands=BANDS, daily_buy_limit=8_000_000),
            disposition_listing(Disposition.FIRST),
            c.SetHolding(at=T0, account=CASH_ACCOUNT, symbol="3008", shares=20_000)]


def draw_place(data: st.DataObject, at: int) -> c.PlaceOrder:
    draw = data.draw
    broker = draw(st.sampled_from([BROKER, BROKER, OTHER_BROKER, "9Z99"]))
    account = draw(st.sampled_from([ACCOUNT, CASH_ACCOUNT, OTHER_ACCOUNT, "00000000"]))
    order_type = draw(st.sampled_from([OrderType.LIMIT] * 4 + [OrderType.MARKET]))
    return c.PlaceOrder(
        at=at, broker=broker, account=account, user=SALES,
        client_ref=f"r{draw(st.integers(0, 30))}",
        symbol=draw(st.sampled_from([TSMC, TSMC, "3008", "9999"])),
        side=draw(st.sampled_from(Side)),
        qty=draw(st.sampled_from([1_000, 2_000, 3_000, 5_000, 10_000, 14_000, 0, 1_500])),
        price=0 if order_type is OrderType.MARKET else draw(st.sampled_from(
            [7_470, 7_620, 7_730, 8_210, 6_730, 7_625, 9_000])),
        order_type=order_type,
        credit=draw(st.sampled_from([Credit.CASH, Credit.CASH, Credit.MARGIN, Credit.SHORT])),
        prepaid=draw(st.booleans()))


def draw_command(data: st.DataObject, state: CoreState, at: int) -> c.Cmd:
    """One random command; reports from the exchange only name orders the exchange has seen
    (MarkSent) or no order at all, so the known crash on reports for unsent orders is out."""
    draw = data.draw
    action = draw(st.sampled_from(ACTIONS))
    if action == "place":
        return draw_place(data, at)
    orders = list(state.orders.values())
    any_id = draw(st.sampled_from([o.order_id for o in orders] + [BOGUS]))
    seen = [o for o in orders if o.line]
    target = draw(st.sampled_from(seen)) if seen and draw(st.integers(0, 9)) else None
    seen_id = target.order_id if target else BOGUS
    broker = draw(st.sampled_from([BROKER, OTHER_BROKER]))
    if action == "cancel":
        return c.CancelOrder(at=at, broker=broker, user=SALES, order_id=any_id)
    if action == "amend":
        qty, price = draw(st.sampled_from([(1_000, None), (None, 7_600), (None, None)]))
        return c.AmendOrder(at=at, broker=broker, user=SALES, order_id=any_id, qty=qty,
                            price=price)
    if action in ("approve", "deny"):
        user = draw(st.sampled_from([SUP1, SUP2, SALES, "supB"]))
        kind = c.Approve if action == "approve" else c.Deny
        return kind(at=at, broker=broker, user=user, order_id=any_id)
    if action == "expire":
        return c.ExpireApprovals(at=at)
    if action == "sent":
        return c.MarkSent(at=at, order_id=any_id, line="L1")
    if action == "accepted":
        return c.ExchangeAccepted(at=at, order_id=seen_id, exchange_order_id=at)
    if action in ("fill", "refill"):
        exec_id = (draw(st.sampled_from(sorted(target.fills))) if action == "refill" and target
                   and target.fills else f"E{at}")
        leaves = target.leaves if target else 1_000
        qty = draw(st.sampled_from([1_000, max(leaves, 1_000), leaves + 1_000]))
        price = draw(st.sampled_from([7_470, 7_600, 7_620, 7_730]))
        return c.ExchangeFilled(at=at, order_id=seen_id, exec_id=exec_id, price=price, qty=qty)
    if action == "cancelled":
        return c.ExchangeCancelled(at=at, order_id=seen_id, qty=1_000)
    if action == "expired":
        return c.ExchangeExpired(at=at, order_id=seen_id, qty=1_000)
    if action == "rejected":
        return c.ExchangeRejected(at=at, order_id=seen_id, code=Code.PRICE_OUTSIDE_LIMITS)
    if action == "holding":
        return c.SetHolding(at=at, account=ACCOUNT, symbol=TSMC,
                            shares=draw(st.sampled_from([0, 5_000, 10_000])))
    if action == "status":
        return c.SetAccountStatus(at=at, account=draw(st.sampled_from([ACCOUNT, CASH_ACCOUNT])),
                                  status=draw(st.sampled_from(AccountStatus)))
    return c.SetAccountLimits(at=at, account=ACCOUNT,
                              trading_limit=draw(st.sampled_from([0, 500_000, 10_000_000])),
                              credit_limit=draw(st.sampled_from([0, 500_000, 10_000_000])))


def check_books(state: CoreState) -> None:
    """Every account's and broker's reservations equal what its open orders hold plus what its
    fills used (from the independent oracle), and nothing is negative."""
    expected: dict[str, list[int]] = {key: [0, 0] for key in state.accounts}
    sell_held: dict[tuple[str, str], int] = {}
    bought: dict[tuple[str, str], int] = {}
    broker_bought = dict.fromkeys(state.brokers, 0)
    for order in state.orders.values():
        account = state.accounts[order.account]
        listed = state.listed[order.symbol]
        fees = account.fees
        reserve = oracle_holds(order.side, order.credit,
                               order_reference_price(order, listed.limit_down, listed.limit_up),
                               order.leaves, discount_bp=fees.discount_bp,
                               rate_ppm=fees.rate_ppm, min_fee=fees.min_fee)
        assert (order.reserved_trading, order.reserved_credit) == reserve, order
        totals = expected[order.account]
        totals[0] += order.reserved_trading
        totals[1] += order.reserved_credit
        for fill in (order.fills or {}).values():
            spent = oracle_holds(order.side, order.credit, fill.price, fill.qty,
                                 discount_bp=fees.discount_bp, rate_ppm=fees.rate_ppm,
                                 min_fee=fees.min_fee)
            totals[0] += spent[0]
            totals[1] += spent[1]
            if order.side is Side.BUY:
                broker_bought[order.broker] += spent[0] + spent[1]
                key = (order.account, order.symbol)
                bought[key] = bought.get(key, 0) + fill.qty
        if order.side is Side.BUY:
            broker_bought[order.broker] += order.reserved_trading + order.reserved_credit
        elif order.credit is not Credit.SHORT:
            assert order.held_shares == order.cum_qty + order.leaves
            key = (order.account, order.symbol)
            sell_held[key] = sell_held.get(key, 0) + order.held_shares
        if order.state in FINISHED:
            assert (order.leaves, order.reserved_trading, order.reserved_credit) == (0, 0, 0)
    for key, account in state.accounts.items():
        assert [account.used_trading, account.used_credit] == expected[key]
        assert min(account.used_trading, account.used_credit, 0) == 0
        assert {s: n for s, n in account.sell_reserved.items() if n} == {
            s: n for (a, s), n in sell_held.items() if a == key and n}
        assert all(n >= 0 for n in account.sell_reserved.values())
        assert account.bought == {s: n for (a, s), n in bought.items() if a == key}
    assert {k: b.bought_today for k, b in state.brokers.items()} == broker_bought
    assert all(b.bought_today >= 0 for b in state.brokers.values())


def finish_everything(state: CoreState, at: int) -> list[c.Cmd]:
    ends: list[c.Cmd] = []
    for order in state.orders.values():
        if order.state in (OrderState.PENDING_APPROVAL, OrderState.PENDING_SEND):
            ends.append(c.CancelOrder(at=at, broker=order.broker, user=SALES,
                                      order_id=order.order_id))
        elif order.state in AT_EXCHANGE:
            ends.append(c.ExchangeCancelled(at=at, order_id=order.order_id, qty=order.leaves))
    return ends


def replay_in_core(data_dir: str, commands: list[c.Cmd], rng: random.Random) -> dict[str, Any]:
    core = Core(data_dir, fsync=False)
    position = 0
    snapshot_at = rng.randrange(len(commands))
    while position < len(commands):
        size = rng.randint(1, 25)
        core.execute(commands[position:position + size])
        position += size
        if position >= snapshot_at and not (Path(data_dir) / "snapshot.bin").exists():
            core.snapshot()
    live = fingerprint(core.state)
    core.close()
    reopened = Core(data_dir, fsync=False)
    assert reopened.seq == len(commands)
    assert fingerprint(reopened.state) == live
    reopened.close()
    return live


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), steps=st.integers(1, 60), seed=st.integers(0, 2**16))
def test_random_commands_when_replayed_twice_then_identical_and_reservations_sound(
        data: st.DataObject, steps: int, seed: int) -> None:
    state = CoreState()
    commands = world()
    for seq, command in enumerate(commands, 1):
        state.apply(seq, command)
    at = T0 + 60_000
    for _ in range(steps):
        at += data.draw(st.integers(1, 120_000))
        command = draw_command(data, state, at)
        commands.append(command)
        state.apply(len(commands), command)
        check_books(state)
    ends = finish_everything(state, at + 1)
    for command in ends:
        commands.append(command)
        state.apply(len(commands), command)
    check_books(state)
    assert all(order.state in FINISHED for order in state.orders.values())
    assert all((o.reserved_trading, o.reserved_credit) == (0, 0)
               for o in state.orders.values())
    for account in state.accounts.values():  # only what the fills used remains
        spent = [0, 0]
        for order in state.orders.values():
            if order.account == account.account:
                for fill in (order.fills or {}).values():
                    used = oracle_holds(order.side, order.credit, fill.price, fill.qty,
                                        discount_bp=account.fees.discount_bp)
                    spent = [spent[0] + used[0], spent[1] + used[1]]
        assert [account.used_trading, account.used_credit] == spent

    first_run = fingerprint(state)
    second = CoreState()
    for seq, command in enumerate(commands, 1):
        second.apply(seq, command)
    assert fingerprint(second) == first_run
    with tempfile.TemporaryDirectory() as data_dir:
        assert replay_in_core(data_dir, commands, random.Random(seed)) == first_run


def test_submit_when_a_command_cannot_be_encoded_then_only_its_caller_fails(
        tmp_path: Path) -> None:
    """A value beyond what the journal can encode (here a 2**70 quantity) is refused to its
    caller; the sequencer keeps serving everyone else."""
    async def scenario() -> None:
        core = Core(tmp_path, fsync=False)
        core.execute(reference())
        async with Sequencer(core) as sequencer:
            huge = c.PlaceOrder(at=T0 + 60_000, broker=BROKER, account=ACCOUNT, user="u",
                                client_ref="huge", symbol=TSMC, side=Side.BUY, qty=2**70,
                                price=7470)
            with pytest.raises(ValueError, match="cannot be journaled"):
                await sequencer.submit(huge)
            events = await sequencer.submit(place(T0 + 61_000, "after"))
            assert first(events, e.OrderUpdated).state is OrderState.PENDING_SEND
        core.close()

    asyncio.run(scenario())
