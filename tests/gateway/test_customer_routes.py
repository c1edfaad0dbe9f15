"""Customer management through the AP server on the real core and a real back office fed by
it (``settlement_support``): an account's performance with exact NT$, its monthly statement as
a PDF read back, and the broker's ranking; each under the settlement routes' tenancy.

11110001 buys 1,000 2330 at 74.70 (cost 74,700 + commission 106 = 74,806) and sells them again
at 75.00 on the same day: value 75,000 - commission 106 (106.875 -> 106) - tax 225 = 74,669
received. Realized by average cost: 74,669 - 74,806 = -137, commission 212, tax 225."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pypdf
import pytest

from .settlement_support import TRADE_DATE, Office, office_world

FORBIDDEN = {"code": 4101, "message": "Your role may not do this here.", "field": None}


@pytest.fixture
def day(tmp_path: Path) -> Iterator[Office]:
    with office_world(tmp_path) as world:
        world.fill("11110001", "2330", 0, 1_000, 7_470)
        world.fill("11110001", "2330", 1, 1_000, 7_500)
        world.fill("11120001", "2330", 0, 2_000, 7_470)  # branch 002: 149,400, commission 212
        yield world


def _get(world: Office, user: str, path: str, **params: str):
    return world.client.get(path, params=params, headers=world.headers(user))


def test_performance_when_own_account_then_exact_pnl_and_others_refused_alike(day):
    period = {"first": TRADE_DATE, "last": TRADE_DATE}
    for user in ("inv1", "sales1", "sup1", "admin1"):
        answer = _get(day, user, "/api/v1/accounts/11110001/performance", **period)
        assert answer.status_code == 200, (user, answer.text)
        body = answer.json()
        assert (body["realized"], body["commission"], body["tax"], body["interest"]) == (
            -137, 212, 225, 0), user
    for user, account in (("inv2", "11110001"), ("admin2", "11110001"),
                          ("sup-tc", "11110001"), ("inv1", "99999999")):
        refused = _get(day, user, f"/api/v1/accounts/{account}/performance", **period)
        assert (refused.status_code, refused.json()) == (403, FORBIDDEN), (user, account)
    backwards = _get(day, "inv1", "/api/v1/accounts/11110001/performance",
                     first="2026-11-26", last="2026-11-25")
    assert (backwards.status_code, backwards.json()["code"]) == (422, 6202)


def test_statement_when_month_then_a_pdf_naming_the_account_and_its_trades(day):
    answer = _get(day, "inv1", "/api/v1/accounts/11110001/statement", month="2026-11")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf"
    text = "".join(page.extract_text() for page in pypdf.PdfReader(
        io.BytesIO(answer.content)).pages)
    assert "11110001" in text and "74,806" in text and "74,669" in text
    assert _get(day, "inv2", "/api/v1/accounts/11110001/statement",
                month="2026-11").json() == FORBIDDEN
    bad = _get(day, "inv1", "/api/v1/accounts/11110001/statement", month="2026-13")
    assert (bad.status_code, bad.json()["code"]) == (422, 6202)


def test_ranking_when_broker_wide_staff_then_by_commission_else_403(day):
    period = {"first": TRADE_DATE, "last": TRADE_DATE}
    rows = _get(day, "admin1", "/api/v1/customers/ranking", **period).json()
    # 11110001: 106 + 106 = 212 on 149,700 traded; 11120001: 212 on 149,400: equal
    # commission, so the order between them is not asserted
    assert {(r["account"], r["commission"], r["value"]) for r in rows} == {
        ("11110001", 212, 149_700), ("11120001", 212, 149_400)}
    assert [r["rank"] for r in rows] == [1, 2]
    assert sum(r["share_ppm"] for r in rows) == 1_000_000
    assert _get(day, "admin2", "/api/v1/customers/ranking", **period).json() == []
    for user in ("inv1", "sales1", "sup-tc"):
        assert _get(day, user, "/api/v1/customers/ranking", **period).json() == FORBIDDEN


def test_salespeople_when_broker_wide_staff_then_commission_and_bonus_per_salesperson(day):
    """sales1 serves 11110001 and 11110002 (commission 212 + 0), sales-tc 11120001 (212); a 15%
    bonus: 212 x 15% = 31.8 -> 31 each."""
    period = {"first": TRADE_DATE, "last": TRADE_DATE, "bonus_ppm": "150000"}
    rows = _get(day, "admin1", "/api/v1/customers/salespeople", **period).json()
    assert rows == [
        {"salesperson": "sales-tc", "customers": 1, "commission": 212, "bonus": 31},
        {"salesperson": "sales1", "customers": 2, "commission": 212, "bonus": 31}]
    assert _get(day, "admin2", "/api/v1/customers/salespeople", **period).json() == []
    assert _get(day, "sales1", "/api/v1/customers/salespeople", **period).json() == FORBIDDEN
    bad = _get(day, "admin1", "/api/v1/customers/salespeople", **{**period, "bonus_ppm": "-1"})
    assert (bad.status_code, bad.json()["field"]) == (422, "bonus_ppm")
