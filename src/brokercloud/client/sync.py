"""The blocking client: for scripts, notebooks and the ``brokercloud`` command."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import httpx2

from brokercloud.client._common import (
    API,
    Fill,
    LoginResult,
    Order,
    make_signer,
    order_body,
)
from brokercloud.client._common import decode as _decode
from brokercloud.core.commands import Credit
from brokercloud.market.orders import OrderType, Side, TimeInForce
from brokercloud.market.sessions import Session

T = TypeVar("T")


class Client:
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
        self._http = httpx2.Client(base_url=self.base_url, timeout=timeout)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, kind: type[T], *, json: Any = None,
              params: dict[str, Any] | None = None) -> T:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        params = {k: v for k, v in (params or {}).items() if v is not None}
        response = self._http.request(method, API + path, json=json, params=params,
                                      headers=headers)
        return _decode(response.status_code, response.content, kind)

    def login(self, user_id: str, password: str) -> LoginResult:
        """Log in; later calls carry the session's token."""
        result = self._call("POST", "/sessions", LoginResult,
                            json={"user_id": user_id, "password": password})
        self.token = result.token
        return result

    def logout(self) -> None:
        """End the session on the server too, so a leaked token is worthless."""
        self._call("DELETE", "/sessions", type(None))
        self.token = None

    def place_order(self, account: str, symbol: str, side: Side | int | str, qty: int,
                    price: int = 0, *, order_type: OrderType = OrderType.LIMIT,
                    tif: TimeInForce = TimeInForce.ROD, client_ref: str | None = None,
                    credit: Credit = Credit.CASH,
                    session: Session = Session.REGULAR) -> Order:
        """Place an order (``qty`` in shares, ``price`` in NT$0.01; 0 for market orders).
        Passing the same ``client_ref`` again returns the first order instead of a second."""
        body = order_body(self._signer, account, symbol, side, qty, price, order_type, tif,
                          client_ref, credit, session)
        return self._call("POST", "/orders", Order, json=body)

    def cancel(self, order_id: str) -> Order:
        return self._call("DELETE", f"/orders/{order_id}", Order)

    def orders(self, account: str | None = None) -> list[Order]:
        return self._call("GET", "/orders", list[Order], params={"account": account})

    def order(self, order_id: str) -> Order:
        return self._call("GET", f"/orders/{order_id}", Order)

    def fills(self, account: str | None = None) -> list[Fill]:
        return self._call("GET", "/fills", list[Fill], params={"account": account})

    def approvals(self) -> list[Order]:
        """Orders of the caller's broker waiting for a supervisor's decision."""
        return self._call("GET", "/approvals", list[Order])

    def decide(self, order_id: str, approve: bool, reason: str = "") -> Order:
        return self._call("POST", f"/approvals/{order_id}", Order,
                          json={"approve": approve, "reason": reason})

    def request_certificate(self, account: str, key: Any) -> str:
        """A PEM certificate for ``account`` from a CSR made with ``key`` (an RSA private
        key); only the CSR is sent, the key stays here."""
        from brokercloud.gateway.signing import make_csr  # noqa: PLC0415

        answer = self._call("POST", "/certificates", dict[str, str],
                            json={"account": account, "csr": make_csr(key, account).decode()})
        return answer["certificate"]
