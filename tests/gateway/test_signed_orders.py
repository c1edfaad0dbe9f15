"""Investors' orders, cancels and amends through the API with a certificate authority: a
certificate issued from the investor's own CSR, every action signed with its key, each
verification failure with its own code (nothing reaches the core), retries answered with the
first request's outcome, and replays refused across a restart (nonces in SQLite)."""

import contextlib
import datetime
import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path

import argon2
import httpx2
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from brokercloud.codes import Code
from brokercloud.core import commands as c
from brokercloud.core.commands import Role
from brokercloud.core.sequencer import Core
from brokercloud.gateway.app import create_app
from brokercloud.gateway.certificates import CertificateAuthority, serial_of
from brokercloud.gateway.identities import IdentityStore, User
from brokercloud.gateway.nonces import NonceStore
from brokercloud.gateway.signing import canonical, generate_key, make_csr, new_nonce, sign

from .test_api import NOW, PASSWORD, USERS, _order, _reference, _token

ACCOUNT, SECOND_ACCOUNT = "11110001", "11110002"
#: An investor with two accounts: a certificate for one must not sign for the other.
TWO_ACCOUNTS = User(user_id="inv3", broker="9A00", role=Role.INVESTOR,
                    accounts=(ACCOUNT, SECOND_ACCOUNT))
CA_START = datetime.datetime.fromtimestamp(NOW / 1000 - 30 * 86_400, datetime.UTC)


@pytest.fixture(scope="module")
def key():
    return generate_key()


@pytest.fixture(scope="module")
def other_key():
    return generate_key()


@pytest.fixture
def ca(tmp_path: Path) -> CertificateAuthority:
    return CertificateAuthority.create(tmp_path / "ca", CA_START)


@contextlib.contextmanager
def _running(data: Path, ca: CertificateAuthority) -> Iterator[TestClient]:
    """The AP server on the files in ``data``: a second call on the same directory is a
    restart (the core replays its journal, identities and nonces are where they were)."""
    core = Core(data / "core", fsync=False)
    if not core.state.brokers:
        core.execute(_reference())
    identities = IdentityStore(data / "identities.db", hasher=argon2.PasswordHasher(
        time_cost=1, memory_cost=1024, parallelism=1))
    for user in [*USERS, TWO_ACCOUNTS]:
        if identities.get(user.user_id) is None:
            identities.add_user(user, PASSWORD)
    nonces = NonceStore(data / "nonces.db")
    try:
        with TestClient(create_app(core, identities, now_ms=lambda: NOW, ca=ca,
                                   nonces=nonces)) as client:
            yield client
    finally:
        nonces.close()
        identities.close()
        core.close()


@pytest.fixture
def api(tmp_path: Path, ca: CertificateAuthority) -> Iterator[TestClient]:
    with _running(tmp_path, ca) as client:
        yield client


def _certificate(api: TestClient, key, account: str = ACCOUNT, user: str = "inv1") -> str:
    response = api.post("/api/v1/certificates", headers=_token(api, user),
                        json={"account": account, "csr": make_csr(key, account).decode()})
    assert response.status_code == 201, response.text
    return response.json()["certificate"]


def _order_fields(body: dict) -> dict:
    """What an investor signs for a new order, written out here as a client in another
    language would (not taken from the server's code)."""
    return {"action": "new", "account": body["account"], "client_ref": body["client_ref"],
            "symbol": body["symbol"], "side": body["side"], "qty": body["qty"],
            "price": body["price"], "order_type": 0, "tif": 0, "session": "regular",
            "credit": "cash", "timestamp": body["timestamp"], "nonce": body["nonce"]}


def _signed(key, certificate: str, **changes) -> dict:
    body = {**_order(), "timestamp": NOW, "nonce": new_nonce(), "certificate": certificate}
    body.update(changes)
    return {**body, "signature": sign(key, _order_fields(body))}


def _action_fields(action: str, order_id: str, body: dict, account: str = ACCOUNT) -> dict:
    """What an investor signs for a cancel or an amend (0: quantity or price unchanged)."""
    fields = {"action": action, "account": account, "order_id": order_id,
              "timestamp": body["timestamp"], "nonce": body["nonce"]}
    if action == "amend":
        fields |= {"qty": body.get("qty", 0), "price": body.get("price", 0)}
    return fields


