"""The platform's certificate authority and the AP server's check of investors' signed orders.

Binding: a certificate belongs to one account at one broker. The CA writes it as the subject
``O=<broker>, CN=<account>`` for people and as the SAN URI
``urn:brokercloud:account:<broker>:<account>`` for machines; the verifier reads only the URI.
The CA key is EC P-256 (ECDSA-SHA-256): as strong as RSA-3072 and generated in milliseconds;
investors' keys are RSA 2048 to 4096 bits, as the thesis prescribes (the cap keeps one verify
cheap). Signatures: see ``signing``.

``SignatureVerifier.verify`` checks in this order, and the first failure is the code raised:
1. certificate, signature, ``timestamp`` and ``nonce`` present, else SIGNATURE_MISSING;
   fields with no canonical encoding: SIGNATURE_INVALID (they cannot have been signed);
2. the PEM parses, was signed by this CA, is an end-entity RSA certificate with a binding, else
   CERTIFICATE_UNTRUSTED;
3. ``now`` inside its validity, else CERTIFICATE_EXPIRED;
4. not revoked, else CERTIFICATE_REVOKED;
5. bound to the broker and account of the request, else CERTIFICATE_NOT_FOR_ACCOUNT;
6. ``timestamp`` within ``max_skew_ms`` of now either way, else SIGNATURE_STALE;
7. nonce new for this certificate, or recorded for byte-identical canonical fields (a retry),
   else NONCE_REPLAYED;
8. the signature matches the canonical fields, else SIGNATURE_INVALID (wrong key or tampering);
9. the nonce is recorded (``nonces.NonceStore``, atomic across processes: of two racing copies
   one is first; a copy with other content is NONCE_REPLAYED, an identical one a retry).
Cheap checks come first, so a rejected request costs no RSA operation; a nonce is recorded only
after its signature verified, so nobody can burn an investor's nonces with forged requests.

Retries: a client that timed out may send the same signed request again (PSS signatures are
randomised, so a re-signed copy counts too: what must match is the signed content, nonce and
timestamp included). ``verify`` then returns the first request's record, and the AP server
answers with that request's outcome instead of acting twice, as for a repeated client order ID.
"""

from __future__ import annotations

import functools
import hashlib
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import msgspec
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from brokercloud.codes import Code
from brokercloud.gateway import signing
from brokercloud.gateway.nonces import NonceStore, Prior
from brokercloud.gateway.signing import CertificateError

__all__ = ["CertificateAuthority", "CertificateError", "SignatureVerifier", "Verified",
           "account_uri", "serial_of"]

URI_PREFIX = "urn:brokercloud:account:"
KEY_FILE, CERT_FILE, REVOKED_FILE, ISSUED_FILE = (
    "ca-key.pem", "ca-cert.pem", "revoked.json", "issued.jsonl")


def account_uri(broker: str, account: str) -> str:
    """The SAN URI that binds a certificate to ``account`` at ``broker``."""
    for value in (broker, account):
        if not value or not value.isascii() or not value.isalnum():
            raise ValueError(f"{value!r} is not an alphanumeric broker or account code")
    return f"{URI_PREFIX}{broker}:{account}"


def serial_of(certificate_pem: bytes) -> int:
    """The serial number of a certificate: what the operator passes to ``revoke``."""
    return x509.load_pem_x509_certificate(certificate_pem).serial_number


def _key_usage(*enabled: str) -> x509.KeyUsage:
    names = ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
             "key_agreement", "key_cert_sign", "crl_sign", "encipher_only", "decipher_only")
    return x509.KeyUsage(**{name: name in enabled for name in names})


def _write_atomically(path: Path, data: bytes) -> None:
    """Readers see the old file or the new one, never half of one (a crash mid-revocation)."""
    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)


