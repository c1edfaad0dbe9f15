"""The HTTP API end to end on the real core and identity store (FastAPI's TestClient runs the
application, its lifespan and the sequencer in-process)."""


import pytest
from fastapi.testclient import TestClient

from brokercloud.core import commands as c
from brokercloud.core.commands import Role
from brokercloud.gateway.app import MAX_BODY_BYTES
from brokercloud.gateway.identities import User
from brokercloud.market.instruments import Instrument

from .test_stream import read_events

T0 = 1_795_564_800_000
NOW = T0 + 3_600_000
PASSWORD = "correct horse battery staple"
USERS = [
    User(user_id="inv1", broker="9A00", role=Role.INVESTOR, accounts=("11110001",)),
    User(user_id="sales1", broker="9A00", role=Role.SALESPERSON,
         accounts=("11110001", "11110002")),
    User(user_id="clerk1", broker="9A00", role=Role.CLERK),
    User(user_id="sup1", broker="9A00", role=Role.SUPERVISOR, level=2),
    User(user_id="admin1", broker="9A00", role=Role.BROKER_ADMIN),
    User(user_id="op", broker="", role=Role.OPERATOR),
    User(user_id="inv2", broker="9B00", role=Role.INVESTOR, accounts=("22220001",)),
]


def _reference() -> list[c.Cmd]:
    commands: list[c.Cmd] = [c.ListInstrument(at=T0, instrument=Instrument(symbol="2330",
                                                                          name="TSMC"),
                                              reference=7470)]
    for broker in ("9A00", "9B00"):
        bands = [(1_000_000, 1)] if broker == "9A00" else []
        commands += [c.AddBroker(at=T0, broker=broker, name=broker, approval_bands=bands),
                     c.AddBranch(at=T0, broker=broker, branch="001", name="HQ")]
    commands.append(c.AddStaff(at=T0, broker="9A00", user="sup1", role=Role.SUPERVISOR,
                               level=2))
    for account, broker in (("11110001", "9A00"), ("11110002", "9A00"), ("22220001", "9B00")):
        commands.append(c.OpenAccount(at=T0, account=account, broker=broker, branch="001",
                                      name=account, trading_limit=50_000_000))
    commands.append(c.SetHolding(at=T0, account="11110001", symbol="2330", shares=3000))
    return commands


def _token(api: TestClient, user_id: str) -> dict[str, str]:
    response = api.post("/api/v1/sessions", json={"user_id": user_id, "password": PASSWORD})
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def _order(account: str = "11110001", ref: str = "r1", qty: int = 1000,
           price: int = 7470) -> dict:
    return {"account": account, "client_ref": ref, "symbol": "2330", "side": 0, "qty": qty,
            "price": price}


def test_login_when_credentials_good_then_token_and_identity(api):
    response = api.post("/api/v1/sessions", json={"user_id": "inv1", "password": PASSWORD})
    body = response.json()
    assert (response.status_code, body["user_id"], body["broker"], body["role"]) == (
        201, "inv1", "9A00", "investor")


@pytest.mark.parametrize(("headers", "code"), [
    ({}, 4004), ({"Authorization": "Bearer nonsense"}, 4003), ({"Authorization": "x"}, 4004)])
def test_request_when_not_authenticated_then_401_with_code(api, headers, code):
    response = api.get("/api/v1/orders", headers=headers)
    assert (response.status_code, response.json()["code"]) == (401, code)


def test_login_when_password_wrong_then_401_invalid_credentials(api):
    response = api.post("/api/v1/sessions", json={"user_id": "inv1", "password": "nope"})
    assert (response.status_code, response.json()["code"]) == (401, 4001)


def test_logout_when_done_then_token_no_longer_works(api):
    headers = _token(api, "inv1")
    assert api.delete("/api/v1/sessions", headers=headers).status_code == 204
    assert api.get("/api/v1/orders", headers=headers).json()["code"] == 4003


