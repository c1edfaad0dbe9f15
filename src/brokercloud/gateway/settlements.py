"""The back office read under the AP server's tenancy: which net amounts a caller may see,
their totals per settlement date, and the exceptions of a broker or the whole platform.

Used by the settlement routes and by the stream (the current net amounts a resumed session
is given), so the two can never disagree about who sees what.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from brokercloud.backoffice.ledger import Ledger
from brokercloud.backoffice.nets import NetAmount
from brokercloud.backoffice.queries import exceptions_of, net_amounts
from brokercloud.codes import Code, describe
from brokercloud.core.state import CoreState
from brokercloud.gateway.authz import Caller, account_scope
from brokercloud.gateway.settlement_schemas import ExceptionView, NetAmountView, NetTotalView


def visible_nets(ledger: Ledger, caller: Caller, account: str | None = None) -> list[NetAmount]:
    """The unsettled net amounts of the caller's broker it may see (``account``: of that one
    only, already authorized), oldest first. A caller bound to a list of accounts is answered
    from those accounts alone, not by filtering the whole broker."""
    scope = account_scope(caller)
    if account is not None or not isinstance(scope, frozenset):
        amounts = net_amounts(ledger, caller.broker, account)
    else:
        amounts = [amount for name in scope
                   for amount in net_amounts(ledger, caller.broker, name)]
    return sorted((amount for amount in amounts if scope is None or amount.account in scope),
                  key=lambda amount: (amount.settle_date, amount.account))


def net_view(amount: NetAmount) -> NetAmountView:
    return NetAmountView(account=amount.account, trade_date=amount.trade_date,
                         settle_date=amount.settle_date, receivable=amount.receivable,
                         payable=amount.payable, net=amount.net, fills=amount.fills)


def totals(amounts: Iterable[NetAmount]) -> list[NetTotalView]:
    """Per settlement date, the amounts added up (they arrive oldest first)."""
    days: dict[tuple[date, date], NetTotalView] = {}
    for amount in amounts:
        key = (amount.trade_date, amount.settle_date)
        total = days.get(key)
        if total is None:
            total = days[key] = NetTotalView(trade_date=amount.trade_date,
                                             settle_date=amount.settle_date, receivable=0,
                                             payable=0, net=0, fills=0, accounts=0)
        total.receivable += amount.receivable
        total.payable += amount.payable
        total.net += amount.net
        total.fills += amount.fills
        total.accounts += 1
    return list(days.values())


def exceptions(ledger: Ledger, state: CoreState, broker: str | None) -> list[ExceptionView]:
    """The back office's exceptions queue, then the core's reports it did not believe
    (discrepancies, 26xx) or could not place (unknown orders: no broker, so only for the
    platform, ``broker`` None). ``broker`` narrows everything to one broker."""
    held = (ledger.exceptions if broker is None else exceptions_of(ledger, broker))
    views = [ExceptionView(source="backoffice", broker=record.broker, account=record.account,
                           order_id=record.order_id, exec_id=record.exec_id,
                           code=int(record.code), message=describe(record.code),
                           detail=record.detail) for record in held]
    views += [ExceptionView(source="core", broker=event.broker, account=event.account,
                            order_id=event.order_id, exec_id=event.exec_id,
                            code=int(event.code), message=describe(event.code),
                            detail=f"{event.qty} shares at {event.price} (NT$0.01)")
              for event in state.discrepancies if broker is None or event.broker == broker]
    if broker is None:
        views += [ExceptionView(source="core", broker=event.broker, account="",
                                order_id=event.order_id, exec_id="",
                                code=int(Code.UNKNOWN_ORDER_ID),
                                message=describe(Code.UNKNOWN_ORDER_ID),
                                detail=event.report) for event in state.unknown_reports]
    return views
