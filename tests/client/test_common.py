"""The SDK's flows without a server: which calls each method makes, what investors sign (checked
against the signed fields written out here, as another client would) and how answers decode."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from brokercloud.client._common import (
    ApiError,
    Call,
    Flow,
    Flows,
    LoginResult,
    Order,
    decode,
    make_signer,
)
from brokercloud.gateway.signing import canonical, generate_key, save_key, verify_signature

SOURCES = Path(__file__).resolve().parents[2] / "src"
ORDER = Order(order_id="20251125-00000001", client_ref="r1", account="10000001",
              symbol="2412", side=0, qty=2000, price=11_500, state="acknowledged", cum_qty=0,
              leaves=2000, exchange_order_id=7)


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return generate_key()


@pytest.fixture
def investor(tmp_path: Path, key: rsa.RSAPrivateKey) -> Flows:
    save_key(key, tmp_path / "me.pem")
    (tmp_path / "me.crt").write_text("CERTIFICATE PEM")
    return Flows("t0k3n", make_signer(tmp_path / "me.pem", tmp_path / "me.crt"))


def _run(flow: Flow[Any], answers: list[Any]) -> tuple[list[Call], Any]:
    """Every call the flow makes, feeding it ``answers`` in turn, and what it returns."""
    calls = [next(flow)]
    for answer in answers:
        try:
            calls.append(flow.send(answer))
        except StopIteration as done:
            return calls, done.value
    raise AssertionError("the flow wanted more answers")


def _calls(flow: Flow[Any], answers: list[Any]) -> list[Call]:
    return _run(flow, answers)[0]


def _signed_over(key: rsa.RSAPrivateKey, body: dict, fields: dict) -> bool:
    return verify_signature(key.public_key(), body["signature"], canonical(
        {**fields, "timestamp": body["timestamp"], "nonce": body["nonce"]}))


def test_cancel_when_investor_omits_account_then_looked_up_and_signed_for_it(
        investor: Flows, key: rsa.RSAPrivateKey) -> None:
    lookup, cancel = _calls(investor.cancel(ORDER.order_id), [ORDER, ORDER])
    assert (lookup.method, lookup.path) == ("GET", f"/orders/{ORDER.order_id}")
    assert (cancel.method, cancel.path) == ("DELETE", f"/orders/{ORDER.order_id}")
    assert cancel.json["certificate"] == "CERTIFICATE PEM"
    assert _signed_over(key, cancel.json, {"action": "cancel", "account": "10000001",
                                           "order_id": ORDER.order_id})
    assert investor.headers() == {"Authorization": "Bearer t0k3n"}


def test_amend_when_investor_names_account_then_one_call_signed_with_unchanged_price_zero(
        investor: Flows, key: rsa.RSAPrivateKey) -> None:
    (amend,) = _calls(investor.amend(ORDER.order_id, qty=1000, account="10000001"), [ORDER])
    assert (amend.method, amend.json["qty"], "price" in amend.json) == ("PATCH", 1000, False)
    assert _signed_over(key, amend.json, {"action": "amend", "account": "10000001",
                                          "order_id": ORDER.order_id, "qty": 1000, "price": 0})
    assert not _signed_over(key, amend.json, {"action": "amend", "account": "10000002",
                                              "order_id": ORDER.order_id, "qty": 1000,
                                              "price": 0})


def test_place_order_when_investor_then_signed_with_a_fresh_nonce_each_time(
        investor: Flows, key: rsa.RSAPrivateKey) -> None:
    bodies = [_calls(investor.place_order("10000001", "2412", "buy", 1000, 11_500,
                                          client_ref="r1"), [ORDER])[0].json for _ in range(2)]
    fields = {"action": "new", "account": "10000001", "client_ref": "r1", "symbol": "2412",
              "side": 0, "qty": 1000, "price": 11_500, "order_type": 0, "tif": 0,
              "session": "regular", "credit": "cash"}
    assert all(_signed_over(key, body, fields) for body in bodies)
    assert bodies[0]["nonce"] != bodies[1]["nonce"]


def test_cancel_and_amend_when_staff_then_unsigned_and_cancel_has_no_body() -> None:
    staff = Flows("t", None)
    (cancel,) = _calls(staff.cancel(ORDER.order_id), [ORDER])
    (amend,) = _calls(staff.amend(ORDER.order_id, price=11_450), [ORDER])
    assert (cancel.method, cancel.json) == ("DELETE", None)
    assert (amend.method, amend.json) == ("PATCH", {"price": 11_450})


def test_login_and_logout_when_answered_then_token_kept_and_dropped() -> None:
    flows = Flows(None, None)
    assert flows.headers() == {}
    answer = decode(201, b'{"token": "abc", "user_id": "u", "broker": "9A00", '
                         b'"role": "investor", "expires_at": 1}', LoginResult)
    (login,), result = _run(flows.login("u", "pw"), [answer])
    assert (login.method, login.path, login.json) == (
        "POST", "/sessions", {"user_id": "u", "password": "pw"})
    assert result.token == "abc" and flows.headers() == {"Authorization": "Bearer abc"}
    _run(flows.logout(), [None])
    assert flows.token is None


def test_make_signer_when_only_one_file_then_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="both"):
        make_signer(tmp_path / "me.pem", None)


@pytest.mark.parametrize(("content", "code", "message", "field"), [
    (b'{"code": 4208, "message": "replayed", "field": "nonce"}', 4208, "replayed", "nonce"),
    (b"<html>bad gateway</html>", 502, "<html>bad gateway</html>", None),
    (b"[1, 2]", 502, "[1, 2]", None),
    (b"", 502, "", None),
])
def test_decode_when_error_status_then_api_error_with_code(content: bytes, code: int,
                                                           message: str,
                                                           field: str | None) -> None:
    with pytest.raises(ApiError) as refused:
        decode(502 if code == 502 else 403, content, Order)
    assert (refused.value.code, refused.value.message, refused.value.field) == (
        code, message, field)


def test_decode_when_success_then_the_gateway_schema_types() -> None:
    orders = decode(200, b"[" + ORDER.model_dump_json().encode() + b"]", list[Order])
    assert orders == [ORDER] and orders[0].side.name == "BUY"
    assert decode(204, b"", type(None)) is None


def test_sdk_when_imported_then_no_server_code_loaded() -> None:
    """The SDK reuses the gateway's request and response schemas, not its server."""
    probe = ("import sys, brokercloud.client; print(sorted(m for m in sys.modules if m in "
             "{'fastapi', 'starlette', 'uvicorn', 'argon2', 'brokercloud.gateway.app', "
             "'brokercloud.core.sequencer'}))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True, env={**os.environ, "PYTHONPATH": str(SOURCES)})
    assert result.stdout.strip() == "[]"
