"""The platform operator's view: member brokers with their use of the platform today, and the
shared exchange lines with their capacity and what each broker sent on each.

Line figures come from the line pool's ``LineUsage`` (``serve`` hands the same object to the
pool and the AP server); an AP server without a pool reports no lines and no messages.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter

from brokercloud.core.oms import OrderState
from brokercloud.core.queries import orders_of
from brokercloud.gateway.app import GatewayContext
from brokercloud.gateway.authz import Action, authorize
from brokercloud.gateway.channel_schemas import LineBrokerUse, LineView
from brokercloud.gateway.routes import CallerDep, GatewayDep
from brokercloud.gateway.schemas import BrokerUsage
from brokercloud.market.sessions import TAIWAN

router = APIRouter()


def _sent_today(g: GatewayContext) -> dict[str, dict[str, int]]:
    """Messages per line and broker on today's Taiwan date."""
    if g.line_usage is None:
        return {}
    today = datetime.fromtimestamp(g.now_ms() / 1000, TAIWAN).strftime("%Y%m%d")
    return g.line_usage.sent(today)


@router.get("/api/v1/platform/brokers", response_model=list[BrokerUsage])
async def brokers(g: GatewayDep, caller: CallerDep) -> list[BrokerUsage]:
    """Every member broker: its size, orders today, and its use and capacity of the lines."""
    authorize(caller, Action.VIEW_PLATFORM)
    sent = _sent_today(g)
    usage = g.line_usage
    return [BrokerUsage(
        broker=broker.broker, name=broker.name, branches=len(broker.branches),
        accounts=sum(1 for a in g.state.accounts.values() if a.broker == broker.broker),
        orders_today=len(broker.client_refs),
        filled_orders=sum(1 for o in orders_of(g.state, broker.broker)
                          if o.state is OrderState.FILLED),
        messages_today=sum(counts.get(broker.broker, 0) for counts in sent.values()),
        burst_capacity_per_s=usage.burst_capacity(broker.broker) if usage else 0.0,
        stream_sessions=g.hub.sessions_of(broker.broker))
        for broker in g.state.brokers.values()]


@router.get("/api/v1/platform/lines", response_model=list[LineView])
async def lines(g: GatewayDep, caller: CallerDep) -> list[LineView]:
    """Every shared exchange line: its rate, the brokers allowed on it, whether it is logged
    on, and today's messages with each broker's part of them."""
    authorize(caller, Action.VIEW_PLATFORM)
    if g.line_usage is None:
        return []
    sent = _sent_today(g)
    views = []
    for line_id, spec in g.line_usage.lines.items():
        counts = sent.get(line_id, {})
        total = sum(counts.values())
        views.append(LineView(
            line=line_id, rate_per_s=spec.rate, brokers=sorted(spec.brokers),
            connected=g.line_usage.connected[line_id], messages_today=total,
            by_broker=[LineBrokerUse(broker=broker, messages=n, share_pm=n * 1000 // total)
                       for broker, n in sorted(counts.items())]))
    return views
