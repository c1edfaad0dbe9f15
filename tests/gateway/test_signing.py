"""The investor's side of signed orders: canonical bytes, signatures, key files, nonces."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from brokercloud.gateway.signing import (
    canonical,
    generate_key,
    load_key,
    make_csr,
    new_nonce,
    now_ms,
    save_key,
    sign,
    verify_signature,
)

SAMPLE: dict[str, str | int] = {
    "action": "new", "account": "12345678", "symbol": "2330", "side": "buy", "price": "76.2",
    "quantity": 10_000, "timestamp": 1_764_032_400_000, "nonce": "q3v9Xk2bT0mW8sYp1aLz4g"}


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return generate_key()


def test_canonical_when_sample_order_then_exact_bytes() -> None:
    assert canonical(SAMPLE) == (
        b'{"account":"12345678","action":"new","nonce":"q3v9Xk2bT0mW8sYp1aLz4g","price":"76.2",'
        b'"quantity":10000,"side":"buy","symbol":"2330","timestamp":1764032400000}')


def test_canonical_when_fields_in_another_order_then_same_bytes() -> None:
    reversed_fields = dict(reversed(list(SAMPLE.items())))
    assert list(reversed_fields) != list(SAMPLE)
    assert canonical(reversed_fields) == canonical(SAMPLE)


def test_canonical_when_text_needs_escaping_then_json_stringify_form() -> None:
    """Quotes, backslashes and control characters escaped, everything else UTF-8 as is."""
    fields = {**SAMPLE, "note": 'a"b\\c\n\x01臺積電'}
    assert b'"note":"a\\"b\\\\c\\n\\u0001\xe8\x87\xba\xe7\xa9\x8d\xe9\x9b\xbb"' in canonical(fields)


@pytest.mark.parametrize("change", [
    {"price": 76.2}, {"quantity": True}, {"price": None}, {"legs": ["a"]}, {"Price": "1"},
    {"ü": "1"}, {"": "1"}, {"quantity": 2**53}, {"action": "buy"}, {"timestamp": "1"},
    {"timestamp": -1}, {"nonce": ""}, {"nonce": "n" * 65}, {"nonce": 7}])
def test_canonical_when_field_has_no_single_encoding_then_value_error(change: dict) -> None:
    with pytest.raises(ValueError):
        canonical({**SAMPLE, **change})


@pytest.mark.parametrize("missing", ["action", "timestamp", "nonce"])
def test_canonical_when_envelope_field_missing_then_value_error(missing: str) -> None:
    fields = dict(SAMPLE)
    del fields[missing]
    with pytest.raises(ValueError, match=missing):
        canonical(fields)


def test_sign_when_verified_with_the_public_key_then_valid_and_garbage_is_false(
        key: rsa.RSAPrivateKey) -> None:
    first, second = sign(key, SAMPLE), sign(key, SAMPLE)
    assert first != second  # PSS signatures are randomised (salt)
    for signature in (first, second):
        assert verify_signature(key.public_key(), signature, canonical(SAMPLE))
    assert len(first) == 344  # 256 bytes of RSA-2048 in base64
    assert not verify_signature(key.public_key(), first, canonical({**SAMPLE, "price": "77"}))
    for garbage in ("", "!!", "AAAA", first[:-4], first + "AAAA"):
        assert not verify_signature(key.public_key(), garbage, canonical(SAMPLE))


def test_save_key_when_password_given_then_encrypted_and_owner_only(
        tmp_path: Path, key: rsa.RSAPrivateKey) -> None:
    plain, locked = tmp_path / "plain.pem", tmp_path / "locked.pem"
    save_key(key, plain)
    save_key(key, locked, password=b"investor password")
    assert b"ENCRYPTED" not in plain.read_bytes()
    assert b"ENCRYPTED PRIVATE KEY" in locked.read_bytes()
    for path in (plain, locked):
        assert path.stat().st_mode & 0o777 == 0o600
    assert load_key(plain).private_numbers() == key.private_numbers()
    assert load_key(locked, b"investor password").private_numbers() == key.private_numbers()
    with pytest.raises(ValueError):
        load_key(locked, b"wrong")
    with pytest.raises(TypeError):
        load_key(locked)


def test_make_csr_when_account_given_then_signed_request_naming_it(
        key: rsa.RSAPrivateKey) -> None:
    csr = x509.load_pem_x509_csr(make_csr(key, "12345678"))
    assert csr.is_signature_valid
    assert csr.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "12345678"
    assert csr.public_key() == key.public_key()


def test_new_nonce_and_now_ms_when_called_then_fresh_values() -> None:
    assert len({new_nonce() for _ in range(1000)}) == 1000
    assert abs(now_ms() - time.time() * 1000) < 1000
