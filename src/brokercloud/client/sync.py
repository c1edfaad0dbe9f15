"""The blocking client: for scripts, notebooks and the ``brokercloud`` command.

Each method runs the flow of the same name in ``_common.Flows`` (documented there), which
builds and signs the requests; this class only sends them."""

from __future__ import annotations

import contextlib
import datetime
import time
from pathlib import Path
from typing import Any, TypeVar

import httpx2

from brokercloud.client._common import (
    API,
    Account,
    Call,
    ClientBase,
    Fill,
    Flow,
    Flows,
    LoginResult,
    Order,
    Position,
    Settlements,
    decode,
    documented,
)
from brokercloud.core.commands import Credit
from brokercloud.market.orders import OrderType, Side, TimeInForce
from brokercloud.market.sessions import Session

T = TypeVar("T")


class Client(ClientBase):
    """The AP server's API from one user's point of view (see ``Flows``).

    ``token`` resumes a session saved earlier (the CLI does this); ``key_file`` and
    ``certificate_file`` make every order, cancel and amend signed, which investors' must be.
    """

    def __init__(self, base_url: str, *, token: str | None = None,
                 key_file: str | Path | None = None,
                 certificate_file: str | Path | None = None, timeout: float = 10.0) -> None:
        super().__init__(base_url, token, key_file, certificate_file)
        self._http = httpx2.Client(base_url=self.base_url, timeout=timeout)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _send(self, call: Call) -> Any:
        *retries, last = call.delays()
        for delay in retries:
            time.sleep(delay)
            with contextlib.suppress(httpx2.TransportError):  # the answer was lost: again
                return self._answer(call)
        time.sleep(last)
        return self._answer(call)

    def _answer(self, call: Call) -> Any:
        response = self._http.request(call.method, API + call.path, json=call.json,
                                      params=call.query, headers=self._flows.headers())
        return decode(response.status_code, response.content, call.kind)

    def _run(self, flow: Flow[T]) -> T:
        call = next(flow)
        while True:
            try:
                call = flow.send(self._send(call))
            except StopIteration as done:
                return done.value

    @documented(Flows.login)
    def login(self, user_id: str, password: str) -> LoginResult:
        return self._run(self._flows.login(user_id, password))

    @documented(Flows.logout)
    def logout(self) -> None:
        return self._run(self._flows.logout())

    @documented(Flows.place_order)
    def place_order(self, account: str, symbol: str, side: Side | int | str, qty: int,
                    price: int = 0, *, order_type: OrderType = OrderType.LIMIT,
                    tif: TimeInForce = TimeInForce.ROD, client_ref: str | None = None,
                    credit: Credit = Credit.CASH,
                    session: Session = Session.REGULAR) -> Order:
        return self._run(self._flows.place_order(
            account, symbol, side, qty, price, order_type=order_type, tif=tif,
            client_ref=client_ref, credit=credit, session=session))

    @documented(Flows.cancel)
    def cancel(self, order_id: str, *, account: str | None = None) -> Order:
        return self._run(self._flows.cancel(order_id, account=account))

    @documented(Flows.amend)
    def amend(self, order_id: str, *, qty: int | None = None, price: int | None = None,
              account: str | None = None) -> Order:
        return self._run(self._flows.amend(order_id, qty=qty, price=price, account=account))

    def orders(self, account: str | None = None) -> list[Order]:
        return self._run(self._flows.orders(account))

    def order(self, order_id: str) -> Order:
        return self._run(self._flows.order(order_id))

    def fills(self, account: str | None = None) -> list[Fill]:
        return self._run(self._flows.fills(account))

    @documented(Flows.settlements)
    def settlements(self, account: str | None = None,
                    settle_date: datetime.date | None = None) -> Settlements:
        return self._run(self._flows.settlements(account, settle_date))

    @documented(Flows.accounts)
    def accounts(self) -> list[Account]:
        return self._run(self._flows.accounts())

    def positions(self, account: str | None = None) -> list[Position]:
        return self._run(self._flows.positions(account))

    @documented(Flows.approvals)
    def approvals(self) -> list[Order]:
        return self._run(self._flows.approvals())

    def decide(self, order_id: str, approve: bool, reason: str = "") -> Order:
        return self._run(self._flows.decide(order_id, approve, reason))

    @documented(Flows.request_certificate)
    def request_certificate(self, account: str, key: Any) -> str:
        return self._run(self._flows.request_certificate(account, key))
