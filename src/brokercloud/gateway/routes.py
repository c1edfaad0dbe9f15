"""The API's routes. Each authenticates the caller, names its action and the broker and account
it touches, and asks ``authz.authorize`` before doing anything; the core decides everything
else through its sequencer, so an answer is given only once the command is durable."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
from fastapi import APIRouter, Body, Depends, Header, Request, WebSocket, WebSocketDisconnect

from brokercloud.codes import Code
from brokercloud.core import commands as c
from brokercloud.core import events as e
from brokercloud.core.model import Account, Order
from brokercloud.core.queries import fills_of, orders_of
from brokercloud.gateway.app import ApiError, GatewayContext
from brokercloud.gateway.authz import (
    Action,
    Caller,
    ForbiddenError,
    account_scope,
    authorize,
    caller_for,
)
from brokercloud.gateway.identities import AuthError, User
from brokercloud.gateway.net_push import send_current
from brokercloud.gateway.schemas import (
    AccountRequest,
    AmendRequest,
    BatchItem,
    BatchRequest,
    CancelBatchRequest,
    CancelRequest,
    CertificateRequest,
    CertificateResponse,
    ErrorBody,
    FillView,
    LimitsRequest,
    LoginRequest,
    LoginResponse,
    OrderRequest,
    OrderView,
    PositionView,
    StaffRequest,
    StatusRequest,
)
from brokercloud.gateway.signed import run_signed
from brokercloud.gateway.signing import CertificateError
from brokercloud.gateway.stream import Subscription
from brokercloud.market.orders import Side

router = APIRouter()
#: An investor's signed request re-sent while the first is still being processed (``signed``).
RETRY_RESPONSES: dict[int | str, dict[str, Any]] = {409: {"model": ErrorBody}}
WS_POLICY_VIOLATION = 1008
WS_TRY_AGAIN = 1013


async def gateway(request: Request) -> GatewayContext:
    """Async on purpose: FastAPI runs sync dependencies in its thread pool, a hand-off per
    request for what is an attribute read."""
    return request.app.state.gateway


def _view(order: Order) -> OrderView:
    return OrderView(order_id=order.order_id, client_ref=order.client_ref, account=order.account,
                     symbol=order.symbol, side=order.side, qty=order.qty, price=order.price,
                     state=str(order.state), cum_qty=order.cum_qty, leaves=order.leaves,
                     exchange_order_id=order.exchange_order_id)


GatewayDep = Annotated[GatewayContext, Depends(gateway)]


async def authenticated(request: Request,
                        authorization: Annotated[str | None, Header()] = None) -> Caller:
    """The caller a bearer token names. Reads the context itself rather than through
    ``GatewayDep``: FastAPI solves a sub-dependency's own dependencies on every request, even
    when the route already solved them."""
    return caller_of(request.app.state.gateway, authorization)


def caller_of(g: GatewayContext, authorization: str | None) -> Caller:
    """The caller an Authorization header names, or 401 (shared with ``order_entry``)."""
    if not authorization or not authorization.startswith("Bearer "):
        raise ApiError(401, Code.NOT_AUTHENTICATED)
    try:
        user = g.identities.authenticate(authorization[7:], g.now_ms())
    except Exception as error:
        raise ApiError(401, getattr(error, "code", Code.SESSION_INVALID)) from error
    return caller_for(user, g.state.accounts)


CallerDep = Annotated[Caller, Depends(authenticated)]


@router.post("/api/v1/sessions", response_model=LoginResponse, status_code=201)
async def login(g: GatewayDep, body: LoginRequest) -> LoginResponse:
    try:
        session = await g.identities.login(body.user_id, body.password, g.now_ms())
    except Exception as error:
        raise ApiError(401, getattr(error, "code", Code.INVALID_CREDENTIALS)) from error
    user = session.user
    return LoginResponse(token=session.token, user_id=user.user_id, broker=user.broker,
                         role=str(user.role), expires_at=session.expires_ms)


@router.delete("/api/v1/sessions", status_code=204)
async def logout(g: GatewayDep, caller: CallerDep,
                 authorization: Annotated[str | None, Header()] = None) -> None:
    g.identities.logout((authorization or "")[7:])


@router.post("/api/v1/orders", response_model=OrderView, status_code=201,
             responses=RETRY_RESPONSES)
async def place(g: GatewayDep, body: OrderRequest, caller: CallerDep) -> OrderView:
    """Served by ``order_entry`` ahead of FastAPI when the request is well formed; this route
    is its definition (schema, OpenAPI) and answers everything else."""
    return await place_order(g, caller, body)


async def place_order(g: GatewayContext, caller: Caller, body: OrderRequest) -> OrderView:
    authorize(caller, Action.PLACE_ORDER, broker=caller.broker, account=body.account)

    async def act() -> str:
        broker = g.state.brokers.get(caller.broker)
        known = broker.client_refs.get(body.client_ref) if broker else None
        if known is not None:  # idempotent: the same client reference is the same order
            return known
        events = await g.sequencer.submit(c.PlaceOrder(
            at=g.now_ms(), broker=caller.broker, account=body.account, user=caller.user_id,
            client_ref=body.client_ref, symbol=body.symbol, side=body.side, qty=body.qty,
            price=body.price, order_type=body.order_type, tif=body.tif, session=body.session,
            credit=body.credit, prepaid=body.prepaid))
        for event in events:
            if isinstance(event, e.OrderRejected):
                raise ApiError(422, event.code)
            if isinstance(event, e.OrderUpdated):
                return event.order_id
        raise ApiError(422, Code.INVALID_REFERENCE_DATA)

    order_id = await run_signed(g, caller, body, body.signed_fields, body.account, act)
    return _view(g.state.orders[order_id])


@router.post("/api/v1/orders/batch", response_model=list[BatchItem])
async def place_batch(g: GatewayDep, body: BatchRequest, caller: CallerDep) -> list[BatchItem]:
    """Group orders for staff (a salesperson's orders across customers, a clerk's tickets):
    each succeeds or fails on its own, in order."""
    if caller.role is c.Role.INVESTOR:
        raise ForbiddenError
    results = []
    for order in body.orders:
        try:
            results.append(BatchItem(client_ref=order.client_ref,
                                     order=await place_order(g, caller, order)))
        except ApiError as error:
            results.append(BatchItem(client_ref=order.client_ref, error=ErrorBody(
                code=int(error.code), message=str(error), field=error.field)))
        except ForbiddenError as error:
            results.append(BatchItem(client_ref=order.client_ref, error=ErrorBody(
                code=int(error.code), message=str(error))))
    return results


@router.patch("/api/v1/orders/{order_id}", response_model=OrderView,
              responses=RETRY_RESPONSES)
async def amend(g: GatewayDep, order_id: str, body: AmendRequest,
                caller: CallerDep) -> OrderView:
    """Investors sign the amend (``AmendRequest.signed_fields``); staff do not."""
    order = _visible(g, caller, order_id, Action.AMEND_ORDER)
    command = c.AmendOrder(at=g.now_ms(), broker=order.broker, user=caller.user_id,
                           order_id=order_id, qty=body.qty, price=body.price)
    await run_signed(g, caller, body, lambda: body.signed_fields(order.account, order_id),
                     order.account, lambda: _order_command(g, command))
    return _view(g.state.orders[order_id])


async def _order_command(g: GatewayContext, command: c.CancelOrder | c.AmendOrder) -> str:
    """Submit a cancel or amend; the core's refusal becomes a 422 with its code."""
    events = await g.sequencer.submit(command)
    for event in events:
        if isinstance(event, e.CommandRejected):
            raise ApiError(422, event.code)
    return command.order_id