def _signed_action(key, certificate: str, action: str, order_id: str, *,
                   account: str = ACCOUNT, **changes) -> dict:
    body = {"timestamp": NOW, "nonce": new_nonce(), "certificate": certificate}
    if action == "amend":
        body["qty"] = 2000
    body.update(changes)
    return {**body, "signature": sign(key, _action_fields(action, order_id, body, account))}


def _send(api: TestClient, action: str, order_id: str, body: dict | None,
          user: str = "inv1") -> httpx2.Response:
    method = "DELETE" if action == "cancel" else "PATCH"
    return api.request(method, f"/api/v1/orders/{order_id}", json=body,
                       headers=_token(api, user))


def _place(api: TestClient, account: str = ACCOUNT, ref: str = "r1", qty: int = 3000) -> str:
    """An order entered by the salesperson (unsigned), for investors to cancel or amend."""
    response = api.post("/api/v1/orders", json=_order(account, ref, qty=qty),
                        headers=_token(api, "sales1"))
    assert response.status_code == 201, response.text
    return response.json()["order_id"]


def _at_exchange(api: TestClient, order_id: str) -> None:
    """Sent on a line and acknowledged, as the line pool would report it: amendable."""
    submit = api.app.state.gateway.sequencer.submit
    api.portal.call(submit, c.MarkSent(at=NOW, order_id=order_id, line="L1"))
    api.portal.call(submit, c.ExchangeAccepted(at=NOW, order_id=order_id, line="L1",
                                               line_seq=1, exchange_order_id=1))


def _state(api: TestClient, order_id: str) -> tuple[str, int]:
    order = api.get(f"/api/v1/orders/{order_id}", headers=_token(api, "sales1")).json()
    return order["state"], order["qty"]


def _revoked(ca: CertificateAuthority, key) -> str:
    pem = ca.issue(make_csr(key, ACCOUNT), broker="9A00", account=ACCOUNT, now=CA_START)
    ca.revoke(serial_of(pem), CA_START)
    return pem.decode()


def _expired(ca: CertificateAuthority, key) -> str:
    return ca.issue(make_csr(key, ACCOUNT), broker="9A00", account=ACCOUNT, now=CA_START,
                    days=5).decode()


def _foreign(ca: CertificateAuthority, key) -> str:
    """A certificate for the right account and key from another CA: the chain fails."""
    rogue = CertificateAuthority.create(ca.directory.parent / f"rogue-{new_nonce()}", CA_START)
    return rogue.issue(make_csr(key, ACCOUNT), broker="9A00", account=ACCOUNT,
                       now=CA_START).decode()


# -- new orders ---------------------------------------------------------------------------------

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
    (lambda body: {key: value for key, value in body.items() if key != "nonce"},
     Code.SIGNATURE_MISSING),
])
def test_signed_order_when_altered_then_refused_with_its_code_and_no_order(api, key, tamper,
                                                                            code):
    body = tamper(_signed(key, _certificate(api, key)))
    response = api.post("/api/v1/orders", json=body, headers=_token(api, "inv1"))
    assert (response.status_code, response.json()["code"]) == (403, code)
    assert api.get("/api/v1/orders", headers=_token(api, "inv1")).json() == []


def test_signed_order_when_signed_by_another_key_then_signature_invalid(api, key, other_key):
    body = _signed(other_key, _certificate(api, key))
    response = api.post("/api/v1/orders", json=body, headers=_token(api, "inv1"))
    assert response.json()["code"] == Code.SIGNATURE_INVALID


def test_signed_order_when_sent_again_then_the_first_order_never_a_second(api, key):
    body = _signed(key, _certificate(api, key))
    headers = _token(api, "inv1")
    first = api.post("/api/v1/orders", json=body, headers=headers)
    resigned = {**body, "signature": sign(key, _order_fields(body))}  # PSS: other bytes
    for again in (body, resigned):
        retry = api.post("/api/v1/orders", json=again, headers=headers)
        assert (retry.status_code, retry.json()) == (201, first.json())
    assert len(api.get("/api/v1/orders", headers=headers).json()) == 1


def test_signed_order_when_nonce_reused_for_another_order_then_replayed_and_no_order(api, key):
    certificate = _certificate(api, key)
    body = _signed(key, certificate)
    headers = _token(api, "inv1")
    assert api.post("/api/v1/orders", json=body, headers=headers).status_code == 201
    other = _signed(key, certificate, client_ref="r2", nonce=body["nonce"])
    refused = api.post("/api/v1/orders", json=other, headers=headers)
    assert (refused.status_code, refused.json()["code"]) == (403, Code.NONCE_REPLAYED)
    assert [o["client_ref"] for o in api.get("/api/v1/orders", headers=headers).json()] == [
        "r1"]


