"""Net amounts on the WebSocket stream: a fill from the core, booked by the real back office,
reaches exactly the sessions that may see the account, as its exact ``NetAmount``; a resumed
session is given the current net first; booking on another thread still delivers."""

from __future__ import annotations

import weakref
from collections import deque
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from brokercloud.backoffice import commands as b
from brokercloud.core.commands import Credit
from brokercloud.gateway.stream import events_of
from brokercloud.market.orders import Side

from .settlement_support import SETTLE_DATE, TRADE_DATE, Office, office_world

#: 11110001 buys 1,000 2330 at 74.70: value 74,700 + commission 106 (0.1425%, truncated).
BOUGHT = {"type": "NetAmount", "broker": "9A00", "account": "11110001",
          "trade_date": TRADE_DATE, "settle_date": SETTLE_DATE, "receivable": 0,
          "payable": 74_806, "net": -74_806, "fills": 1}
#: then sells 2,000 2317 at 104.50: 209,000 - commission 297 - tax 627 = 208,076 received.
SOLD = {**BOUGHT, "receivable": 208_076, "net": 133_270, "fills": 2}


@pytest.fixture
def world(tmp_path: Path) -> Iterator[Office]:
    with office_world(tmp_path) as office:
        yield office


def _token(world: Office, user: str) -> str:
    return world.headers(user)["Authorization"][7:]


_PENDING: weakref.WeakKeyDictionary[Any, deque[dict]] = weakref.WeakKeyDictionary()


def _next(stream) -> dict:
    """The stream's next event, whether its message carried one or an array of them."""
    pending = _PENDING.setdefault(stream, deque())
    while not pending:
        pending.extend(events_of(stream.receive_text()))
    return pending.popleft()


def _until_net(stream) -> tuple[dict, list[dict]]:
    """The first NetAmount, and the events before it."""
    before = []
    while (message := _next(stream))["type"] != "NetAmount":
        before.append(message)
    return message, before


def _rest(stream) -> list[dict]:
    """Everything queued on the stream so far: a bad request's error answer comes after it."""
    stream.send_text("not json")
    seen = []
    while (message := _next(stream))["type"] != "error":
        seen.append(message)
    return seen


def test_stream_when_fill_booked_then_exact_net_to_those_who_may_see_it(world):
    url = "/api/v1/stream?token="
    with world.client.websocket_connect(url + _token(world, "inv1")) as mine, \
            world.client.websocket_connect(url + _token(world, "sales1")) as sales, \
            world.client.websocket_connect(url + _token(world, "sup1")) as head_office, \
            world.client.websocket_connect(url + _token(world, "sales-tc")) as other_sales, \
            world.client.websocket_connect(url + _token(world, "sup-tc")) as other_branch, \
            world.client.websocket_connect(url + _token(world, "inv2")) as other_broker, \
            world.client.websocket_connect(url + _token(world, "sup2")) as other_sup, \
            world.client.websocket_connect(url + _token(world, "clerk1")) as clerk:
        world.fill("11110001", "2330", 0, 1_000, 7_470)
        net, before = _until_net(mine)
        assert net == BOUGHT
        assert "Fill" in [event["type"] for event in before]  # the fill came first
        assert _until_net(sales)[0] == BOUGHT
        assert _until_net(head_office)[0] == BOUGHT
        for stream in (other_sales, other_branch, other_broker, other_sup):
            assert _rest(stream) == []
        assert "NetAmount" not in [event["type"] for event in _rest(clerk)]  # no settlement
        world.fill("11110001", "2317", 1, 2_000, 10_450)
        assert _until_net(mine)[0] == SOLD


def test_stream_when_resumed_then_current_net_first_then_nothing_else(world):
    token = _token(world, "inv1")
    with world.client.websocket_connect(f"/api/v1/stream?token={token}") as live:
        world.fill("11110001", "2330", 0, 1_000, 7_470)
        world.fill("11110001", "2317", 1, 2_000, 10_450)
        _until_net(live)
        net, before = _until_net(live)
        last_seq = max(event["seq"] for event in before)
    with world.client.websocket_connect(
            f"/api/v1/stream?token={token}&resume_after={last_seq}") as resumed:
        assert _next(resumed) == SOLD == net  # state, not the log's deltas
        assert _rest(resumed) == []
    with world.client.websocket_connect(
            f"/api/v1/stream?token={_token(world, 'inv2')}&resume_after={last_seq}") as other:
        assert _rest(other) == []  # another broker's investor: no net of 11110001
    with world.client.websocket_connect(f"/api/v1/stream?token={token}") as fresh:
        assert _rest(fresh) == []  # a fresh session loads GET /settlements instead


def test_stream_when_booked_on_another_thread_then_delivered_on_the_loop(world):
    with world.client.websocket_connect(
            f"/api/v1/stream?token={_token(world, 'inv1')}") as mine:
        # this test's thread is not the application's event loop
        world.office.execute([b.BookFill(broker="9A00", account="11110001", order_id="O1",
                                         exec_id="E1", symbol="2330", side=Side.BUY,
                                         credit=Credit.CASH, price=7_470, qty=1_000,
                                         trade_date=date(2026, 11, 25))])
        assert _next(mine) == BOUGHT
