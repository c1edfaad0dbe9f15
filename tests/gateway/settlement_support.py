"""The channel world of ``conftest`` with a real back office: a ``BackOffice`` on a tmp dir fed
by the real ``CoreFeed`` as the sequencer's listener, booking in its own task as in ``serve``,
and helpers that fill orders the way the line pool reports them."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from brokercloud.backoffice.feed import CoreFeed
from brokercloud.backoffice.store import BackOffice
from brokercloud.core import commands as c
from brokercloud.core.sequencer import Core, Sequencer

from .conftest import World, serving
from .test_api import NOW

TRADE_DATE, SETTLE_DATE = "2026-11-25", "2026-11-27"  # NOW's Taiwan date (Wednesday), T+2


class Office(World):
    """The channel world with its back office."""

    def __init__(self, client: TestClient, office: BackOffice) -> None:
        super().__init__(client, None)  # type: ignore[arg-type]
        self.office = office
        self._execs = 0

    def submit(self, command: c.Cmd) -> list:
        return self.client.portal.call(self.client.app.state.gateway.sequencer.submit,
                                       command)  # type: ignore[union-attr]

    def fill(self, account: str, symbol: str, side: int, qty: int, price: int,
             by: str = "clerk1", credit: str = "cash") -> str:
        """An order placed through the API, sent on a line and filled whole by the exchange;
        returns once the back office has booked it."""
        self._execs += 1
        placed = self.client.post("/api/v1/orders", headers=self.headers(by), json={
            "account": account, "client_ref": f"ref{self._execs}", "symbol": symbol,
            "side": side, "qty": qty, "price": price, "credit": credit})
        assert placed.status_code == 201, placed.text
        order_id = placed.json()["order_id"]
        booked = len(self.office.ledger.bookings)
        self.submit(c.MarkSent(at=NOW, order_id=order_id, line="L1"))
        self.submit(c.ExchangeFilled(at=NOW, order_id=order_id, line="L1",
                                     exec_id=f"X{self._execs}", price=price, qty=qty))
        self.until(lambda: len(self.office.ledger.bookings) > booked)
        return order_id

    @staticmethod
    def until(done: Callable[[], bool]) -> None:
        deadline = time.monotonic() + 5
        while not done():
            assert time.monotonic() < deadline, "never happened"
            time.sleep(0.01)


def fed_by_core(office: BackOffice) -> Callable[[Core], dict[str, Any]]:
    """``create_app`` options wiring ``office`` as ``serve`` does: the core's ``CoreFeed`` as
    the sequencer's listener, caught up first, booking in its own task while the app runs."""
    def options(core: Core) -> dict[str, Any]:
        feed = CoreFeed(office, core.state)
        feed.catch_up()

        async def start(_: Sequencer) -> Callable[[], Awaitable[None]]:
            task = asyncio.create_task(feed.run())

            async def stop() -> None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            return stop
        return {"listeners": [feed], "on_start": start, "back_office": office}
    return options


@contextlib.contextmanager
def office_world(tmp_path: Path) -> Iterator[Office]:
    office = BackOffice(tmp_path / "backoffice", fsync=False)
    with serving(tmp_path, None, on_core=fed_by_core(office)) as client:
        yield Office(client, office)
    office.close()
