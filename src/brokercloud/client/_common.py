"""Everything the sync and async clients share, without I/O: each API method is a *flow*, a
generator that yields the HTTP calls it needs (``Call``) and receives their decoded answers, so
``Client`` and ``AsyncClient`` only send calls (the sans-IO pattern). What is sent, how it is
signed and how answers are decoded is written once, here; the twins cannot drift apart.

Response types are the gateway's own schemas (``gateway.schemas``, plain pydantic models that
import nothing of the server), so the SDK reads exactly what the API documents.
"""

from __future__ import annotations

import datetime
import functools
import secrets
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import msgspec
from pydantic import BaseModel, TypeAdapter

from brokercloud.core.commands import Credit
from brokercloud.gateway.channel_schemas import AccountView
from brokercloud.gateway.schemas import (
    AmendRequest,
    CancelRequest,
    FillView,
    LoginResponse,
    OrderRequest,
    OrderView,
    PositionView,
    SignedBody,
)
from brokercloud.gateway.settlement_schemas import SettlementsView
from brokercloud.gateway.signing import load_key, make_csr, new_nonce, now_ms, sign
from brokercloud.market.orders import OrderType, Side, TimeInForce
from brokercloud.market.sessions import Session

API = "/api/v1"
T = TypeVar("T")
B = TypeVar("B", bound=SignedBody)
F = TypeVar("F", bound=Callable[..., Any])

Order = OrderView
"""An order as the platform reports it; prices in NT$0.01, quantities in shares."""
Fill = FillView
Position = PositionView
Account = AccountView
"""An account the caller may see: number, branch, name, status, limits and commission."""
"""Today's position in one symbol of one account: depository holding, bought, sold, offered."""
LoginResult = LoginResponse
Settlements = SettlementsView
"""Unsettled net amounts per account and trade date, and their totals per settlement date."""


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


#: Waits before each attempt of a request that is safe to send again, in seconds: a lost
#: answer (the connection dropped after the request left) is retried, and the platform answers
#: a repeat with the first outcome (client order IDs; signed requests' nonces).
RETRY_DELAYS_S = (0.0, 0.2, 0.5, 1.0)


@dataclass(frozen=True, slots=True)
class Call:
    """One HTTP request of a flow; its answer is decoded as ``kind`` and sent into the flow.
    ``repeatable``: the server answers the same request again with the first outcome."""

    method: str
    path: str
    kind: Any
    json: Any = None
    params: dict[str, Any] | None = None
    repeatable: bool = False

    def delays(self) -> tuple[float, ...]:
        """The wait before each attempt: one attempt unless the request is repeatable."""
        return RETRY_DELAYS_S if self.repeatable else (0.0,)

    @property
    def query(self) -> dict[str, Any]:
        """The query parameters that have a value (``None`` means: not filtered)."""
        return {k: v for k, v in (self.params or {}).items() if v is not None}


Flow = Generator[Call, Any, T]


@dataclass(frozen=True, slots=True)
class Signer:
    """An investor's key and certificate. The key is read once per signature and never sent
    anywhere; only signatures and the certificate leave the client."""

    key_file: Path
    certificate_file: Path

    def sign(self, request: B, fields: Callable[[B], dict[str, str | int]]) -> B:
        """``request`` with a fresh timestamp and nonce, signed over ``fields`` of it: the same
        method the server verifies with (``signed_fields``), so the two never disagree."""
        stamped = request.model_copy(update={"timestamp": now_ms(), "nonce": new_nonce()})
        signature = sign(load_key(self.key_file), fields(stamped))
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


def _body(request: BaseModel) -> dict[str, Any] | None:
    """The JSON body of a request; none at all for an empty one (a staff member's cancel)."""
    return request.model_dump(mode="json", exclude_none=True) or None