def _visible(g: GatewayContext, caller: Caller, order_id: str, action: Action) -> Order:
    """Another broker's order and no order at all look the same: forbidden."""
    order = g.state.orders.get(order_id)
    if order is None:
        raise ForbiddenError
    authorize(caller, action, broker=order.broker, account=order.account)
    return order


@router.delete("/api/v1/orders/{order_id}", response_model=OrderView,
               responses=RETRY_RESPONSES)
async def cancel(g: GatewayDep, order_id: str, caller: CallerDep,
                 body: Annotated[CancelRequest | None, Body()] = None) -> OrderView:
    """Investors sign the cancel in the body (``CancelRequest.signed_fields``); staff send
    no body."""
    order = _visible(g, caller, order_id, Action.CANCEL_ORDER)
    signed = body or CancelRequest()
    command = c.CancelOrder(at=g.now_ms(), broker=order.broker, user=caller.user_id,
                            order_id=order_id)
    await run_signed(g, caller, signed, lambda: signed.signed_fields(order.account, order_id),
                     order.account, lambda: _order_command(g, command))
    return _view(g.state.orders[order_id])


@router.get("/api/v1/orders", response_model=list[OrderView])
async def list_orders(g: GatewayDep, caller: CallerDep,
                      account: str | None = None) -> list[OrderView]:
    authorize(caller, Action.VIEW_ORDERS, broker=caller.broker, account=account)
    scope = account_scope(caller)
    return [_view(order) for order in orders_of(g.state, caller.broker, account)
            if scope is None or order.account in scope]