def test_signed_order_when_first_refused_by_core_then_retry_gets_the_same_refusal(api, key):
    body = _signed(key, _certificate(api, key), symbol="9999")  # not listed
    headers = _token(api, "inv1")
    first = api.post("/api/v1/orders", json=body, headers=headers)
    assert first.status_code == 422
    retry = api.post("/api/v1/orders", json=body, headers=headers)
    assert (retry.status_code, retry.json()) == (422, first.json())


def test_signed_order_when_first_still_unsettled_then_retry_in_progress(api, key, tmp_path):
    """An AP process that recorded the nonce and died before it learned the outcome: the
    retry cannot know whether the order exists, and says so."""
    certificate = _certificate(api, key)
    body = _signed(key, certificate)
    store = NonceStore(tmp_path / "nonces.db")  # the shared file, as a second process
    store.claim(serial_of(certificate.encode()), body["nonce"],
                hashlib.sha256(canonical(_order_fields(body))).digest(), NOW)
    store.close()
    response = api.post("/api/v1/orders", json=body, headers=_token(api, "inv1"))
    assert (response.status_code, response.json()["code"]) == (
        409, Code.SIGNED_REQUEST_IN_PROGRESS)
    assert api.get("/api/v1/orders", headers=_token(api, "inv1")).json() == []


def test_signed_order_when_app_restarted_then_replay_refused_and_retry_answered(
        tmp_path, ca, key):
    with _running(tmp_path, ca) as api:
        certificate = _certificate(api, key)
        body = _signed(key, certificate)
        first = api.post("/api/v1/orders", json=body, headers=_token(api, "inv1")).json()
    with _running(tmp_path, ca) as api:
        headers = _token(api, "inv1")
        replay = _signed(key, certificate, client_ref="r2", nonce=body["nonce"])
        refused = api.post("/api/v1/orders", json=replay, headers=headers)
        assert (refused.status_code, refused.json()["code"]) == (403, Code.NONCE_REPLAYED)
        retry = api.post("/api/v1/orders", json=body, headers=headers)
        assert (retry.status_code, retry.json()["order_id"]) == (201, first["order_id"])
        assert len(api.get("/api/v1/orders", headers=headers).json()) == 1


def test_batches_when_investor_then_refused_so_no_unsigned_path(api):
    headers = _token(api, "inv1")
    assert api.post("/api/v1/orders/batch", json={"orders": [_order()]},
                    headers=headers).status_code == 403
    order_id = _place(api)
    assert api.post("/api/v1/orders/cancel-batch", json={"order_ids": [order_id]},
                    headers=headers).status_code == 403
    assert _state(api, order_id) == ("pending_send", 3000)


@pytest.mark.parametrize(("certificate", "code"), [
    ("expired", Code.CERTIFICATE_EXPIRED), ("revoked", Code.CERTIFICATE_REVOKED),
    ("foreign", Code.CERTIFICATE_UNTRUSTED)])
def test_signed_order_when_certificate_expired_revoked_or_from_another_ca_then_no_order(
        api, ca, key, certificate, code):
    made = {"expired": _expired, "revoked": _revoked, "foreign": _foreign}[certificate]
    response = api.post("/api/v1/orders", json=_signed(key, made(ca, key)),
                        headers=_token(api, "inv1"))
    assert (response.status_code, response.json()["code"]) == (403, code)
    assert api.get("/api/v1/orders", headers=_token(api, "inv1")).json() == []


# -- cancels and amends -------------------------------------------------------------------------

def test_signed_cancel_when_valid_then_cancelled(api, key):
    order_id = _place(api)
    response = _send(api, "cancel", order_id,
                     _signed_action(key, _certificate(api, key), "cancel", order_id))
    assert (response.status_code, response.json()["state"]) == (200, "cancelled")


def test_signed_amend_when_valid_then_sent_to_the_exchange(api, key):
    order_id = _place(api)
    _at_exchange(api, order_id)
    response = _send(api, "amend", order_id,
                     _signed_action(key, _certificate(api, key), "amend", order_id))
    assert response.status_code == 200, response.text
    assert api.app.state.gateway.state.orders[order_id].pending == "amend"


