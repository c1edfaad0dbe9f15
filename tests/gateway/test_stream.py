"""The stream's messages: one event alone, the events already waiting as one array."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from brokercloud.core.commands import Role
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
    subscription.symbols.add("2330")
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