@router.get("/api/v1/orders/{order_id}", response_model=OrderView)
async def get_order(g: GatewayDep, order_id: str, caller: CallerDep) -> OrderView:
    return _view(_visible(g, caller, order_id, Action.VIEW_ORDERS))


@router.get("/api/v1/fills", response_model=list[FillView])
async def list_fills(g: GatewayDep, caller: CallerDep,
                     account: str | None = None) -> list[FillView]:
    authorize(caller, Action.VIEW_FILLS, broker=caller.broker, account=account)
    scope = account_scope(caller)
    return [FillView(order_id=f.order_id, account=f.account, exec_id=f.exec_id, at=f.at,
                     price=f.price, qty=f.qty)
            for f in fills_of(g.state, caller.broker, account)
            if scope is None or f.account in scope]


@router.websocket("/api/v1/stream")
async def stream(websocket: WebSocket, token: str, resume_after: int | None = None) -> None:
    """Order, fill, reject and approval events of the caller's broker (and accounts), live;
    ``resume_after`` replays what came after the last sequence number a client saw. A message
    is one event, or an array of the events that were waiting (``stream.events_of``). With a
    back office, every change of a net amount the caller may see arrives as
    ``{"type": "NetAmount", ...}`` (no ``seq``: it is state, not an event); since state is not
    replayed from the log, a resumed account- or branch-bound session first gets the current
    net of each unsettled date of its accounts (``gateway.net_push``)."""
    g: GatewayContext = websocket.app.state.gateway
    try:
        caller = caller_for(g.identities.authenticate(token, g.now_ms()), g.state.accounts)
    except Exception:
        await websocket.close(code=WS_POLICY_VIOLATION, reason="log in first")
        return
    await websocket.accept()
    if resume_after is not None and resume_after < g.hub.oldest():
        await websocket.close(code=WS_TRY_AGAIN, reason="too far behind to resume; reload")
        return
    subscription = g.hub.subscribe(caller, resume_after)
    if resume_after is not None and g.back_office is not None:
        send_current(g.back_office.ledger, g.hub, subscription)
    requests = asyncio.create_task(_stream_requests(websocket, g, subscription))
    try:
        while True:
            payload = await subscription.next_message()
            if payload is None:
                if not subscription.ended:  # fell behind: the client resumes from its last seq
                    await websocket.close(code=WS_TRY_AGAIN, reason="too slow; resume")
                return
            await websocket.send_text(payload.decode())
    except WebSocketDisconnect:
        return
    finally:
        requests.cancel()
        g.hub.unsubscribe(subscription)


class StreamRequest(msgspec.Struct):
    op: str
    symbols: list[str] = []


