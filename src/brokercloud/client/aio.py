"""The asyncio client: for services and for following the live event stream.

The same methods as ``Client``, awaited: each runs the flow of the same name in
``_common.Flows`` (documented there), which builds and signs the requests; this class only
sends them."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, TypeVar

import httpx2

from brokercloud.client._common import (
    API,
    Account,
    ApiError,
    Call,
    ClientBase,
    Fill,
    Flow,
    Flows,
    LoginResult,
    Order,
    Position,
    Settlements,
    StreamClosedError,
    decode,
    documented,
    stream_url,
)
from brokercloud.core.commands import Credit
from brokercloud.gateway.stream import events_of
from brokercloud.market.orders import OrderType, Side, TimeInForce
from brokercloud.market.sessions import Session

T = TypeVar("T")
NORMAL_CLOSURE = 1000


class AsyncClient(ClientBase):
    """The AP server's API from one user's point of view (see ``Flows``).

    ``token`` resumes a session saved earlier (the CLI does this); ``key_file`` and
    ``certificate_file`` make every order, cancel and amend signed, which investors' must be.
    """

    def __init__(self, base_url: str, *, token: str | None = None,
                 key_file: str | Path | None = None,
                 certificate_file: str | Path | None = None, timeout: float = 10.0) -> None:
        super().__init__(base_url, token, key_file, certificate_file)
        self._http = httpx2.AsyncClient(base_url=self.base_url, timeout=timeout)

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._http.aclose()

    async def _send(self, call: Call) -> Any:
        *retries, last = call.delays()
        for delay in retries:
            await asyncio.sleep(delay)
            with contextlib.suppress(httpx2.TransportError):  # the answer was lost: again
                return await self._answer(call)
        await asyncio.sleep(last)
        return await self._answer(call)

    async def _answer(self, call: Call) -> Any:
        response = await self._http.request(call.method, API + call.path, json=call.json,
                                            params=call.query, headers=self._flows.headers())
        return decode(response.status_code, response.content, call.kind)

    async def _run(self, flow: Flow[T]) -> T:
        call = next(flow)
        while True:
            try:
                call = flow.send(await self._send(call))
            except StopIteration as done:
                return done.value

    @documented(Flows.login)
    async def login(self, user_id: str, password: str) -> LoginResult:
        return await self._run(self._flows.login(user_id, password))

    @documented(Flows.logout)
    async def logout(self) -> None:
        return await self._run(self._flows.logout())

    @documented(Flows.place_order)
    async def place_order(self, account: str, symbol: str, side: Side | int | str, qty: int,
                          price: int = 0, *, order_type: OrderType = OrderType.LIMIT,
                          tif: TimeInForce = TimeInForce.ROD, client_ref: str | None = None,
                          credit: Credit = Credit.CASH,
                          session: Session = Session.REGULAR) -> Order:
        return await self._run(self._flows.place_order(
            account, symbol, side, qty, price, order_type=order_type, tif=tif,
            client_ref=client_ref, credit=credit, session=session))

    @documented(Flows.cancel)
    async def cancel(self, order_id: str, *, account: str | None = None) -> Order:
        return await self._run(self._flows.cancel(order_id, account=account))

    @documented(Flows.amend)
    async def amend(self, order_id: str, *, qty: int | None = None,
                    price: int | None = None, account: str | None = None) -> Order:
        return await self._run(self._flows.amend(order_id, qty=qty, price=price, account=account))

    async def orders(self, account: str | None = None) -> list[Order]:
        return await self._run(self._flows.orders(account))

    async def order(self, order_id: str) -> Order:
        return await self._run(self._flows.order(order_id))

    async def fills(self, account: str | None = None) -> list[Fill]:
        return await self._run(self._flows.fills(account))

    @documented(Flows.settlements)
    async def settlements(self, account: str | None = None,
                          settle_date: datetime.date | None = None) -> Settlements:
        return await self._run(self._flows.settlements(account, settle_date))

    @documented(Flows.accounts)
    async def accounts(self) -> list[Account]:
        return await self._run(self._flows.accounts())

    async def positions(self, account: str | None = None) -> list[Position]:
        return await self._run(self._flows.positions(account))

    @documented(Flows.approvals)
    async def approvals(self) -> list[Order]:
        return await self._run(self._flows.approvals())

    async def decide(self, order_id: str, approve: bool, reason: str = "") -> Order:
        return await self._run(self._flows.decide(order_id, approve, reason))

    @documented(Flows.request_certificate)
    async def request_certificate(self, account: str, key: Any) -> str:
        return await self._run(self._flows.request_certificate(account, key))

    async def stream(self, resume_after: int | None = None) -> AsyncIterator[dict[str, Any]]:
        """The caller's live events (orders, fills, rejects, approvals) as dicts, each with
        ``seq``; pass the last ``seq`` seen as ``resume_after`` after a reconnect to get what
        was missed. Net amounts (``{"type": "NetAmount"}``, investors, salespeople,
        supervisors, administrators) carry no ``seq``: each is the account's current net for
        its trade date, and a resumed session gets the current ones first. A normal close
        ends the iteration; any other raises ``StreamClosedError`` with the server's close
        code.

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
                    for event in events_of(text):
                        yield event
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
