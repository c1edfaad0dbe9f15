"""The order state machine as a transition table (NautilusTrader's pattern): a transition not
in the table is a bug and raises, so no path can quietly move an order somewhere impossible."""

from __future__ import annotations

import enum


class OrderState(enum.StrEnum):
    NEW = "new"
    PENDING_APPROVAL = "pending_approval"
    PENDING_SEND = "pending_send"
    SENT = "sent"
    ACKNOWLEDGED = "acknowledged"
    PARTIALLY_FILLED = "partially_filled"
    FILLED = "filled"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    EXPIRED = "expired"


class Trigger(enum.StrEnum):
    RISK_PASSED = "risk_passed"
    NEEDS_APPROVAL = "needs_approval"
    RISK_FAILED = "risk_failed"
    APPROVED = "approved"
    DENIED = "denied"
    APPROVAL_EXPIRED = "approval_expired"
    SENT = "sent"
    EXCHANGE_ACCEPTED = "exchange_accepted"
    EXCHANGE_REJECTED = "exchange_rejected"
    PARTIAL_FILL = "partial_fill"
    FULL_FILL = "full_fill"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


S, T = OrderState, Trigger
_LIVE_AT_EXCHANGE = (S.SENT, S.ACKNOWLEDGED, S.PARTIALLY_FILLED)

TRANSITIONS: dict[tuple[OrderState, Trigger], OrderState] = {
    (S.NEW, T.RISK_PASSED): S.PENDING_SEND,
    (S.NEW, T.NEEDS_APPROVAL): S.PENDING_APPROVAL,
    (S.NEW, T.RISK_FAILED): S.REJECTED,
    (S.PENDING_APPROVAL, T.APPROVED): S.PENDING_SEND,
    (S.PENDING_APPROVAL, T.DENIED): S.REJECTED,
    (S.PENDING_APPROVAL, T.APPROVAL_EXPIRED): S.EXPIRED,
    (S.PENDING_APPROVAL, T.CANCELLED): S.CANCELLED,
    (S.PENDING_SEND, T.SENT): S.SENT,
    (S.PENDING_SEND, T.CANCELLED): S.CANCELLED,  # cancelled before it left the outbox
    (S.SENT, T.EXCHANGE_ACCEPTED): S.ACKNOWLEDGED,
    (S.SENT, T.EXCHANGE_REJECTED): S.REJECTED,
    # A fill can overtake the acknowledgement on the way back (both are reports of one order)
    **{(state, T.PARTIAL_FILL): S.PARTIALLY_FILLED for state in _LIVE_AT_EXCHANGE},
    **{(state, T.FULL_FILL): S.FILLED for state in _LIVE_AT_EXCHANGE},
    **{(state, T.CANCELLED): S.CANCELLED for state in _LIVE_AT_EXCHANGE},
    **{(state, T.EXPIRED): S.EXPIRED for state in _LIVE_AT_EXCHANGE},
}

FINISHED = frozenset({S.FILLED, S.CANCELLED, S.REJECTED, S.EXPIRED})
AT_EXCHANGE = frozenset(_LIVE_AT_EXCHANGE)


class InvalidTransitionError(Exception):
    """A transition the table does not allow: a bug in the caller, never a user error."""


def next_state(state: OrderState, trigger: Trigger) -> OrderState:
    new = TRANSITIONS.get((state, trigger))
    if new is None:
        raise InvalidTransitionError(f"order in {state} cannot take {trigger}")
    return new