async def _stream_requests(websocket: WebSocket, g: GatewayContext,
                           subscription: Subscription) -> None:
    """What the client asks on its stream: ``{"op": "subscribe"|"unsubscribe", "symbols"}``
    for quotes of listed symbols. A bad request is answered with an error message; the stream
    stays open."""
    try:
        while True:
            text = await websocket.receive_text()
            try:
                request = msgspec.json.decode(text, type=StreamRequest)
            except (msgspec.DecodeError, msgspec.ValidationError) as error:
                await subscription.queue.put(b'{"type": "error", "message": %s}' %
                                             msgspec.json.encode(str(error)))
                continue
            if request.op == "subscribe":
                g.hub.ask_quotes(subscription, [symbol for symbol in request.symbols[:100]
                                                if symbol in g.state.listed])
            elif request.op == "unsubscribe":
                subscription.symbols.difference_update(request.symbols)
    except (WebSocketDisconnect, RuntimeError):
        subscription.end()


@router.post("/api/v1/certificates", response_model=CertificateResponse, status_code=201)
async def issue_certificate(g: GatewayDep, caller: CallerDep,
                            body: CertificateRequest) -> CertificateResponse:
    """An investor's certificate for one of its accounts, from a request made with its own key
    (the private key never leaves the client)."""
    authorize(caller, Action.PLACE_ORDER, broker=caller.broker, account=body.account)
    if caller.role is not c.Role.INVESTOR or g.ca is None:
        raise ForbiddenError
    try:
        pem = g.ca.issue(body.csr.encode(), broker=caller.broker, account=body.account,
                         now=datetime.fromtimestamp(g.now_ms() / 1000, UTC))
    except CertificateError as error:
        raise ApiError(422, error.code, "csr") from error
    return CertificateResponse(certificate=pem.decode())


@router.get("/api/v1/positions", response_model=list[PositionView])
async def positions(g: GatewayDep, caller: CallerDep,
                    account: str | None = None) -> list[PositionView]:
    """Per account and symbol: what the depository held, what traded today, what is offered."""
    authorize(caller, Action.VIEW_POSITIONS, broker=caller.broker, account=account)
    scope = account_scope(caller)
    sold: dict[tuple[str, str], int] = {}
    for order in orders_of(g.state, caller.broker, account):
        if order.side is Side.SELL:
            key = (order.account, order.symbol)
            sold[key] = sold.get(key, 0) + order.cum_qty
    views = []
    mine = [a for a in g.state.accounts.values() if a.broker == caller.broker
            and (account is None or a.account == account)
            and (scope is None or a.account in scope)]
    for acct in sorted(mine, key=lambda a: a.account):
        for symbol in sorted(set(acct.holdings) | set(acct.bought) | set(acct.sell_reserved)):
            holding, bought = acct.holdings.get(symbol, 0), acct.bought.get(symbol, 0)
            done = sold.get((acct.account, symbol), 0)
            views.append(PositionView(
                account=acct.account, symbol=symbol, holding=holding, bought=bought, sold=done,
                position=holding + bought - done,
                open_sell=acct.sell_reserved.get(symbol, 0) - done))
    return views


async def reference_change(g: GatewayContext, command: c.Cmd) -> None:
    """Submit a reference-data command; the core's refusal is answered 422 with its code."""
    events = await g.sequencer.submit(command)
    for event in events:
        if isinstance(event, e.CommandRejected):
            raise ApiError(422, event.code)


@router.post("/api/v1/accounts", status_code=201)
async def open_account(g: GatewayDep, caller: CallerDep, body: AccountRequest) -> dict[str, str]:
    """A broker administrator opens an account at its own broker."""
    authorize(caller, Action.MANAGE_ACCOUNTS, broker=caller.broker)
    await reference_change(g, c.OpenAccount(
        at=g.now_ms(), account=body.account, broker=caller.broker, branch=body.branch,
        name=body.name, margin=body.margin, trading_limit=body.trading_limit,
        credit_limit=body.credit_limit, discount_bp=body.discount_bp))
    return {"account": body.account}


