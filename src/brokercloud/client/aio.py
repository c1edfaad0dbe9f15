"""The asyncio client: for services and for following the live event stream.

The same methods as ``Client``, awaited; kept a mirror of ``sync`` method for method."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, TypeVar

import httpx2
import msgspec

from brokercloud.client._common import (
    API,
    ApiError,
    Fill,
    LoginResult,
    Order,
    StreamClosedError,
    make_signer,
    order_body,
    stream_url,
)
from brokercloud.client._common import decode as _decode
from brokercloud.core.commands import Credit
from brokercloud.market.orders import OrderType, Side, TimeInForce
from brokercloud.market.sessions import Session

T = TypeVar("T")
NORMAL_CLOSURE = 1000


class AsyncClient:
    """The AP server's API from one user's point of view.

    ``token`` resumes a session saved earlier (the CLI does this); ``key_file`` and
    ``certificate_file`` make every order signed, which investors' orders must be.
    Prices are NT$0.01 integers and quantities shares, exactly as the API takes them.
    """

    def __init__(self, base_url: str, *, token: str | None = None,
                 key_file: str | Path | None = None,
                 certificate_file: str | Path | None = None, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self._signer = make_signer(key_file, certificate_file)
        self._http = httpx2.AsyncClient(base_url=self.base_url, timeout=timeout)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._http.aclose()

    async def _call(self, method: str, path: str, kind: type[T], *, json: Any = None,
              params: dict[str, Any] | None = None) -> T:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        params = {k: v for k, v in (params or {}).items() if v is not None}
        response = await self._http.request(method, API + path, json=json, params=params,
                                      headers=headers)
        return _decode(response.status_code, response.content, kind)

    async def login(self, user_id: str, password: str) -> LoginResult:
        """Log in; later calls carry the session's token."""
        result = await self._call("POST", "/sessions", LoginResult,
                            json={"user_id": user_id, "password": password})
        self.token = result.token
        return result

    async def logout(self) -> None:
        """End the session on the server too, so a leaked token is worthless."""
        await self._call("DELETE", "/sessions", type(None))
        self.token = None

    async def place_order(self, account: str, symbol: str, side: Side | int | str, qty: int,
                    price: int = 0, *, order_type: OrderType = OrderType.LIMIT,
                    tif: TimeInForce = TimeInForce.ROD, client_ref: str | None = None,
                    credit: Credit = Credit.CASH,
                    session: Session = Session.REGULAR) -> Order:
        """Place an order (``qty`` in shares, ``price`` in NT$0.01; 0 for market orders).
        Passing the same ``client_ref`` again returns the first order instead of a second."""
        body = order_body(self._signer, account, symbol, side, qty, price, order_type, tif,
                          client_ref, credit, session)
        return await self._call("POST", "/orders", Order, json=body)

    async def cancel(self, order_id: str) -> Order:
        return await self._call("DELETE", f"/orders/{order_id}", Order)

    async def orders(self, account: str | None = None) -> list[Order]:
        return await self._call("GET", "/orders", list[Order], params={"account": account})

    async def order(self, order_id: str) -> Order:
        return await self._call("GET", f"/orders/{order_id}", Order)

    async def fills(self, account: str | None = None) -> list[Fill]:
        return await self._call("GET", "/fills", list[Fill], params={"account": account})

    async def approvals(self) -> list[Order]:
        """Orders of the caller's broker waiting for a supervisor's decision."""
        return await self._call("GET", "/approvals", list[Order])

    async def decide(self, order_id: str, approve: bool, reason: str = "") -> Order:
        return await self._call("POST", f"/approvals/{order_id}", Order,
                          json={"approve": approve, "reason": reason})

    async def request_certificate(self, account: str, key: Any) -> str:
        """A PEM certificate for ``account`` from a CSR made with ``key`` (an RSA private
        key); only the CSR is sent, the key stays here."""
        from brokercloud.gateway.signing import make_csr  # noqa: PLC0415

        answer = await self._call("POST", "/certificates", dict[str, str],
                            json={"account": account, "csr": make_csr(key, account).decode()})
        return answer["certificate"]

    async def stream(self, resume_after: int | None = None) -> AsyncIterator[dict[str, Any]]:
        """The caller's live events (orders, fills, rejects, approvals) as dicts, each with
        ``seq``; pass the last ``seq`` seen as ``resume_after`` after a reconnect to get what
        was missed. A normal close ends the iteration; any other raises
        ``StreamClosedError`` with the server's close code.

        Iterate it in one task and close it there (``contextlib.aclosing``): the WebSocket
        session runs in an anyio task group, which must be left by the task that entered it.
        Needs ``wsproto`` (``pip install httpx2[ws]``) here, and a WebSocket implementation
        in the server's uvicorn.
        """
        if self.token is None:
            raise ApiError(401, 4004, "Log in first.")
        from httpx2.websockets import WebSocketDisconnect  # noqa: PLC0415 (needs wsproto)

        url, params = stream_url(self.base_url, self.token, resume_after)
        try:
            async with self._http.websocket(url, params=params) as socket:
                while True:
                    try:
                        text = await socket.receive_text()
                    except WebSocketDisconnect as closed:
                        if closed.code == NORMAL_CLOSURE:
                            return
                        raise StreamClosedError(closed.code, closed.reason) from None
                    yield msgspec.json.decode(text)
        except BaseExceptionGroup as group:  # the session's task group wraps what it raises
            if group.subgroup(GeneratorExit) is not None:  # closed early by the caller
                raise GeneratorExit from None
            raise _closed(group) or group from None


def _closed(group: BaseExceptionGroup) -> StreamClosedError | None:
    """The close inside the WebSocket session's exception group, as ``StreamClosedError``."""
    from httpx2.websockets import WebSocketDisconnect  # noqa: PLC0415

    for error in group.exceptions:
        if isinstance(error, StreamClosedError):
            return error
        if isinstance(error, WebSocketDisconnect):
            return StreamClosedError(error.code, error.reason)
        if isinstance(error, BaseExceptionGroup) and (found := _closed(error)) is not None:
            return found
    return None