def test_place_when_investor_own_account_then_201_pending_send(api):
    response = api.post("/api/v1/orders", json=_order(), headers=_token(api, "inv1"))
    body = response.json()
    assert (response.status_code, body["state"], body["account"], body["qty"]) == (
        201, "pending_send", "11110001", 1000)
    assert body["order_id"].startswith("20261125-")


@pytest.mark.parametrize(("user", "account"), [
    ("inv1", "11110002"),  # another customer of the same broker
    ("inv1", "22220001"),  # another broker's account
    ("sales1", "22220001"),
    ("sup1", "11110001"),  # supervisors decide, they do not trade
    ("op", "11110001"),
])
def test_place_when_not_allowed_then_403_and_no_order(api, user, account):
    response = api.post("/api/v1/orders", json=_order(account), headers=_token(api, user))
    assert (response.status_code, response.json()["code"]) == (403, 4101)
    assert api.get("/api/v1/orders", headers=_token(api, "clerk1")).json() == []


def test_place_when_same_client_ref_twice_then_the_first_order_returned(api):
    headers = _token(api, "inv1")
    first = api.post("/api/v1/orders", json=_order(), headers=headers).json()
    again = api.post("/api/v1/orders", json=_order(qty=5000), headers=headers).json()
    assert again == first
    assert len(api.get("/api/v1/orders", headers=headers).json()) == 1


@pytest.mark.parametrize(("body", "status", "code", "field"), [
    ({**_order(), "symbol": "9999"}, 422, 1001, None),
    ({**_order(), "price": 7475}, 422, 1002, None),
    ({**_order(), "price": 9000}, 422, 1003, None),
    ({**_order(), "qty": 1500}, 422, 1006, None),
    ({k: v for k, v in _order().items() if k != "symbol"}, 422, 422, "symbol"),
    ({**_order(), "qty": "many"}, 422, 422, "qty"),
    ({**_order(), "qty": -1000}, 422, 422, "qty"),
])
def test_place_when_bad_input_then_status_code_and_field(api, body, status, code, field):
    response = api.post("/api/v1/orders", json=body, headers=_token(api, "inv1"))
    payload = response.json()
    assert (response.status_code, payload["code"], payload["field"]) == (status, code, field)
    assert payload["message"]


def test_place_when_body_not_json_then_422(api):
    response = api.post("/api/v1/orders", content=b"{not json",
                        headers={**_token(api, "inv1"), "Content-Type": "application/json"})
    assert response.status_code == 422


def test_place_when_body_too_large_then_413_before_reading(api):
    response = api.post("/api/v1/orders", content=b"x" * (MAX_BODY_BYTES + 1),
                        headers={**_token(api, "inv1"), "Content-Type": "application/json"})
    assert response.status_code == 413


def test_queries_when_roles_differ_then_each_sees_only_its_scope(api):
    api.post("/api/v1/orders", json=_order("11110001", "a"), headers=_token(api, "sales1"))
    api.post("/api/v1/orders", json=_order("11110002", "b"), headers=_token(api, "sales1"))
    api.post("/api/v1/orders", json=_order("22220001", "c"), headers=_token(api, "inv2"))
    seen = {user: sorted(o["account"] for o in api.get(
        "/api/v1/orders", headers=_token(api, user)).json()) for user in
        ("inv1", "sales1", "clerk1", "sup1", "inv2")}
    assert seen == {"inv1": ["11110001"], "sales1": ["11110001", "11110002"],
                    "clerk1": ["11110001", "11110002"], "sup1": ["11110001", "11110002"],
                    "inv2": ["22220001"]}


def test_get_order_when_other_broker_or_missing_then_same_403(api):
    other = api.post("/api/v1/orders", json=_order("22220001"), headers=_token(api, "inv2"))
    headers = _token(api, "inv1")
    a = api.get(f"/api/v1/orders/{other.json()['order_id']}", headers=headers)
    b = api.get("/api/v1/orders/20261125-99999999", headers=headers)
    assert (a.status_code, b.status_code) == (403, 403) and a.json() == b.json()


