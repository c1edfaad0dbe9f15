"""Helpers for the tests that run the back office against the real core."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from tests.core.support import MARGIN, SELL, Desk

from brokercloud.backoffice.feed import reference_from_core
from brokercloud.backoffice.store import BackOffice
from brokercloud.core import events as e

TUE = date(2025, 11, 25)  # the core tests' trading day
THU = date(2025, 11, 27)  # its T+2


def thesis_day(desk: Desk) -> list[e.Event]:
    """Margin buy 10 lots at 76.2 and cash sell 5 lots at 77.3, both filled."""
    buy = desk.live(qty=10_000, price=7_620, credit=MARGIN)
    sell = desk.live(side=SELL, qty=5_000, price=7_730)
    return desk.fill(buy, 10_000, 7_620, exec_id="X1") + desk.fill(sell, 5_000, 7_730,
                                                                     exec_id="X2")


def office_for(tmp_path: Path, desk: Desk) -> BackOffice:
    office = BackOffice(tmp_path, fsync=False)
    office.execute(reference_from_core(desk.state, office.ledger))
    return office
