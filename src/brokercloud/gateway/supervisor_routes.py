"""The supervisor's desk: the approval queue, approve or deny, and the approval audit.

A supervisor of a branch sees and decides the orders of that branch's customers only; one
without a branch (the head office) those of the whole broker. Viewing is scoped by
``authz`` (a branch supervisor is bound to its branch's accounts). Deciding is the core's
tiered-approval check (supervisor, level, branch, expiry), so that every refused attempt is
journaled on the order it named: who tried and why. A decision outside the supervisor's
branch is answered as forbidden, like any other act outside the caller's reach.
"""

from __future__ import annotations

from fastapi import APIRouter

from brokercloud.codes import Code
from brokercloud.core import commands as c
from brokercloud.core import events as e
from brokercloud.core.oms import OrderState
from brokercloud.core.queries import approval_trail_of, orders_of
from brokercloud.gateway.app import ApiError
from brokercloud.gateway.authz import Action, ForbiddenError, account_scope, authorize
from brokercloud.gateway.channel_schemas import AuditEntryView
from brokercloud.gateway.routes import CallerDep, GatewayDep, _view
from brokercloud.gateway.schemas import Decision, OrderView

router = APIRouter()


@router.get("/api/v1/approvals", response_model=list[OrderView])
async def approvals(g: GatewayDep, caller: CallerDep) -> list[OrderView]:
    """Orders waiting for a supervisor, within the caller's broker or branch."""
    authorize(caller, Action.VIEW_APPROVALS, broker=caller.broker)
    scope = account_scope(caller)
    return [_view(order) for order in orders_of(g.state, caller.broker)
            if order.state is OrderState.PENDING_APPROVAL
            and (scope is None or order.account in scope)]


@router.post("/api/v1/approvals/{order_id}", response_model=OrderView)
async def decide(g: GatewayDep, order_id: str, body: Decision, caller: CallerDep) -> OrderView:
    order = g.state.orders.get(order_id)
    if order is None:
        raise ForbiddenError
    authorize(caller, Action.DECIDE_APPROVAL, broker=order.broker)
    command: c.Cmd = (c.Approve(at=g.now_ms(), broker=order.broker, user=caller.user_id,
                                order_id=order_id) if body.approve
                      else c.Deny(at=g.now_ms(), broker=order.broker, user=caller.user_id,
                                  order_id=order_id, reason=body.reason))
    events = await g.sequencer.submit(command)
    for event in events:
        if isinstance(event, e.CommandRejected):
            if event.code is Code.SUPERVISOR_OTHER_BRANCH:
                raise ForbiddenError
            raise ApiError(422, event.code)
    return _view(g.state.orders[order_id])


@router.get("/api/v1/approvals/audit", response_model=list[AuditEntryView])
async def approval_audit(g: GatewayDep, caller: CallerDep,
                         account: str | None = None) -> list[AuditEntryView]:
    """Every approval request, decision, expiry and refused decision of the broker's orders
    (a branch supervisor: its branch's), for its supervisors and administrators."""
    authorize(caller, Action.VIEW_AUDIT, broker=caller.broker, account=account)
    scope = account_scope(caller)
    return [AuditEntryView(order_id=entry.order_id, account=entry.account, at=entry.at,
                           seq=entry.seq, what=entry.what, by=entry.by)
            for entry in approval_trail_of(g.state, caller.broker, account)
            if scope is None or entry.account in scope]