def test_cancel_when_own_pending_order_then_cancelled_and_other_broker_cannot(api):
    placed = api.post("/api/v1/orders", json=_order(), headers=_token(api, "inv1")).json()
    refused = api.delete(f"/api/v1/orders/{placed['order_id']}", headers=_token(api, "inv2"))
    assert refused.status_code == 403
    done = api.delete(f"/api/v1/orders/{placed['order_id']}", headers=_token(api, "inv1"))
    assert (done.status_code, done.json()["state"]) == (200, "cancelled")


def test_approval_when_above_threshold_then_supervisor_approves_and_investor_cannot(api):
    big = api.post("/api/v1/orders", json=_order(qty=200_000), headers=_token(api, "inv1"))
    order_id = big.json()["order_id"]
    assert big.json()["state"] == "pending_approval"
    queue = api.get("/api/v1/approvals", headers=_token(api, "sup1")).json()
    assert [o["order_id"] for o in queue] == [order_id]
    assert api.get("/api/v1/approvals", headers=_token(api, "inv1")).status_code == 403
    refused = api.post(f"/api/v1/approvals/{order_id}", json={"approve": True},
                       headers=_token(api, "inv1"))
    assert refused.status_code == 403
    approved = api.post(f"/api/v1/approvals/{order_id}", json={"approve": True},
                        headers=_token(api, "sup1"))
    assert (approved.status_code, approved.json()["state"]) == (200, "pending_send")


def test_stream_when_order_placed_then_own_session_gets_it_and_other_broker_does_not(api):
    inv1, inv2 = _token(api, "inv1"), _token(api, "inv2")
    token1 = inv1["Authorization"][7:]
    token2 = inv2["Authorization"][7:]
    with api.websocket_connect(f"/api/v1/stream?token={token1}") as mine, \
            api.websocket_connect(f"/api/v1/stream?token={token2}") as theirs:
        placed = api.post("/api/v1/orders", json=_order(), headers=inv1).json()
        event = read_events(mine, 1)[0]
        assert (event["type"], event["order_id"], event["state"]) == (
            "OrderUpdated", placed["order_id"], "pending_send")
        api.post("/api/v1/orders", json=_order("22220001", "z"), headers=inv2)
        other = read_events(theirs, 1)[0]
        assert other["account"] == "22220001"  # the first thing they see is their own
    with api.websocket_connect(
            f"/api/v1/stream?token={token1}&resume_after={event['seq'] - 1}") as resumed:
        assert read_events(resumed, 1)[0]["order_id"] == placed["order_id"]


def test_openapi_when_read_then_every_route_documented(api):
    paths = set(api.get("/openapi.json").json()["paths"])
    assert paths == {"/api/v1/sessions", "/api/v1/orders", "/api/v1/orders/{order_id}",
                     "/api/v1/fills", "/api/v1/approvals", "/api/v1/approvals/{order_id}",
                     "/api/v1/certificates", "/api/v1/positions", "/api/v1/accounts",
                     "/api/v1/accounts/{account}/limits", "/api/v1/accounts/{account}/status",
                     "/api/v1/platform/brokers", "/api/v1/orders/batch", "/api/v1/staff",
                     "/api/v1/orders/cancel-batch", "/api/v1/accounts/{account}",
                     "/api/v1/accounts/{account}/commission", "/api/v1/approvals/audit",
                     "/api/v1/orders/from-inventory", "/api/v1/platform/lines",
                     "/api/v1/settlements", "/api/v1/settlements/broker",
                     "/api/v1/accounts/{account}/depository", "/api/v1/exceptions",
                     "/api/v1/platform/exceptions", "/api/v1/accounts/{account}/deposits",
                     "/api/v1/accounts/{account}/margin/top-up",
                     "/api/v1/accounts/{account}/margin/repay",
                     "/api/v1/accounts/{account}/shorts/return", "/api/v1/defaults",
                     "/api/v1/defaults/{account}/{settle_date}/close",
                     "/api/v1/accounts/{account}/performance",
                     "/api/v1/accounts/{account}/statement", "/api/v1/customers/ranking",
                     "/api/v1/customers/salespeople"}