class CertificateAuthority:
    """Issues and revokes investors' certificates; its files live in one directory.

    ``ca-key.pem`` (PKCS#8, owner-only, encrypted if a password is given), ``ca-cert.pem`` (the
    trust anchor handed to clients), ``issued.jsonl`` (one line per certificate: serials stay
    unique and the operator can find what to revoke) and ``revoked.json`` (serial -> time).
    """

    def __init__(self, directory: Path, key: ec.EllipticCurvePrivateKey,
                 certificate: x509.Certificate) -> None:
        self.directory = directory
        self.certificate = certificate
        self._key = key
        self._issued: set[int] = set()
        self._revoked: dict[int, str] = {}
        self._lock = threading.Lock()
        issued = directory / ISSUED_FILE
        if issued.exists():
            lines = issued.read_bytes().splitlines()
            self._issued = {int(msgspec.json.decode(line)["serial"]) for line in lines if line}
        self.reload_revocations()

    @classmethod
    def create(cls, directory: Path, now: datetime, *, password: bytes | None = None,
               years: int = 10) -> CertificateAuthority:
        """A new CA with a self-signed certificate; refuses to overwrite an existing one."""
        directory.mkdir(parents=True, exist_ok=True)
        if (directory / KEY_FILE).exists() or (directory / CERT_FILE).exists():
            raise FileExistsError(f"{directory} already holds a certificate authority")
        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "brokercloud"),
                          x509.NameAttribute(NameOID.COMMON_NAME, "brokercloud investor CA")])
        certificate = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + timedelta(days=365 * years))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_key_usage("key_cert_sign", "crl_sign"), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .sign(key, hashes.SHA256()))
        signing.save_key(key, directory / KEY_FILE, password)
        _write_atomically(directory / CERT_FILE,
                          certificate.public_bytes(serialization.Encoding.PEM))
        return cls(directory, key, certificate)

    @classmethod
    def load(cls, directory: Path, *, password: bytes | None = None) -> CertificateAuthority:
        """The CA persisted in ``directory`` by ``create``, with its issued and revoked lists."""
        key = serialization.load_pem_private_key((directory / KEY_FILE).read_bytes(), password)
        certificate = x509.load_pem_x509_certificate((directory / CERT_FILE).read_bytes())
        if not isinstance(key, ec.EllipticCurvePrivateKey) or (
                key.public_key() != certificate.public_key()):
            raise ValueError(f"the key in {directory} does not belong to its CA certificate")
        return cls(directory, key, certificate)

    @property
    def certificate_pem(self) -> bytes:
        """The trust anchor, PEM."""
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def issue(self, csr_pem: bytes, *, broker: str, account: str, now: datetime,
              days: int = 365) -> bytes:
        """A PEM certificate for the CSR's key, bound to ``account`` at ``broker``.

        Only the CSR's public key is used (after checking the CSR's own signature proves the
        requester holds the private key); the binding comes from the caller, who knows who is
        logged in. Validity never outlasts the CA's own.
        """
        uri = account_uri(broker, account)
        public_key = signing.csr_public_key(csr_pem)
        not_after = min(now + timedelta(days=days), self.certificate.not_valid_after_utc)
        if days <= 0 or not_after <= now:
            raise ValueError("the certificate would never be valid")
        subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, broker),
                             x509.NameAttribute(NameOID.COMMON_NAME, account)])
        with self._lock:
            serial = x509.random_serial_number()
            while serial in self._issued:
                serial = x509.random_serial_number()
            certificate = (
                x509.CertificateBuilder().subject_name(subject)
                .issuer_name(self.certificate.subject).public_key(public_key)
                .serial_number(serial).not_valid_before(now).not_valid_after(not_after)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(_key_usage("digital_signature", "content_commitment"), True)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), False)
                .add_extension(x509.SubjectAlternativeName(
                    [x509.UniformResourceIdentifier(uri)]), critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                    self._key.public_key()), critical=False)
                .sign(self._key, hashes.SHA256()))
            record = {"serial": str(serial), "broker": broker, "account": account,
                      "not_after": not_after.isoformat()}
            with (self.directory / ISSUED_FILE).open("ab") as log:
                log.write(msgspec.json.encode(record) + b"\n")
            self._issued.add(serial)
        return certificate.public_bytes(serialization.Encoding.PEM)

    def revoke(self, serial: int, now: datetime) -> None:
        """Revoke a certificate this CA issued, persisted before returning."""
        with self._lock:
            if serial not in self._issued:
                raise ValueError(f"this CA issued no certificate with serial {serial}")
            self._revoked.setdefault(serial, now.isoformat())
            data = {str(number): when for number, when in self._revoked.items()}
            _write_atomically(self.directory / REVOKED_FILE, msgspec.json.encode(data))

    def is_revoked(self, serial: int) -> bool:
        """Whether ``serial`` is on the revocation list (a set lookup: on every verify)."""
        return serial in self._revoked

    def reload_revocations(self) -> None:
        """Re-read the revocation list: how a revocation by another process reaches this one."""
        path = self.directory / REVOKED_FILE
        data = msgspec.json.decode(path.read_bytes()) if path.exists() else {}
        self._revoked = {int(number): when for number, when in data.items()}


@dataclass(frozen=True, slots=True)
class _Trusted:
    """What the verifier needs from a certificate that chains to the CA; cached by PEM."""

    serial: int
    not_before_ms: int
    not_after_ms: int
    uri: str
    public_key: rsa.RSAPublicKey


@dataclass(frozen=True, slots=True)
class Verified:
    """A signed request that passed every check. ``prior`` is ``None`` for the first request
    with its nonce, which must then be ``settle``d; otherwise the request is a retry of the
    recorded one, to be answered with its outcome."""

    serial: int
    nonce: str
    prior: Prior | None