def test_cancel_and_amend_when_staff_then_unsigned_as_before(api):
    amended, cancelled = _place(api, ref="a"), _place(api, ref="c")
    _at_exchange(api, amended)
    assert _send(api, "amend", amended, {"qty": 2000}, user="clerk1").status_code == 200
    response = _send(api, "cancel", cancelled, None, user="sales1")
    assert (response.status_code, response.json()["state"]) == (200, "cancelled")


def _swap(action: str) -> str:
    return "amend" if action == "cancel" else "cancel"


#: (what goes wrong, body for (key, other_key, certificate, ca, action, order_id), code)
FAILURES: list[tuple[str, Callable, Code]] = [
    ("unsigned", lambda k, o, cert, ca, a, i: {"qty": 2000} if a == "amend" else None,
     Code.SIGNATURE_MISSING),
    ("no nonce", lambda k, o, cert, ca, a, i: {
        x: v for x, v in _signed_action(k, cert, a, i).items() if x != "nonce"},
     Code.SIGNATURE_MISSING),
    ("another key", lambda k, o, cert, ca, a, i: _signed_action(o, cert, a, i),
     Code.SIGNATURE_INVALID),
    ("signed for another order", lambda k, o, cert, ca, a, i: _signed_action(
        k, cert, a, "20991231-00000001"), Code.SIGNATURE_INVALID),
    ("signed for another account", lambda k, o, cert, ca, a, i: _signed_action(
        k, cert, a, i, account=SECOND_ACCOUNT), Code.SIGNATURE_INVALID),
    ("signed as the other action", lambda k, o, cert, ca, a, i: {
        **_signed_action(k, cert, a, i),
        "signature": _signed_action(k, cert, _swap(a), i)["signature"]},
     Code.SIGNATURE_INVALID),
    ("field changed after signing", lambda k, o, cert, ca, a, i: {
        **_signed_action(k, cert, a, i), **({"qty": 1000} if a == "amend" else {"nonce": "x"})},
     Code.SIGNATURE_INVALID),
    ("stale", lambda k, o, cert, ca, a, i: _signed_action(k, cert, a, i, timestamp=NOW - 60_001),
     Code.SIGNATURE_STALE),
    ("untrusted", lambda k, o, cert, ca, a, i: _signed_action(
        k, "-----BEGIN CERTIFICATE-----\nAAAA\n", a, i), Code.CERTIFICATE_UNTRUSTED),
    ("another CA", lambda k, o, cert, ca, a, i: _signed_action(k, _foreign(ca, k), a, i),
     Code.CERTIFICATE_UNTRUSTED),
    ("expired", lambda k, o, cert, ca, a, i: _signed_action(k, _expired(ca, k), a, i),
     Code.CERTIFICATE_EXPIRED),
    ("revoked", lambda k, o, cert, ca, a, i: _signed_action(k, _revoked(ca, k), a, i),
     Code.CERTIFICATE_REVOKED),
]


@pytest.mark.parametrize("action", ["cancel", "amend"])
@pytest.mark.parametrize(("failure", "make", "code"), FAILURES, ids=[f[0] for f in FAILURES])
def test_cancel_or_amend_when_signature_fails_then_its_code_and_order_untouched(
        api, ca, key, other_key, action, failure, make, code):
    order_id = _place(api)
    _at_exchange(api, order_id)
    body = make(key, other_key, _certificate(api, key), ca, action, order_id)
    response = _send(api, action, order_id, body)
    assert (response.status_code, response.json()["code"]) == (403, code), failure
    assert _state(api, order_id) == ("acknowledged", 3000)
    assert api.app.state.gateway.state.orders[order_id].pending == ""


@pytest.mark.parametrize("action", ["cancel", "amend"])
def test_cancel_or_amend_when_certificate_is_for_another_account_then_not_for_account(
        api, key, action):
    order_id = _place(api, account=SECOND_ACCOUNT)
    certificate = _certificate(api, key, ACCOUNT, user="inv3")
    body = _signed_action(key, certificate, action, order_id, account=SECOND_ACCOUNT)
    response = _send(api, action, order_id, body, user="inv3")
    assert (response.status_code, response.json()["code"]) == (
        403, Code.CERTIFICATE_NOT_FOR_ACCOUNT)
    assert _state(api, order_id) == ("pending_send", 3000)


