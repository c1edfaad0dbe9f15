"""Orders from a customer's inventory, for salespeople and their own customers: the plan
(``gateway.inventory``) turns holdings into sell orders, and each is placed through the normal
order path, so every risk check applies and the results come back one per order, in order."""

from __future__ import annotations

from fastapi import APIRouter

from brokercloud.codes import Code, describe
from brokercloud.gateway.app import ApiError
from brokercloud.gateway.authz import Action, ForbiddenError, authorize
from brokercloud.gateway.channel_schemas import InventorySaleRequest
from brokercloud.gateway.inventory import (
    Sale,
    TooManyOrdersError,
    Want,
    plan_sales,
    sellable_symbols,
)
from brokercloud.gateway.routes import CallerDep, GatewayDep, place_batch
from brokercloud.gateway.schemas import BatchItem, BatchRequest, ErrorBody, OrderRequest
from brokercloud.market.orders import Side

router = APIRouter()


@router.post("/api/v1/orders/from-inventory", response_model=list[BatchItem])
async def sell_from_inventory(g: GatewayDep, body: InventorySaleRequest,
                              caller: CallerDep) -> list[BatchItem]:
    authorize(caller, Action.SELL_INVENTORY, broker=caller.broker, account=body.account)
    account = g.state.accounts.get(body.account)
    if account is None or account.broker != caller.broker:
        raise ForbiddenError
    wants = ([Want(item.symbol, item.qty, item.fraction_pm or body.fraction_pm, item.price)
              for item in body.items] if body.items
             else [Want(symbol, None, body.fraction_pm, None)
                   for symbol in sellable_symbols(account)])
    if not wants:
        raise ApiError(422, Code.NO_INVENTORY_TO_SELL, "items")
    try:
        plan = plan_sales(account, g.state.listed, wants, offset_bp=body.offset_bp,
                          odd_lots=body.odd_lots, client_ref=body.client_ref)
    except TooManyOrdersError as error:
        raise ApiError(422, Code.TOO_MANY_ORDERS, "items") from error
    results = []
    for step in plan:
        if isinstance(step, Sale):
            order = OrderRequest(account=body.account, client_ref=step.client_ref,
                                 symbol=step.symbol, side=Side.SELL, qty=step.qty,
                                 price=step.price, session=step.session)
            results += await place_batch(g, BatchRequest(orders=[order]), caller)
        else:
            results.append(BatchItem(client_ref=step.client_ref, error=ErrorBody(
                code=int(step.code), message=describe(step.code), field="items")))
    return results
