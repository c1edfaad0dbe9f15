"""The platform CA and the AP server's check of signed orders, with real RSA-2048 keys.

Keys and the CA are made once per module (RSA key generation dominates the runtime); each test
gets a fresh verifier, so nonces never leak between tests. Every refusal asserts its exact code.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from brokercloud.codes import Code, describe
from brokercloud.gateway.certificates import (
    CertificateAuthority,
    CertificateError,
    SignatureVerifier,
    account_uri,
    serial_of,
)
from brokercloud.gateway.nonces import NonceStore
from brokercloud.gateway.signing import generate_key, make_csr, new_nonce, sign

NOW = datetime(2025, 11, 25, 1, 0, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)
BROKER, ACCOUNT = "9A00", "12345678"
OTHER_BROKER, OTHER_ACCOUNT = "9B00", "99990001"


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> CertificateAuthority:
    return CertificateAuthority.create(tmp_path_factory.mktemp("ca"), NOW - timedelta(days=30))


@pytest.fixture(scope="module")
def shared_nonces(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NonceStore]:
    """For property tests, which take no function-scoped fixtures."""
    store = NonceStore(tmp_path_factory.mktemp("nonces") / "nonces.db")
    yield store
    store.close()


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return generate_key()


@pytest.fixture(scope="module")
def other_key() -> rsa.RSAPrivateKey:
    return generate_key()


@pytest.fixture(scope="module")
def certificate(ca: CertificateAuthority, key: rsa.RSAPrivateKey) -> bytes:
    return ca.issue(make_csr(key, ACCOUNT), broker=BROKER, account=ACCOUNT,
                    now=NOW - timedelta(days=1))


@pytest.fixture
def nonces(tmp_path: Path) -> Iterator[NonceStore]:
    store = NonceStore(tmp_path / "nonces.db")
    yield store
    store.close()


@pytest.fixture
def verifier(ca: CertificateAuthority, nonces: NonceStore) -> SignatureVerifier:
    return SignatureVerifier(ca, nonces, max_skew_ms=30_000, clock=lambda: NOW_MS)


def order(**changes: str | int) -> dict[str, str | int]:
    """A new-order action as the front end signs it (thesis example: margin buy of 2330)."""
    fields: dict[str, str | int] = {
        "action": "new", "account": ACCOUNT, "symbol": "2330", "side": "buy",
        "price": "76.2", "quantity": 10_000, "condition": "margin", "timestamp": NOW_MS,
        "nonce": new_nonce()}
    fields.update(changes)
    return fields


def refusal(call: Callable[[], object]) -> Code:
    """The code a call refuses with; fails the test if it raises anything else or nothing."""
    with pytest.raises(CertificateError) as caught:
        call()
    assert str(caught.value) == describe(caught.value.code)
    return caught.value.code


def test_verify_when_order_signed_by_its_account_then_accepted(
        verifier: SignatureVerifier, key: rsa.RSAPrivateKey, certificate: bytes) -> None:
    for fields in (order(), order(action="cancel", order_id="20251125-00000001"),
                   order(action="amend", order_id="20251125-00000001", price="76.5")):
        verifier.verify(certificate, sign(key, fields), fields, broker=BROKER, account=ACCOUNT,
                        now_ms=NOW_MS)
    fields = order()  # the certificate may arrive as text, and now_ms defaults to the clock
    verifier.verify(certificate.decode(), sign(key, fields), fields, broker=BROKER,
                    account=ACCOUNT)


def test_issue_when_csr_is_good_then_certificate_binds_broker_and_account(
        ca: CertificateAuthority, certificate: bytes) -> None:
    parsed = x509.load_pem_x509_certificate(certificate)
    san = parsed.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.UniformResourceIdentifier) == [
        "urn:brokercloud:account:9A00:12345678"] == [account_uri(BROKER, ACCOUNT)]
    assert parsed.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == BROKER
    assert parsed.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == ACCOUNT
    assert not parsed.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert parsed.issuer == ca.certificate.subject
    assert parsed.not_valid_after_utc - parsed.not_valid_before_utc == timedelta(days=365)


def test_issue_when_many_certificates_then_serials_unique_and_logged(
        ca: CertificateAuthority, other_key: rsa.RSAPrivateKey) -> None:
    csr = make_csr(other_key, OTHER_ACCOUNT)
    serials = {serial_of(ca.issue(csr, broker=OTHER_BROKER, account=OTHER_ACCOUNT, now=NOW))
               for _ in range(5)}
    assert len(serials) == 5
    logged = (ca.directory / "issued.jsonl").read_text()
    assert all(str(serial) in logged for serial in serials)


def test_issue_when_validity_outlasts_ca_then_clamped_to_ca(
        ca: CertificateAuthority, key: rsa.RSAPrivateKey) -> None:
    pem = ca.issue(make_csr(key, ACCOUNT), broker=BROKER, account=ACCOUNT, now=NOW,
                   days=365 * 20)
    assert (x509.load_pem_x509_certificate(pem).not_valid_after_utc
            == ca.certificate.not_valid_after_utc)


def test_issue_when_account_code_is_not_alphanumeric_then_value_error(
        ca: CertificateAuthority, key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(ValueError, match="alphanumeric"):
        ca.issue(make_csr(key, ACCOUNT), broker="9A00:x", account=ACCOUNT, now=NOW)


def test_issue_when_key_is_1024_bits_then_csr_invalid(ca: CertificateAuthority) -> None:
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    csr = make_csr(weak, ACCOUNT)  # type: ignore[arg-type]  # what an old client would send
    assert refusal(lambda: ca.issue(csr, broker=BROKER, account=ACCOUNT, now=NOW)) is (
        Code.CSR_INVALID)


def test_issue_when_csr_is_not_an_rsa_request_or_garbage_then_csr_invalid(
        ca: CertificateAuthority, key: rsa.RSAPrivateKey) -> None:
    ec_key = ec.generate_private_key(ec.SECP256R1())
    ec_csr = (x509.CertificateSigningRequestBuilder()
              .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ACCOUNT)]))
              .sign(ec_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM))
    der = bytearray(x509.load_pem_x509_csr(make_csr(key, ACCOUNT))
                    .public_bytes(serialization.Encoding.DER))
    der[-1] ^= 0x01  # the last byte belongs to the CSR's signature
    forged = x509.load_der_x509_csr(bytes(der)).public_bytes(serialization.Encoding.PEM)
    for csr in (ec_csr, forged, b"", b"not a csr", b"-----BEGIN CERTIFICATE REQUEST-----\n"
                b"AAAA\n-----END CERTIFICATE REQUEST-----\n"):
        assert refusal(lambda csr=csr: ca.issue(csr, broker=BROKER, account=ACCOUNT,
                                                now=NOW)) is Code.CSR_INVALID


@pytest.mark.parametrize("missing", ["certificate", "signature", "timestamp", "nonce"])
def test_verify_when_part_of_signature_missing_then_signature_missing(
        verifier: SignatureVerifier, key: rsa.RSAPrivateKey, certificate: bytes,
        missing: str) -> None:
    fields = order()
    signature = sign(key, fields)
    pem: bytes | None = None if missing == "certificate" else certificate
    if missing == "signature":
        signature = ""
    fields.pop(missing, None)
    assert refusal(lambda: verifier.verify(pem, signature, fields, broker=BROKER,
                                           account=ACCOUNT, now_ms=NOW_MS)) is (
        Code.SIGNATURE_MISSING)


def test_verify_when_signed_with_another_key_then_signature_invalid(
        verifier: SignatureVerifier, other_key: rsa.RSAPrivateKey, certificate: bytes) -> None:
    fields = order()
    assert refusal(lambda: verifier.verify(certificate, sign(other_key, fields), fields,
                                           broker=BROKER, account=ACCOUNT, now_ms=NOW_MS)) is (
        Code.SIGNATURE_INVALID)


@pytest.mark.parametrize("change", [{"price": "76.3"}, {"quantity": 100_000}, {"side": "sell"},
                                    {"action": "cancel"}, {"extra": "x"}])
def test_verify_when_field_changed_after_signing_then_signature_invalid(
        verifier: SignatureVerifier, key: rsa.RSAPrivateKey, certificate: bytes,
        change: dict[str, str | int]) -> None:
    fields = order()
    signature = sign(key, fields)
    tampered = {**fields, **change}
    assert refusal(lambda: verifier.verify(certificate, signature, tampered, broker=BROKER,
                                           account=ACCOUNT, now_ms=NOW_MS)) is (
        Code.SIGNATURE_INVALID)


def test_verify_when_fields_have_no_canonical_form_then_signature_invalid(
        verifier: SignatureVerifier, key: rsa.RSAPrivateKey, certificate: bytes) -> None:
    signature = sign(key, order())
    for bad in (order(price=76.2), order(quantity=True), order(action="buy"),  # type: ignore[arg-type]
                order(timestamp="1764032400000"), order(nonce="n" * 65)):
        assert refusal(lambda bad=bad: verifier.verify(
            certificate, signature, bad, broker=BROKER, account=ACCOUNT, now_ms=NOW_MS)) is (
            Code.SIGNATURE_INVALID)


def test_verify_when_outside_validity_then_certificate_expired(
        ca: CertificateAuthority, verifier: SignatureVerifier, key: rsa.RSAPrivateKey,
        certificate: bytes) -> None:
    old = ca.issue(make_csr(key, ACCOUNT), broker=BROKER, account=ACCOUNT,
                   now=NOW - timedelta(days=10), days=5)
    fields = order()
    assert refusal(lambda: verifier.verify(old, sign(key, fields), fields, broker=BROKER,
                                           account=ACCOUNT, now_ms=NOW_MS)) is (
        Code.CERTIFICATE_EXPIRED)
    later_ms = NOW_MS + 400 * 86_400_000  # the module's certificate is valid 365 days
    fields = order(timestamp=later_ms)
    assert refusal(lambda: verifier.verify(certificate, sign(key, fields), fields,
                                           broker=BROKER, account=ACCOUNT,
                                           now_ms=later_ms)) is Code.CERTIFICATE_EXPIRED
    early_ms = NOW_MS - 2 * 86_400_000  # before it was issued
    fields = order(timestamp=early_ms)
    assert refusal(lambda: verifier.verify(certificate, sign(key, fields), fields,
                                           broker=BROKER, account=ACCOUNT,
                                           now_ms=early_ms)) is Code.CERTIFICATE_EXPIRED


def test_verify_when_revoked_then_certificate_revoked_also_after_reload(
        ca: CertificateAuthority, verifier: SignatureVerifier, nonces: NonceStore,
        key: rsa.RSAPrivateKey) -> None:
    pem = ca.issue(make_csr(key, ACCOUNT), broker=BROKER, account=ACCOUNT, now=NOW)
    fields = order()
    verifier.verify(pem, sign(key, fields), fields, broker=BROKER, account=ACCOUNT,
                    now_ms=NOW_MS)
    ca.revoke(serial_of(pem), NOW)
    fields = order()
    assert refusal(lambda: verifier.verify(pem, sign(key, fields), fields, broker=BROKER,
                                           account=ACCOUNT, now_ms=NOW_MS)) is (
        Code.CERTIFICATE_REVOKED)
    reloaded = CertificateAuthority.load(ca.directory)
    assert reloaded.is_revoked(serial_of(pem))
    fresh = SignatureVerifier(reloaded, nonces, clock=lambda: NOW_MS)
    assert refusal(lambda: fresh.verify(pem, sign(key, fields), fields, broker=BROKER,
                                        account=ACCOUNT)) is Code.CERTIFICATE_REVOKED


def test_revoke_when_serial_unknown_then_value_error(ca: CertificateAuthority) -> None:
    with pytest.raises(ValueError, match="no certificate"):
        ca.revoke(12345, NOW)


@pytest.mark.parametrize(("broker", "account"), [(BROKER, OTHER_ACCOUNT), (OTHER_BROKER, ACCOUNT)])
def test_verify_when_certificate_bound_elsewhere_then_not_for_account(
        verifier: SignatureVerifier, key: rsa.RSAPrivateKey, certificate: bytes, broker: str,
        account: str) -> None:
    fields = order(account=account)
    assert refusal(lambda: verifier.verify(certificate, sign(key, fields), fields, broker=broker,
                                           account=account, now_ms=NOW_MS)) is (
        Code.CERTIFICATE_NOT_FOR_ACCOUNT)


@pytest.mark.parametrize("offset_ms", [-30_001, 30_001, -3_600_000, 86_400_000])
def test_verify_when_timestamp_outside_skew_then_signature_stale(
        verifier: SignatureVerifier, key: rsa.RSAPrivateKey, certificate: bytes,
        offset_ms: int) -> None:
    fields = order(timestamp=NOW_MS + offset_ms)
    assert refusal(lambda: verifier.verify(certificate, sign(key, fields), fields,
                                           broker=BROKER, account=ACCOUNT, now_ms=NOW_MS)) is (
        Code.SIGNATURE_STALE)


@pytest.mark.parametrize("offset_ms", [-30_000, 30_000])
def test_verify_when_timestamp_at_skew_edge_then_accepted(
        verifier: SignatureVerifier, key: rsa.RSAPrivateKey, certificate: bytes,
        offset_ms: int) -> None:
    fields = order(timestamp=NOW_MS + offset_ms)
    verifier.verify(certificate, sign(key, fields), fields, broker=BROKER, account=ACCOUNT,
                    now_ms=NOW_MS)


def test_verify_when_same_request_sent_again_then_retry_of_the_first_until_stale(
        verifier: SignatureVerifier, key: rsa.RSAPrivateKey, certificate: bytes) -> None:
    fields = order()
    signature = sign(key, fields)
    first = verifier.verify(certificate, signature, fields, broker=BROKER, account=ACCOUNT,
                            now_ms=NOW_MS)
    assert first.prior is None
    verifier.settle(first, order_id="20251125-00000001")
    # the same bytes, and a re-signed copy (PSS signatures differ): both retries of the first
    for copy, now_ms in ((signature, NOW_MS), (sign(key, fields), NOW_MS + 30_000)):
        retry = verifier.verify(certificate, copy, fields, broker=BROKER, account=ACCOUNT,
                                now_ms=now_ms)
        assert retry.prior is not None
        assert (retry.prior.order_id, retry.prior.code) == ("20251125-00000001", None)
    assert refusal(lambda: verifier.verify(certificate, signature, fields, broker=BROKER,
                                           account=ACCOUNT, now_ms=NOW_MS + 30_001)) is (
        Code.SIGNATURE_STALE)


def test_verify_when_first_request_not_settled_then_retry_has_no_outcome(
        verifier: SignatureVerifier, key: rsa.RSAPrivateKey, certificate: bytes) -> None:
    fields = order()
    verifier.verify(certificate, sign(key, fields), fields, broker=BROKER, account=ACCOUNT,
                    now_ms=NOW_MS)
    retry = verifier.verify(certificate, sign(key, fields), fields, broker=BROKER,
                            account=ACCOUNT, now_ms=NOW_MS)
    assert retry.prior is not None and (retry.prior.order_id, retry.prior.code) == (None, None)
    verifier.settle(retry, code=int(Code.ORDER_ALREADY_DONE))
    verifier.settle(retry, order_id="20251125-00000009")  # only the first outcome counts
    again = verifier.verify(certificate, sign(key, fields), fields, broker=BROKER,
                            account=ACCOUNT, now_ms=NOW_MS)
    assert again.prior is not None
    assert (again.prior.order_id, again.prior.code) == (None, Code.ORDER_ALREADY_DONE)


@pytest.mark.parametrize("change", [{"price": "76.3"}, {"action": "cancel"},
                                    {"timestamp": NOW_MS + 1}, {"order_id": "x"}])
def test_verify_when_nonce_reused_with_other_content_then_replayed(
        verifier: SignatureVerifier, key: rsa.RSAPrivateKey, certificate: bytes,
        change: dict[str, str | int]) -> None:
    fields = order()
    verifier.verify(certificate, sign(key, fields), fields, broker=BROKER, account=ACCOUNT,
                    now_ms=NOW_MS)
    again = {**fields, **change}
    for signature in (sign(key, again), "garbage"):  # refused before any RSA work
        assert refusal(lambda signature=signature: verifier.verify(
            certificate, signature, again, broker=BROKER, account=ACCOUNT,
            now_ms=NOW_MS)) is Code.NONCE_REPLAYED


def test_verify_when_retry_signed_by_another_key_then_signature_invalid(
        verifier: SignatureVerifier, key: rsa.RSAPrivateKey, other_key: rsa.RSAPrivateKey,
        certificate: bytes) -> None:
    """Knowing what was signed is not enough to get the first request's answer."""
    fields = order()
    verifier.verify(certificate, sign(key, fields), fields, broker=BROKER, account=ACCOUNT,
                    now_ms=NOW_MS)
    assert refusal(lambda: verifier.verify(certificate, sign(other_key, fields), fields,
                                           broker=BROKER, account=ACCOUNT, now_ms=NOW_MS)) is (
        Code.SIGNATURE_INVALID)


