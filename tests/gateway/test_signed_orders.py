"""Investors' orders through the API with a certificate authority: a certificate issued from
the investor's own CSR, orders signed with its key, and each verification failure with its
own code (nothing reaches the core)."""

import datetime
from collections.abc import Iterator
from pathlib import Path

import argon2
import pytest
from fastapi.testclient import TestClient

from brokercloud.codes import Code
from brokercloud.core.sequencer import Core
from brokercloud.gateway.app import create_app
from brokercloud.gateway.certificates import CertificateAuthority
from brokercloud.gateway.identities import IdentityStore
from brokercloud.gateway.signing import generate_key, make_csr, new_nonce, sign

from .test_api import NOW, PASSWORD, USERS, _order, _reference, _token


@pytest.fixture(scope="module")
def key():
    return generate_key()


@pytest.fixture
def api(tmp_path: Path) -> Iterator[TestClient]:
    core = Core(tmp_path / "core", fsync=False)
    core.execute(_reference())
    identities = IdentityStore(tmp_path / "identities.db", hasher=argon2.PasswordHasher(
        time_cost=1, memory_cost=1024, parallelism=1))
    for user in USERS:
        identities.add_user(user, PASSWORD)
    ca = CertificateAuthority.create(tmp_path / "ca", datetime.datetime.fromtimestamp(
        NOW / 1000 - 86_400, datetime.UTC))
    with TestClient(create_app(core, identities, now_ms=lambda: NOW, ca=ca)) as client:
        yield client
    identities.close()
    core.close()


def _certificate(api: TestClient, key, account: str = "11110001") -> str:
    response = api.post("/api/v1/certificates", headers=_token(api, "inv1"),
                        json={"account": account, "csr": make_csr(key, account).decode()})
    assert response.status_code == 201, response.text
    return response.json()["certificate"]


def _signed(key, certificate: str, **changes) -> dict:
    body = {**_order(), "timestamp": NOW, "nonce": new_nonce(), "certificate": certificate}
    body.update(changes)
    fields = {"action": "new", "account": body["account"], "client_ref": body["client_ref"],
              "symbol": body["symbol"], "side": body["side"], "qty": body["qty"],
              "price": body["price"], "order_type": 0, "tif": 0, "session": "regular",
              "credit": "cash", "timestamp": body["timestamp"], "nonce": body["nonce"]}
    return {**body, "signature": sign(key, fields)}


def test_signed_order_when_valid_then_accepted(api, key):
    body = _signed(key, _certificate(api, key))
    response = api.post("/api/v1/orders", json=body, headers=_token(api, "inv1"))
    assert (response.status_code, response.json()["state"]) == (201, "pending_send")


def test_order_when_investor_does_not_sign_then_403_signature_missing(api):
    response = api.post("/api/v1/orders", json=_order(), headers=_token(api, "inv1"))
    assert (response.status_code, response.json()["code"]) == (403, Code.SIGNATURE_MISSING)


def test_order_when_salesperson_enters_it_then_no_signature_needed(api):
    response = api.post("/api/v1/orders", json=_order(), headers=_token(api, "sales1"))
    assert response.status_code == 201


@pytest.mark.parametrize(("tamper", "code"), [
    (lambda body: {**body, "price": body["price"] + 10}, Code.SIGNATURE_INVALID),
    (lambda body: {**body, "timestamp": NOW - 60_000}, Code.SIGNATURE_STALE),
    (lambda body: {**body, "certificate": "-----BEGIN CERTIFICATE-----\nAAAA\n"},
     Code.CERTIFICATE_UNTRUSTED),
])
def test_signed_order_when_altered_then_refused_with_its_code_and_no_order(api, key, tamper,
                                                                            code):
    body = tamper(_signed(key, _certificate(api, key)))
    response = api.post("/api/v1/orders", json=body, headers=_token(api, "inv1"))
    assert (response.status_code, response.json()["code"]) == (403, code)
    assert api.get("/api/v1/orders", headers=_token(api, "inv1")).json() == []


def test_signed_order_when_signed_by_another_key_then_signature_invalid(api, key):
    other = generate_key()
    body = _signed(other, _certificate(api, key))
    response = api.post("/api/v1/orders", json=body, headers=_token(api, "inv1"))
    assert response.json()["code"] == Code.SIGNATURE_INVALID


def test_signed_order_when_replayed_then_nonce_replayed(api, key):
    body = _signed(key, _certificate(api, key))
    headers = _token(api, "inv1")
    assert api.post("/api/v1/orders", json=body, headers=headers).status_code == 201
    again = api.post("/api/v1/orders", json={**body, "client_ref": "r2"} | {
        "signature": body["signature"]}, headers=headers)
    assert again.json()["code"] in (Code.NONCE_REPLAYED, Code.SIGNATURE_INVALID)
    replay = api.post("/api/v1/orders", json=body, headers=headers)
    assert replay.json()["code"] == Code.NONCE_REPLAYED


def test_certificate_when_requested_for_another_account_then_403(api, key):
    response = api.post("/api/v1/certificates", headers=_token(api, "inv1"),
                        json={"account": "11110002",
                              "csr": make_csr(key, "11110002").decode()})
    assert response.status_code == 403


def test_certificate_when_csr_garbage_then_422_csr_invalid(api):
    response = api.post("/api/v1/certificates", headers=_token(api, "inv1"),
                        json={"account": "11110001", "csr": "not a csr"})
    assert (response.status_code, response.json()["code"]) == (422, Code.CSR_INVALID)