def account_for(g: GatewayContext, caller: Caller, action: Action, account: str) -> Account:
    """The account ``caller`` may do ``action`` on. Another broker's account and a missing one
    are refused alike (403), so no caller learns which accounts exist elsewhere."""
    found = g.state.accounts.get(account)
    if found is None:
        raise ForbiddenError
    authorize(caller, action, broker=found.broker, account=account)
    return found


@router.put("/api/v1/accounts/{account}/limits", status_code=204)
async def set_limits(g: GatewayDep, caller: CallerDep, account: str,
                     body: LimitsRequest) -> None:
    account_for(g, caller, Action.MANAGE_ACCOUNTS, account)
    await reference_change(g, c.SetAccountLimits(at=g.now_ms(), account=account,
                                                  trading_limit=body.trading_limit,
                                                  credit_limit=body.credit_limit))


@router.put("/api/v1/accounts/{account}/status", status_code=204)
async def set_status(g: GatewayDep, caller: CallerDep, account: str,
                     body: StatusRequest) -> None:
    account_for(g, caller, Action.MANAGE_ACCOUNTS, account)
    await reference_change(g, c.SetAccountStatus(at=g.now_ms(), account=account,
                                                  status=body.status))


_STAFF_ROLES = frozenset({c.Role.SALESPERSON, c.Role.CLERK, c.Role.SUPERVISOR,
                          c.Role.BROKER_ADMIN, c.Role.DMA_CLIENT})


@router.post("/api/v1/staff", status_code=201)
async def add_staff(g: GatewayDep, caller: CallerDep, body: StaffRequest) -> dict[str, str]:
    """A broker administrator adds staff to its own broker; supervisors also become known to
    the core, which checks their level on every approval."""
    authorize(caller, Action.MANAGE_STAFF, broker=caller.broker)
    if body.role not in _STAFF_ROLES:
        raise ApiError(422, Code.INVALID_REFERENCE_DATA, "role")
    foreign = [a for a in body.accounts
               if (acct := g.state.accounts.get(a)) is None or acct.broker != caller.broker]
    if foreign:
        raise ApiError(422, Code.UNKNOWN_ACCOUNT, "accounts")
    user = User(user_id=body.user_id, broker=caller.broker, role=body.role, branch=body.branch,
                accounts=tuple(body.accounts), level=body.level)
    try:
        await g.identities.add_user_async(user, body.password)
    except AuthError as error:
        raise ApiError(422, error.code, "user_id") from error
    if body.role is c.Role.SUPERVISOR:
        await reference_change(g, c.AddStaff(at=g.now_ms(), broker=caller.broker,
                                              user=body.user_id, role=body.role,
                                              branch=body.branch, level=body.level))
    return {"user_id": body.user_id}


@router.post("/api/v1/orders/cancel-batch", response_model=list[BatchItem])
async def cancel_batch(g: GatewayDep, body: CancelBatchRequest,
                       caller: CallerDep) -> list[BatchItem]:
    """Group cancels for staff: each order is cancelled or refused on its own."""
    if caller.role is c.Role.INVESTOR:
        raise ForbiddenError
    results = []
    for order_id in body.order_ids:
        try:
            order = _visible(g, caller, order_id, Action.CANCEL_ORDER)
            await _order_command(g, c.CancelOrder(at=g.now_ms(), broker=order.broker,
                                                  user=caller.user_id, order_id=order_id))
            results.append(BatchItem(client_ref=order.client_ref,
                                     order=_view(g.state.orders[order_id])))
        except ApiError as error:
            results.append(BatchItem(client_ref=order_id, error=ErrorBody(
                code=int(error.code), message=str(error), field=error.field)))
        except ForbiddenError as error:
            results.append(BatchItem(client_ref=order_id, error=ErrorBody(
                code=int(error.code), message=str(error))))
    return results