def test_verify_when_restarted_or_second_process_on_same_file_then_replay_still_refused(
        tmp_path: Path, ca: CertificateAuthority, key: rsa.RSAPrivateKey,
        certificate: bytes) -> None:
    path = tmp_path / "shared.db"
    first_process, second_process = NonceStore(path), NonceStore(path)
    fields = order()
    first = SignatureVerifier(ca, first_process, clock=lambda: NOW_MS)
    verified = first.verify(certificate, sign(key, fields), fields, broker=BROKER,
                            account=ACCOUNT)
    first.settle(verified, order_id="20251125-00000001")
    first_process.close()
    replayed = {**fields, "price": "80"}
    for store in (second_process, NonceStore(path)):  # running alongside, and a restart
        other = SignatureVerifier(ca, store, clock=lambda: NOW_MS + 1_000)
        assert refusal(lambda other=other: other.verify(
            certificate, sign(key, replayed), replayed, broker=BROKER,
            account=ACCOUNT)) is Code.NONCE_REPLAYED
        retry = other.verify(certificate, sign(key, fields), fields, broker=BROKER,
                             account=ACCOUNT)
        assert retry.prior is not None and retry.prior.order_id == "20251125-00000001"
        store.close()


def test_verify_when_time_passes_then_nonces_older_than_two_windows_are_forgotten(
        verifier: SignatureVerifier, nonces: NonceStore, key: rsa.RSAPrivateKey,
        certificate: bytes) -> None:
    """A steady flow keeps about two windows of nonces: what is pruned could only come back
    as a stale request."""
    for second in range(0, 120, 5):
        now = NOW_MS + second * 1000
        fields = order(timestamp=now)
        verifier.verify(certificate, sign(key, fields), fields, broker=BROKER,
                        account=ACCOUNT, now_ms=now)
        assert len(nonces) <= 2 * 30 // 5 + 2
    assert len(nonces) >= 2 * 30 // 5