class SignatureVerifier:
    """The AP server's check of a signed order action (order of checks: module docstring).

    ``nonces`` is the store shared by every AP process of the platform; the verifier prunes it
    by its freshness window."""

    def __init__(self, ca: CertificateAuthority, nonces: NonceStore, *,
                 max_skew_ms: int = 30_000, clock: Callable[[], int] = signing.now_ms,
                 cache_size: int = 4096) -> None:
        self._ca = ca
        self._ca_certificate = ca.certificate
        self._max_skew_ms = max_skew_ms
        self._clock = clock
        self._nonces = nonces
        # Exceptions are not cached: garbage never evicts a good certificate.
        self._parse = functools.lru_cache(maxsize=cache_size)(self._parse_trusted)

    def cache_info(self) -> functools._CacheInfo:
        """Hits and misses of the parsed-certificate cache, for metrics and tests."""
        return self._parse.cache_info()

    def verify(self, certificate_pem: bytes | str | None, signature_b64: str | None,
               fields: Mapping[str, str | int], *, broker: str, account: str,
               now_ms: int | None = None) -> Verified:
        """The record of an order action signed by ``account``'s valid certificate, else raise
        ``CertificateError`` with the code of the first failed check; ``now_ms`` defaults to
        the clock."""
        if not isinstance(fields, Mapping) or not certificate_pem or not signature_b64 or (
                fields.get("timestamp") is None or fields.get("nonce") is None):
            raise CertificateError(Code.SIGNATURE_MISSING, "certificate, signature, timestamp "
                                   "and nonce are all required")
        try:
            message = signing.canonical(fields)
        except ValueError as error:
            raise CertificateError(Code.SIGNATURE_INVALID, str(error)) from None
        now = self._clock() if now_ms is None else now_ms
        pem = (certificate_pem.encode("ascii", "replace") if isinstance(certificate_pem, str)
               else certificate_pem)  # a non-ASCII character becomes "?": never valid PEM
        if not isinstance(pem, bytes):
            raise CertificateError(Code.CERTIFICATE_UNTRUSTED, "the certificate is not PEM text")
        trusted = self._parse(pem)
        if not trusted.not_before_ms <= now <= trusted.not_after_ms:
            raise CertificateError(Code.CERTIFICATE_EXPIRED, f"{trusted.not_before_ms}"
                                   f" to {trusted.not_after_ms}")
        if self._ca.is_revoked(trusted.serial):
            raise CertificateError(Code.CERTIFICATE_REVOKED, f"serial {trusted.serial}")
        if trusted.uri != f"{URI_PREFIX}{broker}:{account}":
            raise CertificateError(Code.CERTIFICATE_NOT_FOR_ACCOUNT, trusted.uri)
        timestamp, nonce = int(fields["timestamp"]), str(fields["nonce"])  # checked above
        if abs(now - timestamp) > self._max_skew_ms:
            raise CertificateError(Code.SIGNATURE_STALE, f"{now - timestamp} ms old")
        self._nonces.prune(now - 2 * self._max_skew_ms)
        digest = hashlib.sha256(message).digest()
        prior = self._nonces.prior(trusted.serial, nonce)
        if prior is not None and prior.digest != digest:
            raise CertificateError(Code.NONCE_REPLAYED)
        if not signing.verify_signature(trusted.public_key, signature_b64, message):
            raise CertificateError(Code.SIGNATURE_INVALID)
        if prior is None:
            prior = self._nonces.claim(trusted.serial, nonce, digest, timestamp)
            if prior is not None and prior.digest != digest:  # a racing copy, other content
                raise CertificateError(Code.NONCE_REPLAYED)
        return Verified(trusted.serial, nonce, prior)

    def settle(self, verified: Verified, *, order_id: str | None = None,
               code: int | None = None) -> None:
        """Record the outcome of a first request, so its retries get the same answer."""
        self._nonces.settle(verified.serial, verified.nonce, order_id=order_id, code=code)

    def _parse_trusted(self, pem: bytes) -> _Trusted:
        try:
            certificate = x509.load_pem_x509_certificate(pem)
            certificate.verify_directly_issued_by(self._ca_certificate)
            extensions = certificate.extensions
            end_entity = not extensions.get_extension_for_class(x509.BasicConstraints).value.ca
            uris = extensions.get_extension_for_class(x509.SubjectAlternativeName).value \
                .get_values_for_type(x509.UniformResourceIdentifier)
            public_key = certificate.public_key()
        except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm,
                x509.ExtensionNotFound, x509.DuplicateExtension) as error:
            raise CertificateError(Code.CERTIFICATE_UNTRUSTED, repr(error)) from None
        bindings = [uri for uri in uris if uri.startswith(URI_PREFIX)]
        if not end_entity or len(bindings) != 1 or not isinstance(public_key, rsa.RSAPublicKey) \
                or not signing.MIN_KEY_BITS <= public_key.key_size <= signing.MAX_KEY_BITS:
            raise CertificateError(Code.CERTIFICATE_UNTRUSTED, "not an investor certificate")
        return _Trusted(certificate.serial_number,
                        int(certificate.not_valid_before_utc.timestamp() * 1000),
                        int(certificate.not_valid_after_utc.timestamp() * 1000),
                        bindings[0], public_key)
