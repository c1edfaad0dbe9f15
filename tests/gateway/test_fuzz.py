"""Schema-driven fuzzing of the whole HTTP API (schemathesis): every operation of the OpenAPI
schema is called with generated data as a logged-in investor, salesperson, supervisor, broker
administrator and operator, on the real core and identity store (with a line pool's usage
and a back office booking the core's fills).
No answer may be a server error, and every client error must carry the platform's
``{code, message}`` body.

Operations with an ``{order_id}`` are also called on a real order (generated IDs almost never
name one), and logging out uses a fresh session so the other calls keep theirs.
``FUZZ_EXAMPLES`` (default 25) sets the examples per operation."""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path
from typing import Any

import argon2
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from brokercloud.backoffice.store import BackOffice
from brokercloud.core.sequencer import Core
from brokercloud.gateway.app import create_app
from brokercloud.gateway.identities import IdentityStore
from brokercloud.lines.usage import LineUsage

from .conftest import LINES, TODAY
from .settlement_support import fed_by_core
from .test_api import NOW, PASSWORD, USERS, _reference

# order entry, sales from inventory, approvals, administration, the platform
ROLES = ("inv1", "sales1", "sup1", "admin1", "op")


class Fuzzed:
    """The application under test and what the calls need: tokens and a real order."""

    def __init__(self, root: Path) -> None:
        core = Core(root / "core", fsync=False)
        core.execute(_reference())
        self.identities = IdentityStore(root / "identities.db", hasher=argon2.PasswordHasher(
            time_cost=1, memory_cost=1024, parallelism=1), max_failures=1_000_000)
        for user in USERS:
            self.identities.add_user(user, PASSWORD)
        usage = LineUsage(LINES)
        usage.record("L1", "9A00", TODAY)
        office = BackOffice(root / "backoffice", fsync=False)  # the settlement routes' books
        self.app = create_app(core, self.identities, now_ms=lambda: NOW, line_usage=usage,
                              **fed_by_core(office)(core))
        self.schema = schemathesis.openapi.from_asgi("/openapi.json", self.app)
        self.tokens = {user: self.login(user) for user in ROLES}
        self.order_ids: list[str] = []

    def login(self, user_id: str) -> str:
        return asyncio.run(self.identities.login(user_id, PASSWORD, NOW)).token

    def headers(self, user_id: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user_id]}"}


_ROOT = tempfile.TemporaryDirectory(prefix="brokercloud-fuzz-")
TARGET = Fuzzed(Path(_ROOT.name))  # the schema is read when the module is collected
schema = TARGET.schema


@pytest.fixture(scope="module")
def fuzzed() -> Fuzzed:
    target = TARGET
    if target.order_ids:
        return target
    # a real order of each kind: one that waits for a supervisor, one that does not
    for ref, qty in (("fuzz-big", 200_000), ("fuzz-small", 1000)):
        response = target.schema["/api/v1/orders"]["POST"].Case(
            body={"account": "11110001", "client_ref": ref, "symbol": "2330", "side": 0,
                  "qty": qty, "price": 7470}).call(headers=target.headers("inv1"))
        assert response.status_code == 201, response.text
        target.order_ids.append(response.json()["order_id"])
    return target


def _check_error_shape(response: Any) -> None:
    if 400 <= response.status_code < 500:
        body = response.json()
        assert isinstance(body, dict), (response.status_code, response.text)
        assert isinstance(body.get("code"), int), (response.status_code, response.text)
        assert isinstance(body.get("message"), str) and body["message"], response.text


def _call(case: Any, headers: dict[str, str]) -> None:
    response = case.call(headers=headers)
    case.validate_response(response, checks=[not_a_server_error], headers=headers)
    _check_error_shape(response)


@schema.parametrize()
@settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "25")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                 HealthCheck.function_scoped_fixture])
def test_fuzz_when_any_generated_request_then_no_server_error_and_error_shape(case, fuzzed):
    logout = case.operation.method.upper() == "DELETE" and case.path == "/api/v1/sessions"
    for user in ROLES:
        headers = ({"Authorization": f"Bearer {fuzzed.login(user)}"} if logout
                   else fuzzed.headers(user))
        _call(case, headers)
        if case.path_parameters and "order_id" in case.path_parameters:
            for order_id in fuzzed.order_ids:
                real = case.operation.Case(path_parameters={"order_id": order_id},
                                           body=case.body, query=case.query,
                                           headers=case.headers)
                _call(real, headers)