def test_verify_when_forged_request_uses_a_nonce_then_the_investor_can_still_use_it(
        verifier: SignatureVerifier, key: rsa.RSAPrivateKey, other_key: rsa.RSAPrivateKey,
        certificate: bytes) -> None:
    fields = order()
    assert refusal(lambda: verifier.verify(certificate, sign(other_key, fields), fields,
                                           broker=BROKER, account=ACCOUNT, now_ms=NOW_MS)) is (
        Code.SIGNATURE_INVALID)
    verifier.verify(certificate, sign(key, fields), fields, broker=BROKER, account=ACCOUNT,
                    now_ms=NOW_MS)


def test_verify_when_same_nonce_under_another_certificate_then_accepted(
        ca: CertificateAuthority, verifier: SignatureVerifier, key: rsa.RSAPrivateKey,
        other_key: rsa.RSAPrivateKey, certificate: bytes) -> None:
    other = ca.issue(make_csr(other_key, OTHER_ACCOUNT), broker=BROKER, account=OTHER_ACCOUNT,
                     now=NOW)
    mine, theirs = order(nonce="n1"), order(nonce="n1", account=OTHER_ACCOUNT)
    verifier.verify(certificate, sign(key, mine), mine, broker=BROKER, account=ACCOUNT,
                    now_ms=NOW_MS)
    verifier.verify(other, sign(other_key, theirs), theirs, broker=BROKER,
                    account=OTHER_ACCOUNT, now_ms=NOW_MS)


