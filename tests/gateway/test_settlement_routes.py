"""Settlement amounts, depository holdings, the broker's net with the exchange and the
exceptions queue through the AP server, on the real core and a real back office fed by the
core (``settlement_support``). Every amount is worked out here by hand:

- A  11110001 buys 1,000 2330 at 74.70: value 74,700, commission 74,700 x 0.1425% = 106.44
     -> 106: pays 74,806.
- B  11110001 sells 2,000 2317 at 104.50: value 209,000, commission 297.82 -> 297, tax 0.3%
     627: receives 208,076.
- C  11110002 buys 1,000 2317 at 104.50: value 104,500, commission 148.91 -> 148: pays 104,648.
- D  11120001 (branch 002) buys 2,000 2330 at 74.70: value 149,400, commission 212.89 -> 212:
     pays 149,612.
- E  22220001 (9B00) buys 1,000 2330 at 74.70: pays 74,806.

Traded on Wednesday 2026-11-25, all settle on Friday 2026-11-27 (T+2)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from brokercloud.core import commands as c

from .conftest import serving
from .settlement_support import SETTLE_DATE, TRADE_DATE, Office, office_world
from .test_api import NOW

BUY, SELL = 0, 1


def _net(account: str, receivable: int, payable: int, fills: int) -> dict:
    return {"account": account, "trade_date": TRADE_DATE, "settle_date": SETTLE_DATE,
            "receivable": receivable, "payable": payable, "net": receivable - payable,
            "fills": fills}


def _total(receivable: int, payable: int, fills: int, accounts: int) -> dict:
    return {"trade_date": TRADE_DATE, "settle_date": SETTLE_DATE, "receivable": receivable,
            "payable": payable, "net": receivable - payable, "fills": fills,
            "accounts": accounts}


A_B = _net("11110001", 208_076, 74_806, 2)
C = _net("11110002", 0, 104_648, 1)
D = _net("11120001", 0, 149_612, 1)
E = _net("22220001", 0, 74_806, 1)


@pytest.fixture
def day(tmp_path: Path) -> Iterator[Office]:
    with office_world(tmp_path) as world:
        world.fill("11110001", "2330", BUY, 1_000, 7_470)
        world.fill("11110001", "2317", SELL, 2_000, 10_450)
        world.fill("11110002", "2317", BUY, 1_000, 10_450)
        world.fill("11120001", "2330", BUY, 2_000, 7_470)
        world.fill("22220001", "2330", BUY, 1_000, 7_470, by="inv2")
        yield world


def _get(world: Office, user: str, path: str, **params: str):
    return world.client.get(path, params=params, headers=world.headers(user))


@pytest.mark.parametrize(("user", "amounts", "total"), [
    ("inv1", [A_B], _total(208_076, 74_806, 2, 1)),
    ("sales1", [A_B, C], _total(208_076, 179_454, 3, 2)),  # net settlement of its customers
    ("sales-tc", [D], _total(0, 149_612, 1, 1)),
    ("sup-tc", [D], _total(0, 149_612, 1, 1)),  # its branch only
    ("sup1", [A_B, C, D], _total(208_076, 329_066, 4, 3)),  # head office: whole broker
    ("admin1", [A_B, C, D], _total(208_076, 329_066, 4, 3)),
    ("inv2", [E], _total(0, 74_806, 1, 1)),
    ("admin2", [E], _total(0, 74_806, 1, 1)),
])
def test_settlements_when_role_then_own_scope_with_exact_amounts_and_total(day, user, amounts,
                                                                           total):
    response = _get(day, user, "/api/v1/settlements")
    assert response.status_code == 200, response.text
    assert response.json() == {"amounts": amounts, "totals": [total]}


def test_settlements_when_one_account_or_date_then_narrowed(day):
    one = _get(day, "sales1", "/api/v1/settlements", account="11110002").json()
    assert one == {"amounts": [C], "totals": [_total(0, 104_648, 1, 1)]}
    dated = _get(day, "sup1", "/api/v1/settlements", settle_date=SETTLE_DATE).json()
    assert len(dated["amounts"]) == 3
    assert _get(day, "sup1", "/api/v1/settlements", settle_date="2026-11-30").json() == {
        "amounts": [], "totals": []}


@pytest.mark.parametrize(("user", "account"), [
    ("inv1", "11110002"),  # another customer of the same broker
    ("inv1", "22220001"),  # another broker's account
    ("inv1", "99999999"),  # no such account
    ("sales1", "11120001"),  # not its customer
    ("sup-tc", "11110001"),  # another branch
    ("admin2", "11110001"),
])
def test_settlements_when_account_out_of_reach_then_identical_403(day, user, account):
    response = _get(day, user, "/api/v1/settlements", account=account)
    assert (response.status_code, response.json()) == (403, {
        "code": 4101, "message": "Your role may not do this here.", "field": None})


@pytest.mark.parametrize("user", ["clerk1", "op"])
def test_settlements_when_clerk_or_operator_then_403(day, user):
    assert _get(day, user, "/api/v1/settlements").status_code == 403


@pytest.mark.parametrize(("params", "field"), [
    ({"settle_date": "friday"}, "settle_date"), ({"account": "1" * 21}, "account")])
def test_settlements_when_bad_query_then_422_with_field(day, params, field):
    response = _get(day, "sup1", "/api/v1/settlements", **params)
    body = response.json()
    assert (response.status_code, body["code"], body["field"]) == (422, 422, field)
    assert body["message"]


def test_depository_when_own_account_then_settled_holdings_and_traded_free_shares(day):
    body = _get(day, "inv1", "/api/v1/accounts/11110001/depository").json()
    assert body == {"account": "11110001", "balance": {"bank": 0, "loans": 0, "held": 0},
                    "interest_accrued": 0,
                    "holdings": [
                        {"symbol": "2317", "depository": 12_345, "pledged": 0, "owed": 0,
                         "available": 10_345},  # 2,000 sold today, settles Friday
                        {"symbol": "2330", "depository": 3_000, "pledged": 0, "owed": 0,
                         "available": 4_000}]}
    assert _get(day, "sup-tc", "/api/v1/accounts/11120001/depository").json()["holdings"] == [
        {"symbol": "2330", "depository": 0, "pledged": 0, "owed": 0, "available": 2_000}]


@pytest.mark.parametrize(("user", "account"), [
    ("inv1", "11110002"), ("inv1", "22220001"), ("inv1", "missing"),
    ("sup-tc", "11110001"), ("clerk1", "11110001"), ("op", "11110001")])
def test_depository_when_out_of_reach_then_403(day, user, account):
    response = _get(day, user, f"/api/v1/accounts/{account}/depository")
    assert (response.status_code, response.json()["code"]) == (403, 4101)


@pytest.mark.parametrize("user", ["sup1", "admin1"])
def test_broker_net_when_broker_wide_staff_then_exact_cash_and_shares(day, user):
    # the exchange pays 9A00 for B and is paid for A, C, D: 209,000 - 74,700 - 104,500
    # - 149,400; it delivers 3,000 2330 and takes 1,000 2317 net (2,000 sold, 1,000 bought)
    assert _get(day, user, "/api/v1/settlements/broker").json() == [{
        "trade_date": TRADE_DATE, "settle_date": SETTLE_DATE, "cash": -119_600,
        "shares": [{"symbol": "2317", "shares": -1_000}, {"symbol": "2330", "shares": 3_000}]}]
    assert _get(day, "admin2", "/api/v1/settlements/broker").json()[0]["cash"] == -74_700


@pytest.mark.parametrize("user", ["inv1", "sales1", "sup-tc", "clerk1", "op"])
def test_broker_net_when_bound_or_not_settlement_staff_then_403(day, user):
    response = _get(day, user, "/api/v1/settlements/broker")
    assert (response.status_code, response.json()["code"]) == (403, 4101)


def _exceptional(world: Office) -> None:
    """A fill for A's order after it was filled whole (2602, held by the core) and one for
    an order nobody knows (kept by the core, held by the back office)."""
    order_id = world.client.get("/api/v1/orders", headers=world.headers("inv1")).json()[0][
        "order_id"]
    world.submit(c.ExchangeFilled(at=NOW, order_id=order_id, line="L1", exec_id="LATE",
                                  price=7_470, qty=1_000))
    world.submit(c.ExchangeFilled(at=NOW, order_id="20261125-99999999", line="L1",
                                  exec_id="GHOST", price=7_470, qty=1_000))
    world.until(lambda: len(world.office.ledger.exceptions) == 1)


def test_exceptions_when_admin_then_own_broker_only_and_operator_sees_all(day):
    _exceptional(day)
    discrepancy = {"source": "core", "broker": "9A00", "account": "11110001",
                   "exec_id": "LATE", "code": 2602, "detail": "1000 shares at 7470 (NT$0.01)"}
    [mine] = _get(day, "admin1", "/api/v1/exceptions").json()
    assert {key: mine[key] for key in discrepancy} == discrepancy and mine["message"]
    assert _get(day, "admin2", "/api/v1/exceptions").json() == []
    every = _get(day, "op", "/api/v1/platform/exceptions").json()
    assert [(x["source"], x["code"], x["order_id"]) for x in every] == [
        ("backoffice", 2002, "20261125-99999999"), ("core", 2602, mine["order_id"]),
        ("core", 2002, "20261125-99999999")]
    assert _get(day, "op", "/api/v1/platform/exceptions", broker="9A00").json() == [mine]
    assert _get(day, "op", "/api/v1/platform/exceptions", broker="9B00").json() == []


@pytest.mark.parametrize(("user", "path"), [
    ("sup1", "/api/v1/exceptions"), ("inv1", "/api/v1/exceptions"),
    ("op", "/api/v1/exceptions"), ("admin1", "/api/v1/platform/exceptions")])
def test_exceptions_when_not_admin_or_operator_then_403(day, user, path):
    assert _get(day, user, path).status_code == 403


def test_settlement_routes_when_no_back_office_then_503_with_code_and_clerk_still_403(
        tmp_path):
    with serving(tmp_path, None) as client:
        def get(user: str, path: str):
            token = client.post("/api/v1/sessions", json={
                "user_id": user, "password": "correct horse battery staple"}).json()["token"]
            return client.get(path, headers={"Authorization": f"Bearer {token}"})

        for user, path in (("inv1", "/api/v1/settlements"),
                           ("inv1", "/api/v1/accounts/11110001/depository"),
                           ("sup1", "/api/v1/settlements/broker"),
                           ("admin1", "/api/v1/exceptions"),
                           ("op", "/api/v1/platform/exceptions")):
            response = get(user, path)
            assert (response.status_code, response.json()["code"]) == (503, 4301), path
            assert "no back office" in response.json()["message"]
        assert get("clerk1", "/api/v1/settlements").status_code == 403
