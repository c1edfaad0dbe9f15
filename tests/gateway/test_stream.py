"""The stream's messages: one event alone, the events already waiting as one array; and who
gets an event among many sessions."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from brokercloud.core import events as e
from brokercloud.core.commands import Role
from brokercloud.core.oms import OrderState
from brokercloud.gateway import stream
from brokercloud.gateway.authz import Caller
from brokercloud.gateway.stream import BATCH_LIMIT, EventHub, events_of


def read_events(socket: Any, count: int) -> list[dict[str, Any]]:
    """The next ``count`` events from a test client's stream socket, however they were batched."""
    events: list[dict[str, Any]] = []
    while len(events) < count:
        events.extend(events_of(socket.receive_text()))
    return events


def _quote(n: int) -> bytes:
    return b'{"type": "quote", "symbol": "2330", "n": %d}' % n


def _subscribed(hub: EventHub) -> stream.Subscription:
    subscription = hub.subscribe(Caller("clerk1", "9a00", Role.CLERK))
    hub.ask_quotes(subscription, ["2330"])
    return subscription


def test_next_message_when_one_event_waits_then_sent_as_itself() -> None:
    async def scenario() -> bytes | None:
        hub = EventHub()
        subscription = _subscribed(hub)
        hub.publish_quote("2330", _quote(1))
        return await subscription.next_message()

    assert asyncio.run(scenario()) == _quote(1)


def test_next_message_when_several_wait_then_one_array_in_order_up_to_the_limit() -> None:
    async def scenario() -> list[bytes | None]:
        hub = EventHub()
        subscription = _subscribed(hub)
        for n in range(BATCH_LIMIT + 2):
            hub.publish_quote("2330", _quote(n))
        return [await subscription.next_message(), await subscription.next_message()]

    first, rest = asyncio.run(scenario())
    assert first is not None and rest is not None
    assert [event["n"] for event in events_of(first)] == list(range(BATCH_LIMIT))
    assert [event["n"] for event in events_of(rest)] == [BATCH_LIMIT, BATCH_LIMIT + 1]


def test_next_message_when_dropped_behind_a_batch_then_batch_first_then_none(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream, "QUEUE_LIMIT", 3)

    async def scenario() -> list[bytes | None]:
        hub = EventHub()
        subscription = _subscribed(hub)
        for n in range(4):  # the fourth overflows: the oldest goes, the close is queued
            hub.publish_quote("2330", _quote(n))
        return [await subscription.next_message(), await subscription.next_message()]

    batch, closed = asyncio.run(scenario())
    assert batch is not None and [event["n"] for event in events_of(batch)] == [1, 2]
    assert closed is None


def _waiting(subscription: stream.Subscription) -> list[str]:
    """The order IDs queued for a session."""
    found = []
    while not subscription.queue.empty():
        payload = subscription.queue.get_nowait()
        assert payload is not None
        found += [event["order_id"] for event in events_of(payload)]
    return found


def _updated(order_id: str, broker: str, account: str) -> e.OrderUpdated:
    return e.OrderUpdated(seq=1, order_id=order_id, broker=broker, account=account,
                          client_ref=order_id, state=OrderState.ACKNOWLEDGED, cum_qty=0,
                          leaves=1000)


def test_publish_when_many_sessions_then_each_gets_its_brokers_and_accounts_only() -> None:
    async def scenario() -> dict[str, list[str]]:
        hub = EventHub()
        sessions = {
            "clerk-a": hub.subscribe(Caller("c1", "9A00", Role.CLERK)),
            "sales-a": hub.subscribe(Caller("s1", "9A00", Role.SALESPERSON,
                                            frozenset({"1001", "1002"}))),
            "investor-a": hub.subscribe(Caller("i1", "9A00", Role.INVESTOR,
                                               frozenset({"1002"}))),
            "clerk-b": hub.subscribe(Caller("c2", "9B00", Role.CLERK)),
            "investor-b": hub.subscribe(Caller("i2", "9B00", Role.INVESTOR,
                                               frozenset({"1002"}))),  # another broker's 1002
        }
        hub.publish([_updated("A1", "9A00", "1001"), _updated("A2", "9A00", "1002"),
                     _updated("A3", "9A00", "1003"), _updated("B1", "9B00", "1002")])
        return {name: _waiting(subscription) for name, subscription in sessions.items()}

    assert asyncio.run(scenario()) == {
        "clerk-a": ["A1", "A2", "A3"], "sales-a": ["A1", "A2"], "investor-a": ["A2"],
        "clerk-b": ["B1"], "investor-b": ["B1"]}


def test_publish_when_unsubscribed_or_dropped_then_nothing_more_reaches_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream, "QUEUE_LIMIT", 1)

    async def scenario() -> tuple[list[str], list[str], list[str]]:
        hub = EventHub()
        gone = hub.subscribe(Caller("s1", "9A00", Role.SALESPERSON, frozenset({"1001"})))
        hub.unsubscribe(gone)
        slow = hub.subscribe(Caller("i1", "9A00", Role.INVESTOR, frozenset({"1001"})))
        hub.publish([_updated("A1", "9A00", "1001"), _updated("A2", "9A00", "1001")])
        dropped = [slow.queue.get_nowait()]  # the close marker replaced what it missed
        hub.publish([_updated("A3", "9A00", "1001")])
        return _waiting(gone), [str(item) for item in dropped], _waiting(slow)

    assert asyncio.run(scenario()) == ([], ["None"], [])
