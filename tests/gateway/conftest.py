"""``api``: the AP server on the real core and identity store with ``test_api``'s brokers,
users and accounts.

``world``: a broker with two branches for the channel endpoints: the AP server on the real core and
identity store, with a clock the tests move and the line usage of a small shared pool.

On top of ``test_api``'s world: branch 002 (Taichung) of 9A00 with customer 11120001 and its
supervisor ``sup-tc``; 2317 listed; 11110001 holds 3,000 shares of 2330 and 12,345 of 2317;
9B00 has an administrator and a supervisor of its own."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import argon2
import pytest
from fastapi.testclient import TestClient

from brokercloud.core import commands as c
from brokercloud.core.commands import Role
from brokercloud.core.sequencer import Core
from brokercloud.gateway.app import create_app
from brokercloud.gateway.identities import IdentityStore, User
from brokercloud.lines import LineSpec
from brokercloud.lines.usage import LineUsage
from brokercloud.market.instruments import Instrument

from .test_api import NOW, PASSWORD, T0, USERS, _reference

TODAY = "20261125"  # NOW's Taiwan date
LINES = [LineSpec("L1", frozenset({"9A00", "9B00"}), 20),
         LineSpec("L2", frozenset({"9A00"}), 10)]
CHANNEL_USERS = [
    *USERS,
    User(user_id="sup-tc", broker="9A00", role=Role.SUPERVISOR, branch="002", level=2),
    User(user_id="sup-low", broker="9A00", role=Role.SUPERVISOR, level=0),
    User(user_id="sales-tc", broker="9A00", role=Role.SALESPERSON, branch="002",
         accounts=("11120001",)),
    User(user_id="admin2", broker="9B00", role=Role.BROKER_ADMIN),
    User(user_id="sup2", broker="9B00", role=Role.SUPERVISOR, level=9),
]


def channel_reference() -> list[c.Cmd]:
    return [
        *_reference(),
        c.ListInstrument(at=T0, instrument=Instrument(symbol="2317", name="Hon Hai"),
                         reference=10450),
        c.AddBranch(at=T0, broker="9A00", branch="002", name="Taichung"),
        c.OpenAccount(at=T0, account="11120001", broker="9A00", branch="002", name="Tsai",
                      trading_limit=50_000_000),
        c.SetHolding(at=T0, account="11110001", symbol="2317", shares=12_345),
        *[c.AddStaff(at=T0, broker=user.broker, user=user.user_id, role=user.role,
                     branch=user.branch, level=user.level)
          for user in CHANNEL_USERS if user.role is Role.SUPERVISOR and user.user_id != "sup1"],
    ]


class World:
    """The client, a clock (``now``, ms) and the pool's line usage."""

    def __init__(self, client: TestClient, usage: LineUsage) -> None:
        self.client = client
        self.usage = usage
        self.now = NOW

    def headers(self, user_id: str) -> dict[str, str]:
        response = self.client.post("/api/v1/sessions",
                                    json={"user_id": user_id, "password": PASSWORD})
        assert response.status_code == 201, response.text
        return {"Authorization": f"Bearer {response.json()['token']}"}


@contextlib.contextmanager
def serving(tmp_path: Path, usage: LineUsage | None,
            now_ms: Callable[[], int] = lambda: NOW,
            on_core: Callable[[Core], dict[str, Any]] = lambda _: {},
            reference: Callable[[], list[c.Cmd]] = channel_reference,
            users: list[User] = CHANNEL_USERS,
            **options: Any) -> Iterator[TestClient]:
    """The AP server on a fresh core and identity store with the channel world (or another
    ``reference`` and ``users``); ``options`` and what ``on_core`` makes of the core (a back
    office's feed) go to ``create_app``."""
    core = Core(tmp_path / "core", fsync=False)
    core.execute(reference())
    identities = IdentityStore(tmp_path / "identities.db", hasher=argon2.PasswordHasher(
        time_cost=1, memory_cost=1024, parallelism=1))
    for user in users:
        identities.add_user(user, PASSWORD)
    app = create_app(core, identities, now_ms=now_ms, line_usage=usage, **options,
                     **on_core(core))
    with TestClient(app) as client:
        yield client
    identities.close()
    core.close()


@pytest.fixture
def api(tmp_path: Path) -> Iterator[TestClient]:
    with serving(tmp_path, None, reference=_reference, users=USERS) as client:
        yield client


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    usage = LineUsage(LINES)
    holder: list[World] = []
    with serving(tmp_path, usage, lambda: holder[0].now if holder else NOW) as client:
        holder.append(World(client, usage))
        yield holder[0]
