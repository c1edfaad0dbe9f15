"""Line usage: what each shared line carried today for each broker, counted by the pool as it
writes to the exchange (unit tests, then the real pool against the exchange simulator)."""

import asyncio
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from brokercloud.core import commands as c
from brokercloud.core.oms import OrderState
from brokercloud.lines import LineSpec, pool
from brokercloud.lines.usage import LineUsage
from brokercloud.market.orders import Side

from .test_thesis_examples import _order, _wait_for, platform

LINES = [LineSpec("L1", frozenset({"9A00", "9B00"}), 20),
         LineSpec("L2", frozenset({"9A00"}), 10)]


def test_record_when_messages_then_counted_per_line_and_broker():
    usage = LineUsage(LINES)
    for line, broker in [("L1", "9A00"), ("L1", "9B00"), ("L1", "9A00"), ("L2", "9A00")]:
        usage.record(line, broker, "20261125")
    assert usage.sent("20261125") == {"L1": {"9A00": 2, "9B00": 1}, "L2": {"9A00": 1}}


def test_record_when_next_trading_day_then_counts_restart_and_yesterday_is_gone():
    usage = LineUsage(LINES)
    usage.record("L1", "9A00", "20261125")
    usage.record("L2", "9A00", "20261126")
    assert usage.sent("20261126") == {"L2": {"9A00": 1}}
    assert usage.sent("20261125") == {}


def test_burst_capacity_when_broker_on_lines_then_sum_of_their_rates():
    usage = LineUsage(LINES)
    assert (usage.burst_capacity("9A00"), usage.burst_capacity("9B00"),
            usage.burst_capacity("9Z00")) == (30, 20, 0)


def test_set_connected_when_known_line_then_kept_and_unknown_line_ignored():
    usage = LineUsage(LINES)
    usage.set_connected("L2", True)
    usage.set_connected("nope", True)
    assert usage.connected == {"L1": False, "L2": True}


def test_pool_when_orders_and_a_cancel_go_out_then_usage_counts_each_message_on_its_line(
        tmp_path: Path):
    async def scenario() -> LineUsage:
        async with platform(tmp_path) as p:
            usage = p.pool.usage
            assert all(usage.connected.values()) and set(usage.connected) == {
                line.line for line in p.lines}
            placed = [await p.sequencer.submit(_order(account, broker, ref, Side.BUY, 1, 7000))
                      for account, broker, ref in [("12345678", "9A00", "a1"),
                                                   ("12345678", "9A00", "a2"),
                                                   ("99990001", "9B00", "b1")]]
            ids = [events[0].order_id for events in placed]
            orders = p.core.state.orders
            await _wait_for(lambda: all(orders[i].state is OrderState.ACKNOWLEDGED
                                        for i in ids))
            await p.sequencer.submit(c.CancelOrder(at=orders[ids[0]].at, broker="9A00",
                                                   user="desk", order_id=ids[0]))
            await _wait_for(lambda: orders[ids[0]].state is OrderState.CANCELLED)
            sent = usage.sent(usage.day)
            expected: dict[str, dict[str, int]] = {}
            for order_id in ids:  # each new order on the line it went out on
                per_line = expected.setdefault(orders[order_id].line, {})
                broker = orders[order_id].broker
                per_line[broker] = per_line.get(broker, 0) + 1
            assert sum(sum(counts.values()) for counts in sent.values()) == 4
            assert sum(counts.get("9A00", 0) for counts in sent.values()) == 3  # 2 + cancel
            for line, counts in expected.items():
                for broker, n in counts.items():
                    assert sent[line][broker] >= n
            allowed = {line.line: line.brokers for line in p.lines}
            assert all(broker in allowed[line] for line, counts in sent.items()
                       for broker in counts)
        return usage

    usage = asyncio.run(scenario())
    assert not any(usage.connected.values())  # the pool logged every line out


def test_pool_when_restarted_then_the_days_orders_already_sent_count_again(tmp_path: Path):
    async def send_two() -> dict[str, dict[str, int]]:
        async with platform(tmp_path) as p:
            ids = [(await p.sequencer.submit(_order("12345678", "9A00", ref, Side.BUY, 1,
                                                    7000)))[0].order_id for ref in ("a", "b")]
            orders = p.core.state.orders
            await _wait_for(lambda: all(orders[i].state is OrderState.ACKNOWLEDGED
                                        for i in ids))
            return p.pool.usage.sent(p.pool.usage.day)

    async def restart() -> tuple[str, dict[str, dict[str, int]]]:
        async with platform(tmp_path / "restarted") as p:  # the same core, new line sessions
            return p.pool.usage.day, p.pool.usage.sent(p.pool.usage.day)

    before = asyncio.run(send_two())
    shutil.copytree(tmp_path / "core", tmp_path / "restarted" / "core")
    day, after = asyncio.run(restart())
    assert day == "20261125" and after == before
    assert sum(n for counts in after.values() for n in counts.values()) == 2


@pytest.mark.parametrize(("utc", "day"), [
    ("2026-11-25T15:59:59", "20261125"),  # 23:59:59 in Taipei
    ("2026-11-25T16:00:00", "20261126"),  # midnight in Taipei
    ("2026-12-31T16:00:01", "20270101"),
])
def test_sends_when_taipei_midnight_passes_then_counted_on_the_new_date(
        monkeypatch: pytest.MonkeyPatch, utc: str, day: str) -> None:
    at = datetime.fromisoformat(utc).replace(tzinfo=UTC).timestamp()
    monkeypatch.setattr(pool.time, "time", lambda: at)
    assert pool._today() == day
