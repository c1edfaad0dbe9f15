"""The Python SDK of the AP server's HTTP API (/api/v1), blocking (``Client``) and asyncio
(``AsyncClient``), and the ``brokercloud`` commands built on it (``commands``).

Investors pass their key and certificate files and every order is signed for them::

    with Client("http://127.0.0.1:8000", key_file="me.pem", certificate_file="me.crt") as api:
        api.login("9a00-investor", password)
        order = api.place_order("10000001", "2330", "buy", 1000, 108500)

Refusals raise ``ApiError`` carrying the platform's result code.
"""

from brokercloud.client._common import (
    ApiError,
    Fill,
    LoginResult,
    Order,
    Position,
    Settlements,
    StreamClosedError,
)
from brokercloud.client.aio import AsyncClient
from brokercloud.client.sync import Client

__all__ = ["ApiError", "AsyncClient", "Client", "Fill", "LoginResult", "Order", "Position",
           "Settlements", "StreamClosedError"]
