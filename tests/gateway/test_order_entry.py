"""Order entry's hot path in front of FastAPI: it answers well-formed orders itself and hands
everything else, body included, to the route."""

import json

import pytest
from fastapi.testclient import TestClient
from starlette.types import Message, Receive, Scope, Send

from brokercloud.gateway.order_entry import OrderEntry

from .test_api import _order, _token


class _Route:
    """Stands where FastAPI's router would: records what reached it and answers 299."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        self.bodies.append(message["body"])
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def _request(api: TestClient, body: bytes, headers: dict[str, str],
             content_type: str = "application/json") -> tuple[_Route, list[Message]]:
    """``body`` through the hot path in front of a recording route, on the app's own loop."""
    route = _Route()
    entry = OrderEntry(route)
    raw = [(name.lower().encode(), value.encode()) for name, value in headers.items()]
    raw += [(b"content-type", content_type.encode()),
            (b"content-length", str(len(body)).encode())]
    scope = {"type": "http", "method": "POST", "path": "/api/v1/orders", "headers": raw,
             "app": api.app}
    sent: list[Message] = []
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> Message:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    assert api.portal is not None
    api.portal.call(entry, scope, receive, send)
    return route, sent


def test_order_when_well_formed_then_answered_without_the_route(api):
    headers = _token(api, "inv1")
    route, sent = _request(api, json.dumps(_order()).encode(), headers)
    answer = json.loads(sent[1]["body"])
    assert (route.bodies, sent[0]["status"]) == ([], 201)
    assert answer == api.get(f"/api/v1/orders/{answer['order_id']}", headers=headers).json()


@pytest.mark.parametrize(("body", "content_type"), [
    (b'{"account": "11110001"}', "application/json"),  # fails the schema
    (b"{not json", "application/json"),
    (json.dumps(_order()).encode(), "text/plain"),
])
def test_order_when_not_taken_as_it_is_then_the_route_gets_the_same_body(api, body,
                                                                          content_type):
    route, sent = _request(api, body, _token(api, "inv1"), content_type)
    assert (route.bodies, sent[0]["status"]) == ([body], 299)


@pytest.mark.parametrize(("headers", "status", "code"), [
    ({}, 401, 4004),
    ({"Authorization": "Bearer nonsense"}, 401, 4003),
])
def test_order_when_not_authenticated_then_401_and_nothing_placed(api, headers, status, code):
    route, sent = _request(api, json.dumps(_order()).encode(), headers)
    assert (route.bodies, sent[0]["status"], json.loads(sent[1]["body"])["code"]) == (
        [], status, code)
    assert api.get("/api/v1/orders", headers=_token(api, "clerk1")).json() == []


def test_order_when_other_customers_account_then_403_from_the_hot_path(api):
    route, sent = _request(api, json.dumps(_order("22220001")).encode(), _token(api, "inv1"))
    assert (route.bodies, sent[0]["status"], json.loads(sent[1]["body"])["code"]) == (
        [], 403, 4101)


def test_order_when_body_streamed_without_length_then_the_route_places_it(api):
    headers = {**_token(api, "inv1"), "Content-Type": "application/json"}
    response = api.post("/api/v1/orders", headers=headers,
                        content=iter([json.dumps(_order())[:20].encode(),
                                      json.dumps(_order())[20:].encode()]))
    assert (response.status_code, response.json()["client_ref"]) == (201, "r1")
    assert "content-length" not in response.request.headers
