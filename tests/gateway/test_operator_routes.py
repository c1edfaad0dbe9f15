"""The platform operator's view over HTTP: member brokers with their orders, messages and line
capacity, and each shared line's rate, state and today's messages per broker; nobody else
may see them."""

import time

import pytest

from .conftest import TODAY, serving
from .test_api import PASSWORD, _order


def _record(world, *sends: tuple[str, str], day: str = TODAY) -> None:
    for line, broker in sends:
        world.usage.record(line, broker, day)


def test_lines_when_messages_sent_today_then_rate_state_and_share_per_broker(world):
    _record(world, ("L1", "9A00"), ("L1", "9A00"), ("L1", "9A00"), ("L1", "9B00"),
            ("L2", "9A00"))
    world.usage.set_connected("L1", True)
    lines = world.client.get("/api/v1/platform/lines", headers=world.headers("op")).json()
    assert lines == [
        {"line": "L1", "rate_per_s": 20.0, "brokers": ["9A00", "9B00"], "connected": True,
         "messages_today": 4, "by_broker": [
             {"broker": "9A00", "messages": 3, "share_pm": 750},
             {"broker": "9B00", "messages": 1, "share_pm": 250}]},
        {"line": "L2", "rate_per_s": 10.0, "brokers": ["9A00"], "connected": False,
         "messages_today": 1, "by_broker": [{"broker": "9A00", "messages": 1,
                                             "share_pm": 1000}]}]


def test_lines_when_counts_are_of_another_day_then_nothing_today(world):
    _record(world, ("L1", "9A00"), day="20261124")
    lines = world.client.get("/api/v1/platform/lines", headers=world.headers("op")).json()
    assert [(line["messages_today"], line["by_broker"]) for line in lines] == [(0, []),
                                                                              (0, [])]


def test_brokers_when_orders_and_messages_then_usage_and_capacity_per_broker(world):
    world.client.post("/api/v1/orders", json=_order(), headers=world.headers("inv1"))
    _record(world, ("L1", "9A00"), ("L2", "9A00"), ("L1", "9B00"))
    usage = world.client.get("/api/v1/platform/brokers", headers=world.headers("op")).json()
    assert [(u["broker"], u["branches"], u["accounts"], u["orders_today"],
             u["messages_today"], u["burst_capacity_per_s"]) for u in usage] == [
        ("9A00", 2, 3, 1, 2, 30.0), ("9B00", 1, 1, 0, 1, 20.0)]


@pytest.mark.parametrize("user", ["inv1", "sales1", "clerk1", "sup1", "sup-tc", "admin1",
                                  "admin2"])
@pytest.mark.parametrize("path", ["/api/v1/platform/lines", "/api/v1/platform/brokers"])
def test_platform_views_when_not_the_operator_then_403(world, user, path):
    response = world.client.get(path, headers=world.headers(user))
    assert (response.status_code, response.json()["code"]) == (403, 4101)


def test_lines_when_ap_server_runs_without_a_line_pool_then_no_lines(tmp_path):
    with serving(tmp_path, usage=None) as client:
        token = client.post("/api/v1/sessions", json={"user_id": "op",
                                                      "password": PASSWORD}).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        assert client.get("/api/v1/platform/lines", headers=headers).json() == []
        brokers = client.get("/api/v1/platform/brokers", headers=headers).json()
        assert {(b["messages_today"], b["burst_capacity_per_s"]) for b in brokers} == {(0, 0)}


def test_brokers_when_stream_sessions_open_and_close_then_counted_while_open(world):
    def sessions() -> dict[str, int]:
        usage = world.client.get("/api/v1/platform/brokers", headers=world.headers("op"))
        return {u["broker"]: u["stream_sessions"] for u in usage.json()}

    token = world.headers("inv1")["Authorization"][7:]
    with world.client.websocket_connect(f"/api/v1/stream?token={token}"):
        with world.client.websocket_connect(f"/api/v1/stream?token={token}"):
            assert sessions() == {"9A00": 2, "9B00": 0}
        deadline = time.monotonic() + 5  # the server sees the close on its own loop
        while sessions()["9A00"] != 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert sessions() == {"9A00": 1, "9B00": 0}  # gone without any event to send it
