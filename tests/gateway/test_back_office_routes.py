"""What a broker's administrator records in the back office through the AP server, on the real
core and a real back office fed by it (``settlement_support``): deposits, margin top-ups,
repayments and returns refused with the back office's code, and a default case from the
settlement run to its closing, with the core trading again. Amounts by hand:

11110001 buys 1,000 2330 at 74.70 on Wed 2026-11-25 with nothing in the bank: it owes 74,806
(74,700 + commission 106) on Fri 2026-11-27 and defaults; the broker's penalty is 7%:
74,806 x 7% = 5,236.42 -> 5,236, so closing the case takes 80,042."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from brokercloud.backoffice import commands as b
from brokercloud.backoffice.to_core import settle_due
from brokercloud.core import commands as c
from brokercloud.market.instruments import Instrument

from .settlement_support import SETTLE_DATE, Office, office_world
from .test_api import NOW

FORBIDDEN = {"code": 4101, "message": "Your role may not do this here.", "field": None}
CLOSE = f"/api/v1/defaults/11110001/{SETTLE_DATE}/close"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[Office]:
    with office_world(tmp_path) as office:
        yield office


def _post(world: Office, user: str, path: str, body: dict | None = None):
    return world.client.post(path, json=body, headers=world.headers(user))


def test_deposit_when_own_customer_then_bank_grows_else_identical_403(world):
    response = _post(world, "admin1", "/api/v1/accounts/11110001/deposits", {"amount": 100_000})
    assert (response.status_code, response.json()) == (200, {"bank": 100_000, "loans": 0,
                                                             "held": 0})
    for user, account in (("admin2", "11110001"), ("admin1", "99999999"),
                          ("inv1", "11110001"), ("sup1", "11110001")):
        refused = _post(world, user, f"/api/v1/accounts/{account}/deposits", {"amount": 1})
        assert (refused.status_code, refused.json()) == (403, FORBIDDEN), (user, account)
    bad = _post(world, "admin1", "/api/v1/accounts/11110001/deposits", {"amount": 0})
    assert (bad.status_code, bad.json()["field"]) == (422, "amount")
    assert world.office.ledger.accounts["11110001"].bank == 100_000  # nothing else moved


def test_margin_actions_when_nothing_to_repay_or_return_then_back_office_codes(world):
    for path, code in (("margin/top-up", 6008), ("margin/repay", 6004),
                       ("shorts/return", 6004)):
        body = ({"amount": 1_000} if path == "margin/top-up"
                else {"symbol": "2330", "qty": 1_000, "on": "2026-12-01"})
        response = _post(world, "admin1", f"/api/v1/accounts/11110001/{path}", body)
        assert (response.status_code, response.json()["code"]) == (422, code), path


def test_default_when_settled_unpaid_then_listed_and_closed_once_paid_with_penalty(world):
    world.fill("11110001", "2330", 0, 1_000, 7_470)
    world.client.portal.call(settle_due, world.office, world.client.app.state.gateway.sequencer,
                             date(2026, 11, 27))
    refused = world.client.post("/api/v1/orders", headers=world.headers("clerk1"), json={
        "account": "11110001", "client_ref": "after", "symbol": "2330", "side": 0,
        "qty": 1_000, "price": 7_470})
    assert refused.json()["code"] == 2103  # ACCOUNT_DEFAULTED
    case = {"account": "11110001", "settle_date": SETTLE_DATE, "owed": 74_806,
            "withheld": [{"symbol": "2330", "shares": 1_000}], "closed": False,
            "penalty": None}
    listed = world.client.get("/api/v1/defaults", headers=world.headers("admin1"))
    assert listed.json() == [case]
    for user, answer in (("admin2", (200, [])), ("sup1", (403, FORBIDDEN)),
                         ("inv1", (403, FORBIDDEN))):
        other = world.client.get("/api/v1/defaults", headers=world.headers(user))
        assert (other.status_code, other.json()) == answer, user
    short = _post(world, "admin1", CLOSE)
    assert (short.status_code, short.json()["code"]) == (422, 6107)  # nothing in the bank
    _post(world, "admin1", "/api/v1/accounts/11110001/deposits", {"amount": 100_000})
    assert _post(world, "admin2", CLOSE).json() == FORBIDDEN
    closed = _post(world, "admin1", CLOSE)
    assert closed.json() == {"bank": 100_000 - 80_042, "loans": 0, "held": 0}
    listed = world.client.get("/api/v1/defaults", headers=world.headers("admin1"))
    assert listed.json() == [{**case, "closed": True, "penalty": 5_236}]
    assert _post(world, "admin1", CLOSE).json()["code"] == 6106  # closed already
    again = world.client.post("/api/v1/orders", headers=world.headers("clerk1"), json={
        "account": "11110001", "client_ref": "reopened", "symbol": "2330", "side": 0,
        "qty": 1_000, "price": 7_470})
    assert again.status_code == 201, again.text  # the core reopened the account
    # the 3,000 it held, and the 1,000 the broker had withheld
    assert world.office.ledger.accounts["11110001"].depository["2330"] == 3_000 + 1_000


def test_return_shares_when_short_settled_then_cash_back_and_core_holdings_follow(world):
    """A margin account sells 2,000 2454 short at 100.00 on Wednesday (margin 90% = 180,000;
    proceeds 200,000 - commission 285 - tax 600 - fee 160 = 198,955 held), settled Friday,
    having paid the margin from its bank account; then it returns 2,000 of its own 5,000
    shares: 378,955 comes back, and the core's holdings drop to 3,000 at once."""
    world.submit(c.ListInstrument(at=NOW, instrument=Instrument(
        symbol="2454", name="MediaTek", margin_eligible=True, short_eligible=True),
        reference=10_000, previous_close=10_000))
    world.submit(c.OpenAccount(at=NOW, account="11110009", broker="9A00", branch="001",
                               name="Lin", margin=True, trading_limit=50_000_000,
                               credit_limit=10_000_000))
    world.submit(c.SetHolding(at=NOW, account="11110009", symbol="2454", shares=5_000))
    # the depository's balance as the back office knows it (it takes the core's only once)
    world.until(lambda: "11110009" in world.office.ledger.accounts)
    world.office.execute([b.SetHolding(account="11110009", symbol="2454", shares=5_000)])
    world.fill("11110009", "2454", 1, 2_000, 10_000, credit="short")
    _post(world, "admin1", "/api/v1/accounts/11110009/deposits", {"amount": 1_000_000})
    world.office.execute([b.Settle(date=date(2026, 11, 27))])
    books = world.office.ledger.accounts["11110009"]
    assert (books.owed["2454"], books.held, books.bank) == (2_000, 378_955, 820_000)
    response = _post(world, "admin1", "/api/v1/accounts/11110009/shorts/return",
                     {"symbol": "2454", "qty": 2_000, "on": "2026-12-01"})
    assert (response.status_code, response.json()) == (200, {"bank": 820_000 + 378_955,
                                                             "loans": 0, "held": 0})
    core_account = world.client.app.state.gateway.state.accounts["11110009"]
    assert core_account.holdings["2454"] == 3_000
    again = _post(world, "admin2", "/api/v1/accounts/11110009/shorts/return",
                  {"symbol": "2454", "qty": 1, "on": "2026-12-01"})
    assert (again.status_code, again.json()) == (403, FORBIDDEN)
