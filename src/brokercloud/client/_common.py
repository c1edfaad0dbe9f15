"""What the sync and async clients share: the response types, the error, order bodies (signed
when the client holds an investor's key) and decoding. Neither client does any I/O here, so the
two stay thin wrappers that cannot drift apart."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from brokercloud.core.commands import Credit
from brokercloud.gateway.schemas import OrderRequest
from brokercloud.gateway.signing import load_key, new_nonce, now_ms, sign
from brokercloud.market.orders import OrderType, Side, TimeInForce
from brokercloud.market.sessions import Session

API = "/api/v1"
T = TypeVar("T")


class ApiError(Exception):
    """A refusal by the platform: ``code`` is its stable result code (``brokercloud.codes``),
    the thing to branch on; ``message`` its fixed sentence; ``field`` the offending input."""

    def __init__(self, status: int, code: int, message: str, field: str | None = None) -> None:
        super().__init__(f"{code}: {message}" + (f" ({field})" if field else ""))
        self.status, self.code, self.message, self.field = status, code, message, field


class StreamClosedError(Exception):
    """The server ended the event stream: 1013 means reconnect with ``resume_after`` set to the
    last ``seq`` seen (or reload the orders when it says that is too far behind); 1008 means
    the session is not valid. A normal close (1000) just ends the iteration instead."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"stream closed ({code}): {reason}")
        self.code, self.reason = code, reason


class LoginResult(msgspec.Struct, frozen=True):
    token: str
    user_id: str
    broker: str
    role: str
    expires_at: int


class Order(msgspec.Struct, frozen=True):
    """An order as the platform reports it; prices in NT$0.01, quantities in shares."""

    order_id: str
    client_ref: str
    account: str
    symbol: str
    side: Side
    qty: int
    price: int
    state: str
    cum_qty: int
    leaves: int
    exchange_order_id: int


class Fill(msgspec.Struct, frozen=True):
    order_id: str
    account: str
    exec_id: str
    at: int
    price: int
    qty: int


@dataclass(frozen=True, slots=True)
class Signer:
    """An investor's key and certificate. The key is read once and never sent anywhere; only
    signatures and the certificate leave the client."""

    key_file: Path
    certificate_file: Path

    def sign(self, order: OrderRequest) -> OrderRequest:
        """The order with a fresh timestamp and nonce, signed over exactly what the server
        verifies (``OrderRequest.signed_fields``), so the two can never disagree."""
        stamped = order.model_copy(update={"timestamp": now_ms(), "nonce": new_nonce()})
        signature = sign(load_key(self.key_file), stamped.signed_fields())
        return stamped.model_copy(update={"signature": signature,
                                          "certificate": self.certificate_file.read_text()})


def make_signer(key_file: str | Path | None, certificate_file: str | Path | None
                ) -> Signer | None:
    """A signer when both files are given; one without the other is a mistake worth raising."""
    if key_file is None and certificate_file is None:
        return None
    if key_file is None or certificate_file is None:
        raise ValueError("signing needs both key_file and certificate_file")
    return Signer(Path(key_file), Path(certificate_file))


def new_client_ref() -> str:
    """A unique client reference: the platform treats a repeated one as the same order, so
    retries of one call are safe and two calls never collide."""
    return f"sdk-{secrets.token_hex(12)}"


def order_body(signer: Signer | None, account: str, symbol: str, side: Side | int | str,
               qty: int, price: int, order_type: OrderType, tif: TimeInForce,
               client_ref: str | None, credit: Credit, session: Session) -> dict[str, Any]:
    """The JSON body of ``POST /orders``, signed when there is a signer."""
    if isinstance(side, str):
        side = Side[side.upper()]
    order = OrderRequest(account=account, client_ref=client_ref or new_client_ref(),
                         symbol=symbol, side=Side(side), qty=qty, price=price,
                         order_type=order_type, tif=tif, credit=credit, session=session)
    if signer is not None:
        order = signer.sign(order)
    return order.model_dump(mode="json", exclude_none=True)


def decode(status: int, content: bytes, kind: type[T]) -> T:
    """The body as ``kind``, or the platform's error raised as ``ApiError``."""
    if status >= 400:
        try:
            body = msgspec.json.decode(content) if content else {}
        except msgspec.DecodeError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        raise ApiError(status, int(body.get("code", status)),
                       str(body.get("message", content[:200].decode(errors="replace"))),
                       body.get("field"))
    if kind is type(None):
        return None  # type: ignore[return-value]
    return msgspec.json.decode(content, type=kind)


def stream_url(base_url: str, token: str, resume_after: int | None) -> tuple[str, dict[str, Any]]:
    """The WebSocket address of the event stream and its query (the token travels in the query
    because browsers cannot set headers on a WebSocket)."""
    url = base_url.rstrip("/").replace("http://", "ws://", 1).replace("https://", "wss://", 1)
    params: dict[str, Any] = {"token": token}
    if resume_after is not None:
        params["resume_after"] = resume_after
    return f"{url}{API}/stream", params