def test_positions_when_investor_then_own_account_holdings_and_offers(api):
    sell = {**_order(), "side": 1, "client_ref": "s1"}
    assert api.post("/api/v1/orders", json=sell, headers=_token(api, "sales1")).status_code == 201
    rows = api.get("/api/v1/positions", headers=_token(api, "inv1")).json()
    assert rows == [{"account": "11110001", "symbol": "2330", "holding": 3000, "bought": 0,
                     "sold": 0, "position": 3000, "open_sell": 1000}]
    assert api.get("/api/v1/positions", headers=_token(api, "inv2")).json() == []
    refused = api.get("/api/v1/positions?account=22220001", headers=_token(api, "sales1"))
    assert refused.status_code == 403


def test_accounts_when_admin_then_opens_and_changes_limits_and_others_cannot(api):
    admin = _token(api, "admin1")
    opened = api.post("/api/v1/accounts", headers=admin, json={
        "account": "11119999", "branch": "001", "name": "New", "trading_limit": 1_000_000})
    assert (opened.status_code, opened.json()) == (201, {"account": "11119999"})
    assert api.post("/api/v1/accounts", headers=admin, json={
        "account": "11119999", "branch": "001", "name": "Again",
        "trading_limit": 1}).json()["code"] == 2006
    limits = api.put("/api/v1/accounts/11119999/limits", headers=admin,
                     json={"trading_limit": 5, "credit_limit": 0})
    assert limits.status_code == 204
    # the new limit is enforced at once: a clerk's order for it is over the limit
    refused = api.post("/api/v1/orders", json=_order("11119999"), headers=_token(api, "clerk1"))
    assert refused.json()["code"] == 2302
    for user in ("clerk1", "inv1", "sup1", "op"):
        assert api.put("/api/v1/accounts/11119999/limits", headers=_token(api, user),
                       json={"trading_limit": 9, "credit_limit": 0}).status_code == 403
    other = api.put("/api/v1/accounts/22220001/status", headers=admin,
                    json={"status": "suspended"})
    missing = api.put("/api/v1/accounts/00000000/status", headers=admin,
                      json={"status": "suspended"})
    assert (other.status_code, missing.status_code) == (403, 403)
    assert other.json() == missing.json()


def test_account_status_when_suspended_then_orders_refused(api):
    assert api.put("/api/v1/accounts/11110001/status", headers=_token(api, "admin1"),
                   json={"status": "suspended"}).status_code == 204
    refused = api.post("/api/v1/orders", json=_order(), headers=_token(api, "inv1"))
    assert refused.json()["code"] == 2102


def test_platform_brokers_when_operator_then_usage_of_every_broker_and_nobody_else(api):
    api.post("/api/v1/orders", json=_order(), headers=_token(api, "inv1"))
    usage = api.get("/api/v1/platform/brokers", headers=_token(api, "op")).json()
    assert {(u["broker"], u["accounts"], u["orders_today"]) for u in usage} == {
        ("9A00", 2, 1), ("9B00", 1, 0)}
    for user in ("inv1", "sup1", "admin1"):
        assert api.get("/api/v1/platform/brokers",
                       headers=_token(api, user)).status_code == 403


def test_batch_when_salesperson_then_each_order_on_its_own_and_investor_refused(api):
    orders = [_order("11110001", "g1"), _order("11110002", "g2"), _order("22220001", "g3"),
              {**_order("11110001", "g4"), "price": 7475}]
    results = api.post("/api/v1/orders/batch", json={"orders": orders},
                       headers=_token(api, "sales1")).json()
    assert [(r["client_ref"], r["order"] is not None, (r["error"] or {}).get("code"))
            for r in results] == [("g1", True, None), ("g2", True, None),
                                  ("g3", False, 4101), ("g4", False, 1002)]
    refused = api.post("/api/v1/orders/batch", json={"orders": orders[:1]},
                       headers=_token(api, "inv1"))
    assert refused.status_code == 403