def test_verify_when_certificate_from_another_ca_then_untrusted(
        tmp_path: Path, ca: CertificateAuthority, verifier: SignatureVerifier,
        key: rsa.RSAPrivateKey) -> None:
    rogue = CertificateAuthority.create(tmp_path, NOW - timedelta(days=1))
    foreign = rogue.issue(make_csr(key, ACCOUNT), broker=BROKER, account=ACCOUNT, now=NOW)
    # A self-made certificate naming our CA as issuer: the name alone must not be trusted.
    rogue_key = ec.generate_private_key(ec.SECP256R1())
    forged = (x509.CertificateBuilder().subject_name(ca.certificate.subject)
              .issuer_name(ca.certificate.subject).public_key(key.public_key())
              .serial_number(1).not_valid_before(NOW - timedelta(days=1))
              .not_valid_after(NOW + timedelta(days=1))
              .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
              .add_extension(x509.SubjectAlternativeName([x509.UniformResourceIdentifier(
                  account_uri(BROKER, ACCOUNT))]), critical=False)
              .sign(rogue_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM))
    fields = order()
    for pem in (foreign, forged, ca.certificate_pem):  # nor is the CA's own certificate
        assert refusal(lambda pem=pem: verifier.verify(
            pem, sign(key, fields), fields, broker=BROKER, account=ACCOUNT,
            now_ms=NOW_MS)) is Code.CERTIFICATE_UNTRUSTED