@pytest.mark.parametrize("action", ["cancel", "amend"])
def test_cancel_or_amend_when_nonce_of_another_request_reused_then_replayed(api, key, action):
    certificate = _certificate(api, key)
    placed = _signed(key, certificate)
    assert api.post("/api/v1/orders", json=placed, headers=_token(api, "inv1")).status_code == 201
    order_id = _place(api, ref="r2")
    _at_exchange(api, order_id)
    body = _signed_action(key, certificate, action, order_id, nonce=placed["nonce"])
    response = _send(api, action, order_id, body)
    assert (response.status_code, response.json()["code"]) == (403, Code.NONCE_REPLAYED)
    assert _state(api, order_id) == ("acknowledged", 3000)


@pytest.mark.parametrize("action", ["cancel", "amend"])
def test_cancel_or_amend_when_sent_again_then_first_answer_and_no_second_request(
        api, key, action):
    """Without idempotency the second would be refused by the core (a cancel or an amend is
    already pending): the retry gets the first answer instead, and nothing else happens."""
    order_id = _place(api)
    _at_exchange(api, order_id)
    body = _signed_action(key, _certificate(api, key), action, order_id)
    first = _send(api, action, order_id, body)
    assert first.status_code == 200
    audit = list(api.app.state.gateway.state.orders[order_id].audit)
    retry = _send(api, action, order_id, body)
    assert (retry.status_code, retry.json()) == (200, first.json())
    assert list(api.app.state.gateway.state.orders[order_id].audit) == audit
    unsigned_second = _send(api, action, order_id, {"qty": 2000}, user="clerk1")
    assert unsigned_second.json()["code"] == (  # what a second request would have met
        Code.ORDER_NOT_CANCELLABLE if action == "cancel" else Code.ORDER_NOT_AMENDABLE)


def test_cancel_when_first_refused_then_retry_gets_the_same_refusal(api, key):
    order_id = _place(api)
    assert _send(api, "cancel", order_id, None, user="clerk1").status_code == 200
    body = _signed_action(key, _certificate(api, key), "cancel", order_id)
    first = _send(api, "cancel", order_id, body)
    assert (first.status_code, first.json()["code"]) == (422, Code.ORDER_NOT_CANCELLABLE)
    assert _send(api, "cancel", order_id, body).json() == first.json()


def test_cancel_when_another_brokers_order_then_forbidden_before_any_signature_check(api, key):
    theirs = api.post("/api/v1/orders", json=_order("22220001", "t1"),
                      headers=_token(api, "inv2"))
    assert theirs.status_code == 403  # inv2 (broker 9B00) must sign too: no certificate yet
    order_id = _place(api)
    body = _signed_action(key, _certificate(api, key), "cancel", order_id)
    response = _send(api, "cancel", order_id, body, user="inv2")
    assert (response.status_code, response.json()["code"]) == (403, Code.FORBIDDEN)
    assert _state(api, order_id) == ("pending_send", 3000)


_ANY = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.text(max_size=80),
                st.lists(st.integers(), max_size=2))


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(action=st.sampled_from(["cancel", "amend"]), real_certificate=st.booleans(),
       body=st.fixed_dictionaries({}, optional={
           name: _ANY for name in ("timestamp", "nonce", "signature", "certificate", "qty",
                                   "price")}))
def test_cancel_or_amend_when_body_is_random_then_coded_refusal_never_a_crash(
        api, key, action, real_certificate, body):
    order_id = _place(api, ref=new_nonce()[:20])
    if real_certificate:
        body = {**body, "certificate": _certificate(api, key)}
    response = _send(api, action, order_id, body)
    assert response.status_code in (403, 422), response.text
    assert isinstance(response.json()["code"], int) and response.json()["message"]
    assert _state(api, order_id) == ("pending_send", 3000)


def test_certificate_when_requested_for_another_account_then_403(api, key):
    response = api.post("/api/v1/certificates", headers=_token(api, "inv1"),
                        json={"account": SECOND_ACCOUNT,
                              "csr": make_csr(key, SECOND_ACCOUNT).decode()})
    assert response.status_code == 403


def test_certificate_when_csr_garbage_then_422_csr_invalid(api):
    response = api.post("/api/v1/certificates", headers=_token(api, "inv1"),
                        json={"account": ACCOUNT, "csr": "not a csr"})
    assert (response.status_code, response.json()["code"]) == (422, Code.CSR_INVALID)
