"""The AP server's HTTP surface (FastAPI) under /api/v1: the application, its error format and
its guards. Routes live in ``routes``; bodies in ``schemas``.

Errors are JSON ``{"code", "message", "field"}`` with the platform's stable codes; bodies above
64 KiB are refused before they are read.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, Protocol

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from brokercloud.backoffice.store import BackOffice
from brokercloud.codes import Code, describe
from brokercloud.core.sequencer import Core, Listener, Sequencer
from brokercloud.core.timers import expire_approvals_forever
from brokercloud.gateway.authz import ForbiddenError
from brokercloud.gateway.certificates import CertificateAuthority, SignatureVerifier
from brokercloud.gateway.net_push import start_pushing
from brokercloud.gateway.nonces import NonceStore
from brokercloud.gateway.schemas import ErrorBody
from brokercloud.gateway.stream import EventHub
from brokercloud.lines.usage import LineUsage

MAX_BODY_BYTES = 64 * 1024


class ApiError(Exception):
    def __init__(self, status: int, code: Code, field: str | None = None) -> None:
        super().__init__(describe(code))
        self.status, self.code, self.field = status, code, field


class Identities(Protocol):
    """What the API needs of the identity store (``gateway.identities``)."""

    async def login(self, user_id: str, password: str, now_ms: int) -> Any: ...

    async def add_user_async(self, user: Any, password: str) -> None: ...

    def authenticate(self, token: str, now_ms: int) -> Any: ...

    def logout(self, token: str) -> None: ...

    def users_of(self, broker: str) -> list[Any]: ...


class GatewayContext:
    """What the routes work with, kept on ``app.state.gateway``."""

    def __init__(self, sequencer: Sequencer, identities: Identities,
                 now_ms: Callable[[], int], hub: EventHub,
                 ca: CertificateAuthority | None = None,
                 verifier: SignatureVerifier | None = None,
                 line_usage: LineUsage | None = None,
                 back_office: BackOffice | None = None) -> None:
        self.sequencer = sequencer
        self.ca = ca
        self.verifier = verifier
        self.state = sequencer.core.state
        self.identities = identities
        self.now_ms = now_ms
        self.hub = hub
        self.line_usage = line_usage
        self.back_office = back_office
        sequencer.listeners.append(hub.publish)


def _error(status: int, code: int, message: str, field: str | None = None) -> JSONResponse:
    return JSONResponse(status_code=status,
                        content=ErrorBody(code=code, message=message, field=field).model_dump())


def api_error_response(error: ApiError) -> Response:
    return _error(error.status, int(error.code), describe(error.code), error.field)


def forbidden_response(error: ForbiddenError) -> Response:
    return _error(403, int(Code.FORBIDDEN), str(error))


async def _api_error(_: Request, error: ApiError) -> Response:
    return api_error_response(error)


async def _forbidden(_: Request, error: ForbiddenError) -> Response:
    return forbidden_response(error)


async def _invalid(_: Request, error: RequestValidationError) -> Response:
    first = error.errors()[0] if error.errors() else {}
    field = ".".join(str(part) for part in first.get("loc", ())[1:]) or None
    return _error(422, 422, str(first.get("msg", "invalid request")), field)


async def _http_error(_: Request, error: HTTPException) -> Response:
    """Starlette's own refusals (no such route, method not allowed) in the platform's format."""
    response = _error(error.status_code, error.status_code, str(error.detail))
    response.headers.update(error.headers or {})
    return response


class _LimitBody:
    """Refuses bodies above 64 KiB from their Content-Length, before reading them. A plain ASGI
    middleware: Starlette's BaseHTTPMiddleware costs a task group and a wrapped response per
    request (a tenth of the server's time in ``bench api``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for name, value in scope["headers"]:
                if name == b"content-length" and (not value.isdigit()
                                                  or int(value) > MAX_BODY_BYTES):
                    response = _error(413, 413,
                                      f"request bodies are limited to {MAX_BODY_BYTES} bytes")
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)


