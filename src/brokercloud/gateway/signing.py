"""Signed orders on both sides: keys, certificate requests, canonical bytes and signatures.

The investor's SDK uses ``generate_key``, ``make_csr``, ``save_key``/``load_key``, ``sign``,
``new_nonce`` and ``now_ms``; the AP server uses ``canonical``, ``verify_signature`` and
``csr_public_key`` from ``certificates``, which holds the CA and the certificate checks
(nonces are remembered in ``nonces``). ``CertificateError`` lives here so both modules raise
the same error. The private key never leaves the investor: the platform only sees a CSR, a
certificate and signatures.

Signature scheme: RSASSA-PSS with SHA-256, MGF1-SHA-256 and a 32-byte salt, over the canonical
bytes below, sent as standard base64. PSS rather than PKCS#1 v1.5 because it has a security
proof, and v1.5 verifiers have a history of forgeries through lax parsing. The salt length is
fixed (the digest length, what WebCrypto, Java's ``PSSParameterSpec.PSS_SHA256`` and TLS 1.3
use) so every SDK produces something the server accepts, and the server accepts nothing else.

Canonical encoding: compact JSON, keys sorted, UTF-8 (``msgspec.json`` with ``order="sorted"``).
Values are strings or integers only: prices travel as decimal strings ("76.2") so no float
formatting can differ between the signer and the verifier. Keys are lowercase ASCII names and
integers stay within JavaScript's safe range, so for every accepted input the bytes equal RFC 8785
(JCS) and a browser can produce them with ``JSON.stringify`` over sorted keys.
"""

from __future__ import annotations

import base64
import os
import re
import secrets
import time
from collections.abc import Mapping
from pathlib import Path

import msgspec
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.x509.oid import NameOID

from brokercloud.codes import Code, describe

ACTIONS = frozenset({"new", "cancel", "amend"})
"""The order actions an investor signs."""
MIN_KEY_BITS, MAX_KEY_BITS = 2048, 4096
"""Investor RSA keys: 2048 bits at least; the cap keeps one verify cheap (cost grows ~n²)."""
MAX_NONCE_LENGTH = 64
"""Bounds the server's storage per remembered nonce; 16 random bytes need only 22 characters."""
_SAFE_INTEGER = 2**53 - 1
_KEY = re.compile(r"[a-z][a-z0-9_]*")
_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)


class CertificateError(Exception):
    """A refused CSR or signed order: ``code`` for programs, ``str()`` the fixed sentence."""

    def __init__(self, code: Code, detail: str = "") -> None:
        super().__init__(describe(code))
        self.code = code
        self.detail = detail  # for logs: what exactly was wrong


def generate_key(bits: int = 2048) -> rsa.RSAPrivateKey:
    """A new investor key; RSA because the thesis's certificates are RSA."""
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def make_csr(key: rsa.RSAPrivateKey, account: str) -> bytes:
    """A PEM certificate request for ``account``, signed by ``key`` to prove possession.

    The CA takes only the public key from it: the binding to broker and account is decided by
    the platform from who is logged in, never from what the request claims.
    """
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, account)])
    csr = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.PEM)


def csr_public_key(csr_pem: bytes) -> rsa.RSAPublicKey:
    """The key of a CSR whose own signature verifies and whose RSA key is strong enough.

    Raises ``CertificateError(CSR_INVALID)`` otherwise: the CA's gate on what it certifies.
    """
    try:
        csr = x509.load_pem_x509_csr(csr_pem)
        valid = csr.is_signature_valid
        public_key = csr.public_key()
    except (ValueError, TypeError, UnsupportedAlgorithm) as error:
        raise CertificateError(Code.CSR_INVALID, f"unreadable CSR: {error}") from None
    if not valid:
        raise CertificateError(Code.CSR_INVALID, "the CSR's signature does not verify")
    if not isinstance(public_key, rsa.RSAPublicKey) or not (
            MIN_KEY_BITS <= public_key.key_size <= MAX_KEY_BITS):
        raise CertificateError(
            Code.CSR_INVALID, f"need an RSA key of {MIN_KEY_BITS} to {MAX_KEY_BITS} bits")
    return public_key


def save_key(key: PrivateKeyTypes, path: Path, password: bytes | None = None) -> None:
    """Write the key as PKCS#8 PEM, encrypted when a password is given, readable by owner only.

    The file is created owner-only before any key byte is written, so no window exists in which
    another user could read it.
    """
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password) if password else
        serialization.NoEncryption())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            encryption)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(pem)


def load_key(path: Path, password: bytes | None = None) -> rsa.RSAPrivateKey:
    """Read a key written by ``save_key``; a wrong password raises ``ValueError``."""
    key = serialization.load_pem_private_key(path.read_bytes(), password=password)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError("order-signing keys are RSA keys")
    return key


def now_ms() -> int:
    """The wall clock in milliseconds since the epoch: the ``timestamp`` of a signed action."""
    return time.time_ns() // 1_000_000


def new_nonce() -> str:
    """A fresh nonce: 128 random bits, URL-safe base64 (22 characters)."""
    return secrets.token_urlsafe(16)


def canonical(fields: Mapping[str, str | int]) -> bytes:
    """The exact bytes that are signed: the same fields give the same bytes in any order.

    Raises ``ValueError`` for anything that has no single encoding (a float, a bool, a nested
    value, an odd key) or that lacks ``action``, ``timestamp`` (ms since epoch) or ``nonce``.
    """
    for key, value in fields.items():
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            raise ValueError(f"field name {key!r} is not a lowercase ASCII name")
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise ValueError(f"field {key!r} must be a string or an integer")
        if isinstance(value, int) and not -_SAFE_INTEGER <= value <= _SAFE_INTEGER:
            raise ValueError(f"field {key!r} is outside the safe integer range")
    if fields.get("action") not in ACTIONS:
        raise ValueError(f"action must be one of {sorted(ACTIONS)}")
    timestamp = fields.get("timestamp")
    if not isinstance(timestamp, int) or timestamp < 0:
        raise ValueError("timestamp must be milliseconds since the epoch")
    nonce = fields.get("nonce")
    if not isinstance(nonce, str) or not 0 < len(nonce) <= MAX_NONCE_LENGTH:
        raise ValueError(f"nonce must be a string of 1 to {MAX_NONCE_LENGTH} characters")
    return msgspec.json.encode(dict(fields), order="sorted")


def sign(key: rsa.RSAPrivateKey, fields: Mapping[str, str | int]) -> str:
    """The base64 RSA-PSS-SHA-256 signature of ``canonical(fields)``."""
    return base64.b64encode(key.sign(canonical(fields), _PSS, hashes.SHA256())).decode("ascii")


def verify_signature(public_key: rsa.RSAPublicKey, signature_b64: str, message: bytes) -> bool:
    """Whether ``signature_b64`` is a valid signature of ``message``; garbage is just ``False``."""
    try:
        signature = base64.b64decode(signature_b64, validate=True)
        public_key.verify(signature, message, _PSS, hashes.SHA256())
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True
