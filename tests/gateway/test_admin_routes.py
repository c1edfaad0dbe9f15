"""Account views and commission discounts over HTTP: scoped by broker, account and branch;
only a broker's own administrators change a discount; bad values refused with the field."""

import pytest

from .test_api import _order

DISCOUNT = "/api/v1/accounts/{}/commission"


def test_commission_when_admin_sets_discount_then_account_view_and_next_order_use_it(world):
    admin = world.headers("admin1")
    response = world.client.put(DISCOUNT.format("11110002"), json={"discount_bp": 5_000},
                                headers=admin)
    body = response.json()
    assert response.status_code == 200
    assert (body["commission_rate_ppm"], body["discount_bp"], body["min_fee"]) == (
        1_425, 5_000, 20)
    seen = world.client.get("/api/v1/accounts/11110002", headers=admin).json()
    assert seen["discount_bp"] == 5_000
    placed = world.client.post("/api/v1/orders", json=_order("11110002", qty=10_000),
                               headers=world.headers("sales1"))
    assert placed.status_code == 201
    # 747,000 of value; 0.1425% at half rate = 532.2 -> 532 (full rate would be 1,064)
    after = world.client.get("/api/v1/accounts/11110002", headers=admin).json()
    assert after["used_trading"] == 747_000 + 532


@pytest.mark.parametrize("user", ["sup1", "clerk1", "sales1", "inv1", "op", "admin2"])
def test_commission_when_not_this_brokers_admin_then_403_and_discount_unchanged(world, user):
    response = world.client.put(DISCOUNT.format("11110001"), json={"discount_bp": 1},
                                headers=world.headers(user))
    assert (response.status_code, response.json()["code"]) == (403, 4101)
    seen = world.client.get("/api/v1/accounts/11110001", headers=world.headers("admin1"))
    assert seen.json()["discount_bp"] == 10_000


def test_commission_when_other_brokers_account_or_missing_then_same_403(world):
    admin = world.headers("admin1")
    theirs = world.client.put(DISCOUNT.format("22220001"), json={"discount_bp": 1},
                              headers=admin)
    missing = world.client.put(DISCOUNT.format("99999999"), json={"discount_bp": 1},
                               headers=admin)
    assert theirs.status_code == missing.status_code == 403
    assert theirs.json() == missing.json()


@pytest.mark.parametrize("body", [{"discount_bp": -1}, {"discount_bp": 10_001},
                                  {"discount_bp": "half"}, {"discount_bp": 0.5}, {}])
def test_commission_when_bad_value_then_422_naming_the_field(world, body):
    response = world.client.put(DISCOUNT.format("11110001"), json=body,
                                headers=world.headers("admin1"))
    payload = response.json()
    assert (response.status_code, payload["field"]) == (422, "discount_bp")
    assert payload["message"]


def test_list_accounts_when_roles_differ_then_each_sees_its_scope(world):
    seen = {user: [a["account"] for a in world.client.get(
        "/api/v1/accounts", headers=world.headers(user)).json()]
        for user in ("inv1", "sales1", "sales-tc", "clerk1", "sup1", "sup-tc", "admin1",
                     "inv2", "admin2")}
    everyone = ["11110001", "11110002", "11120001"]
    assert seen == {"inv1": ["11110001"], "sales1": ["11110001", "11110002"],
                    "sales-tc": ["11120001"], "clerk1": everyone, "sup1": everyone,
                    "sup-tc": ["11120001"], "admin1": everyone, "inv2": ["22220001"],
                    "admin2": ["22220001"]}
    assert world.client.get("/api/v1/accounts", headers=world.headers("op")).status_code == 403


def test_list_accounts_when_branch_given_then_that_branch_only(world):
    response = world.client.get("/api/v1/accounts?branch=002",
                                headers=world.headers("admin1"))
    assert [(a["account"], a["branch"]) for a in response.json()] == [("11120001", "002")]


@pytest.mark.parametrize(("user", "account"), [
    ("inv1", "11110002"), ("sup-tc", "11110001"), ("admin1", "22220001"),
    ("admin1", "99999999"), ("op", "11110001")])
def test_get_account_when_outside_scope_or_missing_then_403(world, user, account):
    response = world.client.get(f"/api/v1/accounts/{account}", headers=world.headers(user))
    assert (response.status_code, response.json()["code"]) == (403, 4101)


def test_get_account_when_own_then_limits_and_fees(world):
    body = world.client.get("/api/v1/accounts/11110001", headers=world.headers("inv1")).json()
    assert body == {"account": "11110001", "branch": "001", "name": "11110001",
                    "status": "open", "margin": False, "day_trading": False,
                    "trading_limit": 50_000_000, "credit_limit": 0, "used_trading": 0,
                    "used_credit": 0, "commission_rate_ppm": 1_425, "discount_bp": 10_000,
                    "min_fee": 20}
