"""Order entry's hot path: ``POST /api/v1/orders`` answered in front of FastAPI.

Order entry is the AP server's busiest request, and FastAPI's machinery around it (its
middleware layers, matching the path against every route, solving the dependencies,
validating the answer again and encoding it through ``jsonable_encoder``) cost more than
placing the order itself (``bench api``). This plain ASGI layer (outermost but for the body
limit: ``app._ApServer``) does only what the request needs. The route
(``routes.place``) stays the definition: the same schema validates the body, the same
``place_order`` places it, the same functions write the refusals; and a request this path does
not take as it is -- not JSON, no Content-Length, a body that does not validate -- goes on to
that route with its body, so every validation error still has one source.
"""

from __future__ import annotations

import msgspec
from pydantic import ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from brokercloud.gateway.app import ApiError, api_error_response, forbidden_response
from brokercloud.gateway.authz import ForbiddenError
from brokercloud.gateway.routes import caller_of, place_order
from brokercloud.gateway.schemas import OrderRequest

PATH = "/api/v1/orders"
_JSON_HEADERS = [(b"content-type", b"application/json")]
_decode = msgspec.json.decode


class OrderEntry:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        authorization, json_body, sized = None, False, False
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value.decode("latin-1")
            elif name == b"content-type":
                json_body = value.partition(b";")[0].strip().lower() == b"application/json"
            elif name == b"content-length":
                sized = True  # within MAX_BODY_BYTES: ``app._LimitBody`` runs first
        if not (json_body and sized):
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        if body is None:  # the client went away
            return
        try:  # msgspec reads JSON as json.loads does; what it refuses, the route judges
            order = OrderRequest.model_validate(_decode(body))
        except (msgspec.DecodeError, ValidationError):  # the route writes the 422
            await self.app(scope, _replaying(body, receive), send)
            return
        g = scope["app"].state.gateway
        try:
            view = await place_order(g, caller_of(g, authorization), order)
        except ApiError as error:
            await api_error_response(error)(scope, receive, send)
            return
        except ForbiddenError as error:
            await forbidden_response(error)(scope, receive, send)
            return
        payload = view.__pydantic_serializer__.to_json(view)
        await send({"type": "http.response.start", "status": 201, "headers": [
            *_JSON_HEADERS, (b"content-length", str(len(payload)).encode())]})
        await send({"type": "http.response.body", "body": payload})


async def _read_body(receive: Receive) -> bytes | None:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replaying(body: bytes, receive: Receive) -> Receive:
    """``receive`` as if the body had not been read yet."""
    pending = [body]

    async def replay() -> Message:
        if pending:
            return {"type": "http.request", "body": pending.pop(), "more_body": False}
        return await receive()

    return replay
