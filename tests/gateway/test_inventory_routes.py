"""Orders from a customer's inventory over HTTP: a salesperson sells (part of) its customer's
holdings, each order through the normal order path (risk checks, idempotency), and nobody
else may."""

import pytest

SELL = "/api/v1/orders/from-inventory"


def _sell(world, body: dict, user: str = "sales1"):
    return world.client.post(SELL, json={"account": "11110001", "client_ref": "inv", **body},
                             headers=world.headers(user))


def _summary(results: list[dict]) -> list[tuple]:
    return [(r["client_ref"], (r["order"] or {}).get("qty"), (r["order"] or {}).get("price"),
             (r["error"] or {}).get("code")) for r in results]


def test_sell_when_everything_with_odd_lots_then_one_order_per_lot_batch_and_remainder(world):
    response = _sell(world, {"odd_lots": True})
    assert response.status_code == 200, response.text
    assert _summary(response.json()) == [("inv-2317-1", 12_000, 10450, None),
                                         ("inv-2317-odd", 345, 10450, None),
                                         ("inv-2330-1", 3_000, 7470, None)]
    orders = world.client.get("/api/v1/orders", headers=world.headers("sales1")).json()
    assert [(o["client_ref"], o["side"], o["state"]) for o in orders] == [
        ("inv-2317-1", 1, "pending_approval"),  # NT$1,254,000: the broker's approval band
        ("inv-2317-odd", 1, "pending_send"), ("inv-2330-1", 1, "pending_send")]
    positions = world.client.get("/api/v1/positions?account=11110001",
                                 headers=world.headers("inv1")).json()
    assert {(p["symbol"], p["open_sell"]) for p in positions} == {("2317", 12_345),
                                                                  ("2330", 3_000)}


def test_sell_when_items_give_fraction_quantity_and_price_then_each_as_asked(world):
    response = _sell(world, {"offset_bp": 150, "items": [
        {"symbol": "2317", "fraction_pm": 500},
        {"symbol": "2330", "qty": 2_000, "price": 7500}]})
    assert _summary(response.json()) == [("inv-2317-1", 6_000, 10650, None),
                                         ("inv-2330-1", 2_000, 7500, None)]


def test_sell_when_sent_again_then_nothing_placed_twice(world):
    first = _sell(world, {"items": [{"symbol": "2317", "fraction_pm": 500}]}).json()
    again = _sell(world, {"items": [{"symbol": "2317", "fraction_pm": 500}]}).json()
    assert again == first  # half of what is left plans the same reference: the first order
    everything = _sell(world, {"items": [{"symbol": "2330"}]}).json()
    assert _summary(_sell(world, {"items": [{"symbol": "2330"}]}).json()) == [
        ("inv-2330", None, None, 2306)]  # nothing left to plan: nothing placed
    orders = world.client.get("/api/v1/orders", headers=world.headers("sales1")).json()
    assert [o["order_id"] for o in orders] == [first[0]["order"]["order_id"],
                                               everything[0]["order"]["order_id"]]


def test_sell_when_risk_checks_or_inventory_refuse_then_per_item_codes(world):
    _sell(world, {"client_ref": "a", "items": [{"symbol": "2330", "qty": 3_000}]})
    response = _sell(world, {"client_ref": "b", "items": [
        {"symbol": "2330"}, {"symbol": "2317", "qty": 1_000, "price": 10455},
        {"symbol": "9999"}]})
    assert _summary(response.json()) == [("b-2330", None, None, 2306),  # all offered already
                                         ("b-2317-1", None, None, 1002),  # off the tick
                                         ("b-9999", None, None, 1001)]
    nothing_left = world.client.post(SELL, json={"account": "11120001", "client_ref": "c"},
                                     headers=world.headers("sales-tc"))
    assert (nothing_left.status_code, nothing_left.json()["code"]) == (422, 2306)


@pytest.mark.parametrize(("user", "account"), [
    ("sales1", "11120001"),  # another salesperson's customer
    ("sales1", "22220001"), ("sales1", "99999999"),  # another broker's; none at all
    ("inv1", "11110001"), ("clerk1", "11110001"), ("sup1", "11110001"),
    ("admin1", "11110001"), ("op", "11110001"), ("inv2", "22220001")])
def test_sell_when_not_the_customers_salesperson_then_403_and_nothing_placed(world, user,
                                                                            account):
    response = world.client.post(SELL, json={"account": account, "client_ref": "x"},
                                 headers=world.headers(user))
    assert (response.status_code, response.json()["code"]) == (403, 4101)
    assert world.client.get("/api/v1/orders", headers=world.headers("clerk1")).json() == []


@pytest.mark.parametrize(("body", "field"), [
    ({"items": [{"symbol": "2330", "qty": 1000, "fraction_pm": 500}]}, "items.0"),
    ({"items": [{"symbol": "2330", "fraction_pm": 0}]}, "items.0.fraction_pm"),
    ({"items": [{"symbol": "2330"}, {"symbol": "2330"}]}, None),
    ({"offset_bp": 5_000}, "offset_bp"),
    ({"client_ref": "x" * 21}, "client_ref"),
    ({"items": [{"symbol": "2330", "price": -1}]}, "items.0.price"),
])
def test_sell_when_bad_input_then_422_with_the_field(world, body, field):
    response = _sell(world, body)
    payload = response.json()
    assert (response.status_code, payload["code"], payload["field"]) == (422, 422, field)
    assert payload["message"]