class _ApServer(FastAPI):
    """FastAPI with the body limit and order entry's hot path in front of its whole
    middleware stack: Starlette's error middleware and FastAPI's telemetry and body-limit
    layers cost every request, and the hot path answers its own refusals."""

    def build_middleware_stack(self) -> ASGIApp:
        from brokercloud.gateway.order_entry import OrderEntry  # noqa: PLC0415 (imports us)

        return _LimitBody(OrderEntry(super().build_middleware_stack()))


#: Started with the sequencer (the line pool, in ``serve``); returns how to stop it.
OnStart = Callable[[Sequencer], Awaitable[Callable[[], Awaitable[None]] | None]]


def create_app(core: Core, identities: Identities,
               now_ms: Callable[[], int] = lambda: int(time.time() * 1000),
               listeners: Sequence[Listener] = (), on_start: OnStart | None = None,
               ca: CertificateAuthority | None = None,
               nonces: NonceStore | None = None,
               line_usage: LineUsage | None = None,
               expire_approvals_every_s: float | None = None,
               back_office: BackOffice | None = None) -> FastAPI:
    """The AP server's HTTP surface over one core. The core's sequencer runs for as long as
    the application does (its lifespan), on the application's event loop. With a certificate
    authority, investors' orders, cancels and amends must be signed with a certificate it
    issued, and ``nonces`` (the caller's, shared by every AP process) refuses replays; with
    the line pool's usage, the operator sees the shared lines. With
    ``expire_approvals_every_s``, the application also expires overdue approvals on
    ``now_ms``'s clock. With the ``back_office`` (booked by the caller, e.g. ``CoreFeed``),
    the settlement routes answer and every change of a net amount is pushed on the stream;
    without one they answer 503 BACK_OFFICE_UNAVAILABLE."""
    # the routers import this module
    from brokercloud.gateway import (  # noqa: PLC0415
        admin_routes,
        back_office_routes,
        customer_routes,
        inventory_routes,
        operator_routes,
        routes,
        settlement_routes,
        supervisor_routes,
    )

    verifier = None
    if ca is not None:
        if nonces is None:
            raise ValueError("verifying signed orders needs a nonce store")
        verifier = SignatureVerifier(ca, nonces, clock=now_ms)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with Sequencer(core, listeners) as sequencer:
            app.state.gateway = GatewayContext(sequencer, identities, now_ms, hub, ca,
                                               verifier, line_usage, back_office)
            stop_pushing = (start_pushing(back_office.ledger.feed, hub)
                            if back_office is not None else None)
            stop = await on_start(sequencer) if on_start is not None else None
            expiry = (asyncio.create_task(expire_approvals_forever(
                sequencer, now_ms, expire_approvals_every_s))
                if expire_approvals_every_s is not None else None)
            try:
                yield
            finally:
                if expiry is not None:
                    expiry.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await expiry
                if stop is not None:
                    await stop()
                if stop_pushing is not None:
                    stop_pushing()

    hub = EventHub()  # exists before start-up, so market data can be wired to it

    # no OpenTelemetry here: FastAPI's native telemetry, on, asks the environment for a
    # provider on every request (a seventieth of the CPU of an order)
    app = _ApServer(title="brokercloud AP server", version="1", lifespan=lifespan,
                    telemetry={"tracing": False, "metrics": False, "logs": False},
                    responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody},
                               422: {"model": ErrorBody}})
    app.state.hub = hub
    app.add_exception_handler(ApiError, _api_error)  # type: ignore[arg-type]
    app.add_exception_handler(ForbiddenError, _forbidden)
    app.add_exception_handler(RequestValidationError, _invalid)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _http_error)  # type: ignore[arg-type]
    for module in (inventory_routes, routes, admin_routes, supervisor_routes, operator_routes,
                   settlement_routes, back_office_routes, customer_routes):
        app.include_router(module.router)
    return app
