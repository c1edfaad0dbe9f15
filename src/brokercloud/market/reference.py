"""The next trading day's reference price.

TWSE: the reference is today's close. Without a close, it is the last best bid if that is
above the old reference, else the last best ask if that is below it, else the old reference;
so a stock pinned at limit-up by unfilled bids still moves up the next day.
"""

from __future__ import annotations


def next_reference(old_reference: int, close: int, best_bid: int, best_ask: int) -> int:
    """All prices in NT$0.01; 0 means none (no close, no bid, no ask at the end of the day)."""
    if close:
        return close
    if best_bid and best_bid > old_reference:
        return best_bid
    if best_ask and best_ask < old_reference:
        return best_ask
    return old_reference