@pytest.mark.parametrize("pem", [
    b"garbage", "garbage", b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    "证书", b"\x00\xff" * 100, 12345, ["a"]])
def test_verify_when_certificate_is_garbage_then_untrusted(
        verifier: SignatureVerifier, key: rsa.RSAPrivateKey, pem: object) -> None:
    fields = order()
    assert refusal(lambda: verifier.verify(pem, sign(key, fields), fields,  # type: ignore[arg-type]
                                           broker=BROKER, account=ACCOUNT, now_ms=NOW_MS)) is (
        Code.CERTIFICATE_UNTRUSTED)
    assert verifier.cache_info().currsize == 0  # garbage is never cached


@pytest.mark.parametrize("signature", [
    "!!!", "AAAA", base64.b64encode(b"\x00" * 256).decode(), "签名", "QUJD\n", 42, b"AAAA"])
def test_verify_when_signature_is_garbage_then_signature_invalid(
        verifier: SignatureVerifier, certificate: bytes, signature: object) -> None:
    fields = order()
    assert refusal(lambda: verifier.verify(certificate, signature, fields,  # type: ignore[arg-type]
                                           broker=BROKER, account=ACCOUNT, now_ms=NOW_MS)) is (
        Code.SIGNATURE_INVALID)


@settings(max_examples=200, deadline=None)
@given(pem=st.binary(max_size=2000) | st.text(max_size=2000),
       signature=st.text(max_size=600))