class Flows:
    """The API from one user's point of view, as flows; holds the session token and the
    investor's signer (``key_file`` and ``certificate_file`` sign every order, cancel and
    amend, which investors' must be). Prices are NT$0.01 integers and quantities shares,
    exactly as the API takes them."""

    def __init__(self, token: str | None, signer: Signer | None) -> None:
        self.token = token
        self._signer = signer

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def login(self, user_id: str, password: str) -> Flow[LoginResult]:
        """Log in; later calls carry the session's token."""
        result = yield Call("POST", "/sessions", LoginResult,
                            json={"user_id": user_id, "password": password})
        self.token = result.token
        return result

    def logout(self) -> Flow[None]:
        """End the session on the server too, so a leaked token is worthless."""
        yield Call("DELETE", "/sessions", type(None))
        self.token = None

    def place_order(self, account: str, symbol: str, side: Side | int | str, qty: int,
                    price: int = 0, *, order_type: OrderType = OrderType.LIMIT,
                    tif: TimeInForce = TimeInForce.ROD, client_ref: str | None = None,
                    credit: Credit = Credit.CASH,
                    session: Session = Session.REGULAR) -> Flow[Order]:
        """Place an order (``qty`` in shares, ``price`` in NT$0.01; 0 for market orders).
        Passing the same ``client_ref`` again returns the first order instead of a second."""
        if isinstance(side, str):
            side = Side[side.upper()]
        order = OrderRequest(account=account, client_ref=client_ref or new_client_ref(),
                             symbol=symbol, side=Side(side), qty=qty, price=price,
                             order_type=order_type, tif=tif, credit=credit, session=session)
        if self._signer is not None:
            order = self._signer.sign(order, OrderRequest.signed_fields)
        return (yield Call("POST", "/orders", Order, json=_body(order), repeatable=True))

    def cancel(self, order_id: str, *, account: str | None = None) -> Flow[Order]:
        """Ask to cancel an order. An investor's cancel is signed for the order's account:
        passing ``account`` saves looking the order up first."""
        body = yield from self._signed(CancelRequest(), order_id, account)
        return (yield Call("DELETE", f"/orders/{order_id}", Order, json=_body(body),
                           repeatable=self._signer is not None))

    def amend(self, order_id: str, *, qty: int | None = None, price: int | None = None,
              account: str | None = None) -> Flow[Order]:
        """Reduce the quantity to a new total ``qty`` (keeps priority) or change the
        ``price``, never both. Signed like ``cancel``."""
        body = yield from self._signed(AmendRequest(qty=qty, price=price), order_id, account)
        return (yield Call("PATCH", f"/orders/{order_id}", Order, json=_body(body),
                           repeatable=self._signer is not None))

    def _signed(self, request: CancelRequest | AmendRequest, order_id: str,
                account: str | None) -> Flow[CancelRequest | AmendRequest]:
        """``request`` signed for ``order_id`` when there is a signer (staff sign nothing);
        the order's account is looked up when not given."""
        if self._signer is None:
            return request
        if account is None:
            account = (yield Call("GET", f"/orders/{order_id}", Order)).account
        known: str = account
        return self._signer.sign(request, lambda r: r.signed_fields(known, order_id))

    def orders(self, account: str | None = None) -> Flow[list[Order]]:
        return (yield Call("GET", "/orders", list[Order], params={"account": account}))

    def order(self, order_id: str) -> Flow[Order]:
        return (yield Call("GET", f"/orders/{order_id}", Order))

    def fills(self, account: str | None = None) -> Flow[list[Fill]]:
        return (yield Call("GET", "/fills", list[Fill], params={"account": account}))

    def settlements(self, account: str | None = None,
                    settle_date: datetime.date | None = None) -> Flow[Settlements]:
        """Unsettled net amounts (whole NT$: > 0 the broker pays the investor on the
        settlement date) of the accounts the caller may see, optionally one account and one
        settlement date, with their total per settlement date: a salesperson's net
        settlement across its customers."""
        return (yield Call("GET", "/settlements", Settlements,
                           params={"account": account,
                                   "settle_date": settle_date and settle_date.isoformat()}))

    def accounts(self) -> Flow[list[Account]]:
        """The accounts the caller may see: an investor's own, a salesperson's customers'."""
        return (yield Call("GET", "/accounts", list[Account]))

    def positions(self, account: str | None = None) -> Flow[list[Position]]:
        return (yield Call("GET", "/positions", list[Position], params={"account": account}))

    def approvals(self) -> Flow[list[Order]]:
        """Orders of the caller's broker waiting for a supervisor's decision."""
        return (yield Call("GET", "/approvals", list[Order]))

    def decide(self, order_id: str, approve: bool, reason: str = "") -> Flow[Order]:
        return (yield Call("POST", f"/approvals/{order_id}", Order,
                           json={"approve": approve, "reason": reason}))

    def request_certificate(self, account: str, key: Any) -> Flow[str]:
        """A PEM certificate for ``account`` from a CSR made with ``key`` (an RSA private
        key); only the CSR is sent, the key stays here."""
        answer = yield Call("POST", "/certificates", dict[str, str],
                            json={"account": account, "csr": make_csr(key, account).decode()})
        return answer["certificate"]


class ClientBase:
    """What the blocking and the asyncio client share: the server's address and the flows
    (session token, signer). Each adds its own HTTP transport."""

    def __init__(self, base_url: str, token: str | None, key_file: str | Path | None,
                 certificate_file: str | Path | None) -> None:
        self.base_url = base_url.rstrip("/")
        self._flows = Flows(token, make_signer(key_file, certificate_file))

    @property
    def token(self) -> str | None:
        return self._flows.token


@functools.cache
def _adapter(kind: Any) -> TypeAdapter[Any]:
    return TypeAdapter(kind)


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
    return _adapter(kind).validate_json(content)


def documented(flow: Callable[..., Any]) -> Callable[[F], F]:
    """Give a client method the docstring of the flow it runs (written once, in ``Flows``)."""
    def decorate(method: F) -> F:
        method.__doc__ = flow.__doc__
        return method
    return decorate


def stream_url(base_url: str, token: str, resume_after: int | None) -> tuple[str, dict[str, Any]]:
    """The WebSocket address of the event stream and its query (the token travels in the query
    because browsers cannot set headers on a WebSocket)."""
    url = base_url.rstrip("/").replace("http://", "ws://", 1).replace("https://", "wss://", 1)
    params: dict[str, Any] = {"token": token}
    if resume_after is not None:
        params["resume_after"] = resume_after
    return f"{url}{API}/stream", params
