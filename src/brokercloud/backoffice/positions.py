"""Margin positions as first-in-first-out lots: what a margin sell repays and a short cover
releases.

A financing lot remembers the day its loan was paid out (the buy's settlement date), so a
margin sell pays interest on exactly the loan it repays for exactly the days it was out. A
piece of a lot takes its share of the lot's amounts truncated, and the lot's last piece takes
the remainder, so the pieces always add up to the lot.
"""

from __future__ import annotations

from datetime import date

from brokercloud.backoffice.booking import Release

_PPM = 1_000_000
_DAYS_A_YEAR = 365


class Lot:
    """``shares`` still open; ``first`` / ``second`` the amounts still owed on them (a
    financing lot: loan and nothing; a short lot: margin and held proceeds)."""

    __slots__ = ("first", "second", "shares", "start")

    def __init__(self, shares: int, first: int, second: int, start: date) -> None:
        self.shares = shares
        self.first = first
        self.second = second
        self.start = start


def open_shares(lots: list[Lot]) -> int:
    return sum(lot.shares for lot in lots)


def _take(lots: list[Lot], qty: int) -> list[tuple[int, int, date]]:
    """Remove ``qty`` shares oldest first: (first, second, start) per piece. The caller has
    checked that the lots hold enough."""
    pieces = []
    while qty:
        lot = lots[0]
        shares = min(qty, lot.shares)
        if shares == lot.shares:
            first, second = lot.first, lot.second
            lots.pop(0)
        else:
            first = lot.first * shares // lot.shares
            second = lot.second * shares // lot.shares
            lot.shares -= shares
            lot.first -= first
            lot.second -= second
        pieces.append((first, second, lot.start))
        qty -= shares
    return pieces


def repay_financing(lots: list[Lot], qty: int, settle_date: date, rate_ppm: int) -> Release:
    """A margin sell of ``qty``: the loan it repays and the interest on it, from each lot's
    payout to this sale's settlement, in calendar days (truncated per lot)."""
    loan = interest = 0
    for piece_loan, _, start in _take(lots, qty):
        loan += piece_loan
        interest += _interest(piece_loan, start, settle_date, rate_ppm)
    return Release(loan=loan, interest=interest)


def accrued_interest(lots: list[Lot], on: date, rate_ppm: int) -> int:
    """What the open loans have accrued by ``on`` (a lot not paid out yet: nothing): charged
    when they are repaid, shown day by day."""
    return sum(_interest(lot.first, lot.start, on, rate_ppm) for lot in lots)


def _interest(loan: int, start: date, on: date, rate_ppm: int) -> int:
    """Calendar days from the payout, on a 365-day year, truncated."""
    return loan * rate_ppm * max((on - start).days, 0) // (_PPM * _DAYS_A_YEAR)


def cover_short(lots: list[Lot], qty: int) -> Release:
    """A short cover of ``qty``: the margin and held proceeds it releases."""
    margin = collateral = 0
    for piece_margin, piece_collateral, _ in _take(lots, qty):
        margin += piece_margin
        collateral += piece_collateral
    return Release(margin=margin, collateral=collateral)