def test_verify_when_inputs_are_random_then_only_certificate_error(
        ca: CertificateAuthority, shared_nonces: NonceStore, pem: bytes | str,
        signature: str) -> None:
    verifier = SignatureVerifier(ca, shared_nonces, clock=lambda: NOW_MS)
    with pytest.raises(CertificateError):
        verifier.verify(pem, signature, order(), broker=BROKER, account=ACCOUNT)


def test_verify_when_several_checks_fail_then_the_first_in_documented_order_wins(
        ca: CertificateAuthority, verifier: SignatureVerifier, key: rsa.RSAPrivateKey,
        other_key: rsa.RSAPrivateKey) -> None:
    revoked = ca.issue(make_csr(key, ACCOUNT), broker=BROKER, account=ACCOUNT,
                       now=NOW - timedelta(days=10), days=5)
    ca.revoke(serial_of(revoked), NOW)
    stale = order(timestamp=NOW_MS - 60_000)
    bad_signature = sign(other_key, stale)

    def code(pem: bytes, broker: str = BROKER, now_ms: int = NOW_MS) -> Code:
        return refusal(lambda: verifier.verify(pem, bad_signature, stale, broker=broker,
                                               account=ACCOUNT, now_ms=now_ms))

    assert code(revoked) is Code.CERTIFICATE_EXPIRED  # expired, revoked, stale, wrong key
    assert code(revoked, now_ms=NOW_MS - 8 * 86_400_000) is Code.CERTIFICATE_REVOKED
    assert code(revoked, OTHER_BROKER, NOW_MS - 8 * 86_400_000) is Code.CERTIFICATE_REVOKED
    good = ca.issue(make_csr(key, ACCOUNT), broker=BROKER, account=ACCOUNT, now=NOW)
    assert code(good, OTHER_BROKER) is Code.CERTIFICATE_NOT_FOR_ACCOUNT
    assert code(good) is Code.SIGNATURE_STALE


