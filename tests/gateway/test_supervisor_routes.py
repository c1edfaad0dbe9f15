"""Supervisors by branch over HTTP and the stream: a branch's supervisor sees and decides its
branch's orders only, the head office's the whole broker's; every refused decision is
audited on the order, and the audit is there for the broker's supervisors and admins."""

import time

import pytest

from .conftest import serving
from .test_api import NOW, PASSWORD, _order
from .test_stream import read_events

BIG = 200_000  # 200 lots of 2330 at 74.70: above 9A00's NT$1,000,000 band (level 1)


def _pending(world, user: str, account: str, ref: str) -> str:
    placed = world.client.post("/api/v1/orders", json=_order(account, ref, qty=BIG),
                               headers=world.headers(user))
    assert placed.json()["state"] == "pending_approval", placed.text
    return placed.json()["order_id"]


def _decide(world, user: str, order_id: str, approve: bool = True):
    return world.client.post(f"/api/v1/approvals/{order_id}", json={"approve": approve},
                             headers=world.headers(user))


def _trail(world, user: str = "admin1", query: str = "") -> list[tuple[str, str, str]]:
    response = world.client.get(f"/api/v1/approvals/audit{query}", headers=world.headers(user))
    assert response.status_code == 200, response.text
    return [(x["order_id"], x["what"], x["by"]) for x in response.json()]


@pytest.fixture
def two_branches(world):
    """A pending order at each branch of 9A00: (head office customer's, Taichung's)."""
    return (_pending(world, "inv1", "11110001", "hq"),
            _pending(world, "sales-tc", "11120001", "tc"))


def test_queue_when_branch_supervisor_then_its_branch_only_and_head_office_sees_all(
        world, two_branches):
    head_office, taichung = two_branches
    queue = {user: [o["order_id"] for o in world.client.get(
        "/api/v1/approvals", headers=world.headers(user)).json()]
        for user in ("sup1", "sup-tc", "sup2")}
    assert queue == {"sup1": [head_office, taichung], "sup-tc": [taichung], "sup2": []}
    for user in ("inv1", "clerk1", "admin1", "op"):
        assert world.client.get("/api/v1/approvals",
                                headers=world.headers(user)).status_code == 403


def test_decide_when_branch_supervisor_names_other_branch_then_403_and_audited(
        world, two_branches):
    head_office, taichung = two_branches
    refused = _decide(world, "sup-tc", head_office)
    assert (refused.status_code, refused.json()["code"]) == (403, 4101)
    assert world.client.get(f"/api/v1/orders/{head_office}", headers=world.headers(
        "inv1")).json()["state"] == "pending_approval"
    assert _decide(world, "sup-tc", taichung).json()["state"] == "pending_send"
    assert _trail(world) == [
        (head_office, "needs_approval", "inv1"),
        (head_office, "approve refused (2506)", "sup-tc"),
        (taichung, "needs_approval", "sales-tc"),
        (taichung, "approved", "sup-tc")]


def test_decide_when_head_office_supervisor_then_decides_any_branch(world, two_branches):
    head_office, taichung = two_branches
    assert _decide(world, "sup1", taichung, approve=False).json()["state"] == "rejected"
    assert _decide(world, "sup1", head_office).json()["state"] == "pending_send"


def test_decide_when_level_too_low_then_422_with_code_and_audited(world, two_branches):
    head_office, _ = two_branches
    refused = _decide(world, "sup-low", head_office, approve=False)
    assert (refused.status_code, refused.json()["code"]) == (422, 2503)
    assert (head_office, "deny refused (2503)", "sup-low") in _trail(world, "sup1")


def test_decide_when_after_the_timeout_then_422_expired_order_expires_and_audited(
        world, two_branches):
    head_office, _ = two_branches
    world.now += 5 * 60 * 1000
    refused = _decide(world, "sup1", head_office)
    assert (refused.status_code, refused.json()["code"]) == (422, 2505)
    assert world.client.get(f"/api/v1/orders/{head_office}", headers=world.headers(
        "inv1")).json()["state"] == "expired"
    assert [x[1:] for x in _trail(world, query="?account=11110001")] == [
        ("needs_approval", "inv1"), ("approve refused (2505)", "sup1"),
        ("approval_expired", "system")]