def test_amend_when_order_not_yet_at_exchange_then_refused_with_code(api):
    placed = api.post("/api/v1/orders", json=_order(qty=3000), headers=_token(api, "clerk1"))
    order_id = placed.json()["order_id"]
    answer = api.patch(f"/api/v1/orders/{order_id}", json={"qty": 2000},
                       headers=_token(api, "clerk1"))
    assert (answer.status_code, answer.json()["code"]) == (422, 2004)  # not at the exchange
    other = api.patch(f"/api/v1/orders/{order_id}", json={"qty": 2000},
                      headers=_token(api, "inv2"))
    assert other.status_code == 403


def test_stream_when_quotes_subscribed_then_delivered_and_bad_request_answered(api):
    token = _token(api, "inv1")["Authorization"][7:]
    with api.websocket_connect(f"/api/v1/stream?token={token}") as stream:
        stream.send_text('{"op": "subscribe", "symbols": ["2330"]}')
        stream.send_text("not json")
        error = read_events(stream, 1)[0]
        assert error["type"] == "error"
        hub = api.app.state.hub
        hub.publish_quote("2317", b'{"type": "quote", "symbol": "2317"}')
        hub.publish_quote("2330", b'{"type": "quote", "symbol": "2330", "last_price": 7480}')
        quote = read_events(stream, 1)[0]
        assert (quote["symbol"], quote["last_price"]) == ("2330", 7480)


def test_staff_when_admin_adds_a_supervisor_then_it_can_log_in_and_approve(api):
    admin = _token(api, "admin1")
    added = api.post("/api/v1/staff", headers=admin, json={
        "user_id": "sup9", "role": "supervisor", "password": "a long password 9",
        "branch": "001", "level": 1})
    assert (added.status_code, added.json()) == (201, {"user_id": "sup9"})
    big = api.post("/api/v1/orders", json=_order(qty=200_000), headers=_token(api, "inv1"))
    decided = api.post(f"/api/v1/approvals/{big.json()['order_id']}", json={"approve": True},
                       headers={"Authorization": "Bearer " + api.post(
                           "/api/v1/sessions", json={"user_id": "sup9",
                                                     "password": "a long password 9"}
                       ).json()["token"]})
    assert decided.json()["state"] == "pending_send"
    again = api.post("/api/v1/staff", headers=admin, json={
        "user_id": "sup9", "role": "clerk", "password": "another password"})
    assert (again.status_code, again.json()["code"]) == (422, 2006)
    foreign = api.post("/api/v1/staff", headers=admin, json={
        "user_id": "s2", "role": "salesperson", "password": "a long password 2",
        "accounts": ["22220001"]})
    assert (foreign.status_code, foreign.json()["field"]) == (422, "accounts")
    for user in ("sup1", "clerk1", "inv1", "op"):
        assert api.post("/api/v1/staff", headers=_token(api, user), json={
            "user_id": "x1", "role": "clerk",
            "password": "a long password 1"}).status_code == 403


def test_cancel_batch_when_staff_then_own_broker_cancelled_and_others_refused(api):
    mine = api.post("/api/v1/orders", json=_order(ref="m1"), headers=_token(api, "clerk1"))
    theirs = api.post("/api/v1/orders", json=_order("22220001", "t1"),
                      headers=_token(api, "inv2"))
    results = api.post("/api/v1/orders/cancel-batch", headers=_token(api, "clerk1"), json={
        "order_ids": [mine.json()["order_id"], theirs.json()["order_id"], "nope"]}).json()
    assert [(r["order"] or {}).get("state") for r in results] == ["cancelled", None, None]
    assert [(r["error"] or {}).get("code") for r in results] == [None, 4101, 4101]
    assert api.post("/api/v1/orders/cancel-batch", headers=_token(api, "inv1"), json={
        "order_ids": ["x"]}).status_code == 403