def test_verify_when_same_certificate_again_then_parsed_once(
        verifier: SignatureVerifier, key: rsa.RSAPrivateKey, certificate: bytes) -> None:
    for _ in range(3):
        fields = order()
        verifier.verify(certificate, sign(key, fields), fields, broker=BROKER,
                        account=ACCOUNT, now_ms=NOW_MS)
    info = verifier.cache_info()
    assert (info.misses, info.hits, info.currsize) == (1, 2, 1)


def test_load_when_ca_persisted_then_reloaded_ca_verifies_and_issues(
        tmp_path: Path, nonces: NonceStore, key: rsa.RSAPrivateKey) -> None:
    created = CertificateAuthority.create(tmp_path, NOW - timedelta(days=1), password=b"pw")
    pem = created.issue(make_csr(key, ACCOUNT), broker=BROKER, account=ACCOUNT, now=NOW)
    reloaded = CertificateAuthority.load(tmp_path, password=b"pw")
    assert reloaded.certificate == created.certificate
    for issuer in (created, reloaded):
        fields = order()
        SignatureVerifier(issuer, nonces).verify(pem, sign(key, fields), fields, broker=BROKER,
                                         account=ACCOUNT, now_ms=NOW_MS)
    second = reloaded.issue(make_csr(key, ACCOUNT), broker=BROKER, account=ACCOUNT, now=NOW)
    fields = order()
    SignatureVerifier(created, nonces).verify(second, sign(key, fields), fields, broker=BROKER,
                                      account=ACCOUNT, now_ms=NOW_MS)
    assert (tmp_path / "ca-key.pem").stat().st_mode & 0o777 == 0o600
    assert b"ENCRYPTED" in (tmp_path / "ca-key.pem").read_bytes()
    with pytest.raises(FileExistsError):
        CertificateAuthority.create(tmp_path, NOW)
    with pytest.raises(ValueError, match=r"[Pp]assword|decrypt"):
        CertificateAuthority.load(tmp_path, password=b"wrong")


def test_verify_when_ca_signed_certificate_is_not_an_investor_certificate_then_untrusted(
        ca: CertificateAuthority, verifier: SignatureVerifier, key: rsa.RSAPrivateKey) -> None:
    """What the CA never issues (a sub-CA, no binding, two bindings, a non-RSA key) but a
    mistake or a stolen CA key could produce is still refused."""
    ca_key = serialization.load_pem_private_key((ca.directory / "ca-key.pem").read_bytes(), None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    uri = x509.UniformResourceIdentifier(account_uri(BROKER, ACCOUNT))
    other_uri = x509.UniformResourceIdentifier(account_uri(BROKER, OTHER_ACCOUNT))

    def made(*, is_ca: bool = False, uris: tuple[x509.GeneralName, ...] = (uri,),
             public_key: object = None) -> bytes:
        builder = (x509.CertificateBuilder().subject_name(ca.certificate.subject)
                   .issuer_name(ca.certificate.subject)
                   .public_key(public_key or key.public_key())  # type: ignore[arg-type]
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(NOW - timedelta(days=1))
                   .not_valid_after(NOW + timedelta(days=1))
                   .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), True))
        if uris:
            builder = builder.add_extension(x509.SubjectAlternativeName(list(uris)), False)
        return builder.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)

    fields = order()
    signature = sign(key, fields)
    verifier.verify(made(), signature, fields, broker=BROKER, account=ACCOUNT, now_ms=NOW_MS)
    for pem in (made(is_ca=True), made(uris=()), made(uris=(uri, other_uri)),
                made(public_key=ec.generate_private_key(ec.SECP256R1()).public_key())):
        assert refusal(lambda pem=pem: verifier.verify(
            pem, signature, fields, broker=BROKER, account=ACCOUNT, now_ms=NOW_MS)) is (
            Code.CERTIFICATE_UNTRUSTED)