def test_decide_when_other_brokers_supervisor_then_same_403_as_missing_and_no_trace(
        world, two_branches):
    head_office, _ = two_branches
    theirs = _decide(world, "sup2", head_office)
    missing = _decide(world, "sup2", "20261125-99999999")
    assert theirs.status_code == missing.status_code == 403
    assert theirs.json() == missing.json()
    assert [x[1] for x in _trail(world) if x[0] == head_office] == ["needs_approval"]
    assert _decide(world, "inv1", head_office).status_code == 403


def test_audit_when_roles_differ_then_scoped_and_refused_for_others(world, two_branches):
    head_office, taichung = two_branches
    _decide(world, "sup-tc", head_office)  # refused: other branch
    assert {x[0] for x in _trail(world, "sup-tc")} == {taichung}
    assert {x[0] for x in _trail(world, "sup1")} == {head_office, taichung}
    assert _trail(world, "admin2") == []
    for user in ("inv1", "clerk1", "sales1", "op"):
        response = world.client.get("/api/v1/approvals/audit", headers=world.headers(user))
        assert (response.status_code, response.json()["code"]) == (403, 4101)
    outside = world.client.get("/api/v1/approvals/audit?account=11110001",
                               headers=world.headers("sup-tc"))
    assert outside.status_code == 403


def test_stream_when_branch_supervisor_then_only_its_branch_events(world):
    token = world.headers("sup-tc")["Authorization"][7:]
    head = world.headers("sup1")["Authorization"][7:]
    with world.client.websocket_connect(f"/api/v1/stream?token={token}") as branch, \
            world.client.websocket_connect(f"/api/v1/stream?token={head}") as whole:
        head_office = _pending(world, "inv1", "11110001", "hq")
        taichung = _pending(world, "sales-tc", "11120001", "tc")
        _decide(world, "sup1", head_office)
        _decide(world, "sup-tc", taichung)
        seen = read_events(branch, 4)
        assert {event.get("account") for event in seen} == {"11120001"}
        assert [event["type"] for event in seen] == [
            "OrderUpdated", "ApprovalRequested", "ApprovalDecided", "OrderUpdated"]
        everything = read_events(whole, 8)
        assert [event["order_id"] for event in everything[:2]] == [head_office] * 2
        assert {event["account"] for event in everything} == {"11110001", "11120001"}


def test_positions_and_orders_when_branch_supervisor_then_its_branch_only(world):
    _pending(world, "inv1", "11110001", "hq")
    taichung = _pending(world, "sales-tc", "11120001", "tc")
    headers = world.headers("sup-tc")
    orders = world.client.get("/api/v1/orders", headers=headers).json()
    assert [o["order_id"] for o in orders] == [taichung]
    assert world.client.get("/api/v1/positions", headers=headers).json() == []
    other = world.client.get("/api/v1/orders?account=11110001", headers=headers)
    assert other.status_code == 403


def test_queue_when_app_expires_approvals_then_overdue_order_leaves_it_on_its_own(tmp_path):
    clock = [NOW]
    with serving(tmp_path, None, lambda: clock[0], expire_approvals_every_s=0.02) as client:
        def headers(user: str) -> dict[str, str]:
            token = client.post("/api/v1/sessions", json={"user_id": user,
                                                          "password": PASSWORD}).json()["token"]
            return {"Authorization": f"Bearer {token}"}
        sup = headers("sup1")
        placed = client.post("/api/v1/orders", json=_order(qty=BIG), headers=headers("inv1"))
        order_id = placed.json()["order_id"]
        time.sleep(0.1)
        assert [o["order_id"] for o in client.get("/api/v1/approvals", headers=sup).json()] == [
            order_id]  # not yet due
        clock[0] += 5 * 60 * 1000
        deadline = time.monotonic() + 5
        while client.get("/api/v1/approvals", headers=sup).json():
            assert time.monotonic() < deadline, "the overdue approval never expired"
            time.sleep(0.02)
        trail = client.get("/api/v1/approvals/audit", headers=sup).json()
        assert [(x["what"], x["by"]) for x in trail] == [("needs_approval", "inv1"),
                                                         ("approval_expired", "system")]


def test_stream_when_decision_on_another_customers_order_then_investor_not_told(world):
    token = world.headers("inv1")["Authorization"][7:]
    with world.client.websocket_connect(f"/api/v1/stream?token={token}") as stream:
        taichung = _pending(world, "sales-tc", "11120001", "tc")
        _decide(world, "sup-tc", taichung)
        mine = world.client.post("/api/v1/orders", json=_order(ref="mine"),
                                 headers=world.headers("inv1")).json()
        first = read_events(stream, 1)[0]
        assert (first["type"], first["order_id"]) == ("OrderUpdated", mine["order_id"])
