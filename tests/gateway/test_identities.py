"""The identity store: users of every role, login and lockout, sessions and their expiry, what a
copy of the database reveals, restarts, and that hashing leaves the event loop free."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
import statistics
import time
from collections.abc import Iterator
from pathlib import Path

import argon2
import pytest

from brokercloud.codes import Code, describe
from brokercloud.core.commands import Role
from brokercloud.gateway.identities import AuthError, IdentityStore, Session, User

MIN = 60_000
HOUR = 60 * MIN
T0 = 1_760_000_000_000
PW = "correct horse battery"

USERS = [
    User(user_id="inv1", broker="9A00", branch="01", role=Role.INVESTOR,
         accounts=("9A00-0000001",)),
    User(user_id="sales1", broker="9A00", branch="01", role=Role.SALESPERSON,
         accounts=("9A00-0000001", "9A00-0000002")),
    User(user_id="clerk1", broker="9A00", branch="01", role=Role.CLERK),
    User(user_id="sup1", broker="9A00", branch="01", role=Role.SUPERVISOR, level=2),
    User(user_id="admin1", broker="9A00", role=Role.BROKER_ADMIN),
    User(user_id="op1", broker="", role=Role.OPERATOR),
    User(user_id="dma1", broker="9A00", role=Role.DMA_CLIENT, accounts=("9A00-0000009",)),
    User(user_id="inv2", broker="5850", branch="02", role=Role.INVESTOR,
         accounts=("5850-0000001",)),
]
BY_ID = {user.user_id: user for user in USERS}


class CountingHasher(argon2.PasswordHasher):
    """The default parameters, counting verifies (to prove which attempts hash at all)."""

    def __init__(self) -> None:
        super().__init__(time_cost=2, memory_cost=19 * 1024, parallelism=1, hash_len=32,
                         salt_len=16, type=argon2.Type.ID)
        self.verifies = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        self.verifies += 1
        return super().verify(hash, password)


def _store(path: Path, **options: int) -> IdentityStore:
    store = IdentityStore(path, **options)
    for user in (BY_ID["inv1"], BY_ID["sales1"], BY_ID["op1"]):
        store.add_user(user, PW)
    return store


@pytest.fixture
def store(tmp_path: Path) -> Iterator[IdentityStore]:
    store = _store(tmp_path / "ids.db")
    yield store
    store.close()


def login(store: IdentityStore, user_id: str, password: str, now_ms: int) -> Session:
    return asyncio.run(store.login(user_id, password, now_ms))


def refused(store: IdentityStore, user_id: str, password: str, now_ms: int) -> Code:
    with pytest.raises(AuthError) as caught:
        login(store, user_id, password, now_ms)
    return caught.value.code


def session_code(store: IdentityStore, token: str, now_ms: int) -> Code:
    with pytest.raises(AuthError) as caught:
        store.authenticate(token, now_ms)
    return caught.value.code


# -- users and login --------------------------------------------------------------------------

def test_login_when_every_role_then_token_authenticates_to_that_user(tmp_path: Path) -> None:
    store = IdentityStore(tmp_path / "ids.db")
    for user in USERS:
        store.add_user(user, PW + user.user_id)
    for user in USERS:
        session = login(store, user.user_id, PW + user.user_id, T0)
        assert session.user == user
        assert store.authenticate(session.token, T0 + MIN) == user
    assert {user.role for user in USERS} == set(Role)
    assert [u.user_id for u in store.users_of("9A00")] == sorted(
        u.user_id for u in USERS if u.broker == "9A00")
    assert store.users_of("") == [BY_ID["op1"]]
    assert store.get("sup1") == BY_ID["sup1"] and store.get("nobody") is None
    store.close()


def test_login_when_tokens_issued_then_each_is_new_and_random(store: IdentityStore) -> None:
    tokens = {login(store, "inv1", PW, T0).token for _ in range(3)}
    assert len(tokens) == 3 and all(len(token) >= 43 for token in tokens)


def test_login_when_wrong_password_then_invalid_credentials(store: IdentityStore) -> None:
    assert refused(store, "inv1", PW + "x", T0) is Code.INVALID_CREDENTIALS


def test_login_when_unknown_user_then_the_same_code_and_a_dummy_hash_is_verified(
        tmp_path: Path) -> None:
    hasher = CountingHasher()
    store = IdentityStore(tmp_path / "ids.db", hasher=hasher)
    store.add_user(BY_ID["inv1"], PW)
    assert refused(store, "ghost", PW, T0) is Code.INVALID_CREDENTIALS
    assert hasher.verifies == 1
    store.close()


def test_login_when_unknown_user_or_wrong_password_then_timing_is_alike(tmp_path: Path) -> None:
    store = IdentityStore(tmp_path / "ids.db", max_failures=100)
    store.add_user(BY_ID["inv1"], PW)

    times: dict[str, list[float]] = {"inv1": [], "ghost": []}
    for _ in range(9):  # interleaved, so a busy machine slows both alike
        for user_id, samples in times.items():
            start = time.perf_counter()
            refused(store, user_id, "wrong", T0)
            samples.append(time.perf_counter() - start)
    wrong, unknown = (statistics.median(samples) for samples in times.values())
    assert 0.5 < unknown / wrong < 2, (wrong, unknown)
    store.close()


def test_auth_error_when_raised_then_carries_code_and_its_sentence() -> None:
    error = AuthError(Code.USER_LOCKED)
    assert error.code is Code.USER_LOCKED and str(error) == describe(Code.USER_LOCKED)


def test_add_user_when_duplicate_or_broker_does_not_fit_role_then_refused(
        store: IdentityStore) -> None:
    for user, code in [
        (BY_ID["inv1"], Code.ALREADY_EXISTS),
        (User(user_id="op2", broker="9A00", role=Role.OPERATOR), Code.INVALID_REFERENCE_DATA),
        (User(user_id="inv9", broker="", role=Role.INVESTOR), Code.INVALID_REFERENCE_DATA),
        (User(user_id="", broker="9A00", role=Role.CLERK), Code.INVALID_REFERENCE_DATA),
    ]:
        with pytest.raises(AuthError) as caught:
            store.add_user(user, PW)
        assert caught.value.code is code


# -- lockout ------------------------------------------------------------------------------------

def test_login_when_five_failures_then_locked_even_with_the_right_password_until_expiry(
        tmp_path: Path) -> None:
    hasher = CountingHasher()
    store = IdentityStore(tmp_path / "ids.db", hasher=hasher)
    store.add_user(BY_ID["inv1"], PW)
    codes = [refused(store, "inv1", "guess", T0 + i) for i in range(5)]
    assert codes == [Code.INVALID_CREDENTIALS] * 4 + [Code.USER_LOCKED]
    verifies = hasher.verifies
    assert refused(store, "inv1", PW, T0 + MIN) is Code.USER_LOCKED
    assert refused(store, "inv1", PW, T0 + 4 + 15 * MIN - 1) is Code.USER_LOCKED
    assert hasher.verifies == verifies  # a locked ID costs no hashing
    assert login(store, "inv1", PW, T0 + 4 + 15 * MIN).user == BY_ID["inv1"]
    store.close()


def test_login_when_lock_expired_then_five_more_tries_before_the_next_lock(
        store: IdentityStore) -> None:
    for i in range(5):
        refused(store, "inv1", "guess", T0 + i)
    later = T0 + 20 * MIN
    codes = [refused(store, "inv1", "guess", later + i) for i in range(5)]
    assert codes == [Code.INVALID_CREDENTIALS] * 4 + [Code.USER_LOCKED]


def test_login_when_success_between_failures_then_counter_resets(store: IdentityStore) -> None:
    for i in range(4):
        refused(store, "inv1", "guess", T0 + i)
    login(store, "inv1", PW, T0 + 10)
    codes = [refused(store, "inv1", "guess", T0 + 20 + i) for i in range(5)]
    assert codes == [Code.INVALID_CREDENTIALS] * 4 + [Code.USER_LOCKED]


def test_login_when_unknown_user_fails_five_times_then_locked_like_a_real_one(
        store: IdentityStore) -> None:
    codes = [refused(store, "ghost", "guess", T0 + i) for i in range(6)]
    assert codes == [Code.INVALID_CREDENTIALS] * 4 + [Code.USER_LOCKED] * 2


def test_unlock_and_set_password_when_locked_then_lock_lifted(store: IdentityStore) -> None:
    for user_id in ("inv1", "sales1"):
        for i in range(5):
            refused(store, user_id, "guess", T0 + i)
    store.unlock("inv1")
    store.set_password("sales1", "new password")
    assert login(store, "inv1", PW, T0 + MIN).user.user_id == "inv1"
    assert login(store, "sales1", "new password", T0 + MIN).user.user_id == "sales1"


# -- sessions -----------------------------------------------------------------------------------

def test_authenticate_when_idle_too_long_then_session_invalid(store: IdentityStore) -> None:
    token = login(store, "inv1", PW, T0).token
    assert store.authenticate(token, T0 + 30 * MIN - 1) == BY_ID["inv1"]
    stale = login(store, "inv1", PW, T0).token
    assert session_code(store, stale, T0 + 30 * MIN) is Code.SESSION_INVALID
    assert session_code(store, stale, T0 + 30 * MIN + 1) is Code.SESSION_INVALID


def test_authenticate_when_used_then_idle_expiry_slides(store: IdentityStore) -> None:
    token = login(store, "inv1", PW, T0).token
    store.authenticate(token, T0 + 29 * MIN)
    store.authenticate(token, T0 + 58 * MIN)  # alive: the use at 29 min moved expiry to 59
    assert store.authenticate(token, T0 + 87 * MIN) == BY_ID["inv1"]
    assert session_code(store, token, T0 + 117 * MIN) is Code.SESSION_INVALID


def test_authenticate_when_used_all_day_then_ends_at_the_absolute_lifetime(
        store: IdentityStore) -> None:
    token = login(store, "inv1", PW, T0).token
    for k in range(1, 36):
        store.authenticate(token, T0 + k * 20 * MIN)  # last at 11 h 40 min
    assert session_code(store, token, T0 + 12 * HOUR) is Code.SESSION_INVALID


def test_authenticate_when_unknown_token_then_session_invalid(store: IdentityStore) -> None:
    assert session_code(store, "not-a-token", T0) is Code.SESSION_INVALID


def test_logout_when_one_session_ended_then_others_still_valid(store: IdentityStore) -> None:
    first, second = (login(store, "inv1", PW, T0).token for _ in range(2))
    store.logout(first)
    store.logout(first)  # twice is harmless
    assert session_code(store, first, T0 + 1) is Code.SESSION_INVALID
    assert store.authenticate(second, T0 + 1) == BY_ID["inv1"]


def test_logout_all_when_called_then_every_session_of_that_user_ends(
        store: IdentityStore) -> None:
    mine = [login(store, "inv1", PW, T0).token for _ in range(2)]
    theirs = login(store, "sales1", PW, T0).token
    assert store.logout_all("inv1") == 2
    for token in mine:
        assert session_code(store, token, T0 + 1) is Code.SESSION_INVALID
    assert store.authenticate(theirs, T0 + 1) == BY_ID["sales1"]


def test_authenticate_when_a_used_session_ends_any_way_then_refused_at_once(
        tmp_path: Path) -> None:
    """A verified session is remembered, and forgotten by every way a session ends, including a
    logout by another connection to the database (another AP process)."""
    store = _store(tmp_path / "ids.db", shared_writes_ms=0)
    tokens = [login(store, user_id, PW, T0).token
              for user_id in ("inv1", "sales1", "op1", "op1")]
    for token in tokens:
        store.authenticate(token, T0 + 1)
    store.logout(tokens[0])
    store.logout_all("sales1")
    store.set_password("op1", "another one")
    for token in tokens[:3]:
        assert session_code(store, token, T0 + 2) is Code.SESSION_INVALID
    fresh = login(store, "inv1", PW, T0).token
    assert store.authenticate(fresh, T0 + 3) == BY_ID["inv1"]
    other_process = IdentityStore(tmp_path / "ids.db")
    other_process.logout(fresh)
    other_process.close()
    assert session_code(store, fresh, T0 + 4) is Code.SESSION_INVALID
    store.close()


def test_set_password_when_changed_then_old_password_and_sessions_no_longer_work(
        store: IdentityStore) -> None:
    token = login(store, "inv1", PW, T0).token
    asyncio.run(store.set_password_async("inv1", "another one"))
    assert session_code(store, token, T0 + 1) is Code.SESSION_INVALID
    assert refused(store, "inv1", PW, T0 + 2) is Code.INVALID_CREDENTIALS
    assert login(store, "inv1", "another one", T0 + 3).user == BY_ID["inv1"]
    with pytest.raises(AuthError) as caught:
        store.set_password("ghost", "pw")
    assert caught.value.code is Code.INVALID_CREDENTIALS


def test_prune_when_expired_then_sessions_and_unknown_ids_failures_go(
        store: IdentityStore) -> None:
    old, live = (login(store, "inv1", PW, T0 + i * 20 * MIN).token for i in range(2))
    refused(store, "ghost", "guess", T0)
    refused(store, "sales1", "guess", T0)
    store.prune(T0 + 31 * MIN)
    assert store.db.execute("SELECT count(*) FROM identity_sessions").fetchone() == (1,)
    assert store.authenticate(live, T0 + 31 * MIN) == BY_ID["inv1"]
    assert [row[0] for row in store.db.execute("SELECT user_id FROM identity_failures")] == [
        "sales1"]
    assert session_code(store, old, T0 + 31 * MIN) is Code.SESSION_INVALID


# -- storage ------------------------------------------------------------------------------------

def test_sessions_table_when_inspected_then_holds_only_token_hashes(store: IdentityStore) -> None:
    token = login(store, "inv1", PW, T0).token
    rows = store.db.execute("SELECT * FROM identity_sessions").fetchall()
    assert len(rows) == 1
    dump = "\n".join(store.db.iterdump())
    assert token not in dump and token.encode() not in rows[0]
    assert rows[0][0] == hashlib.sha256(token.encode()).digest()
    assert PW not in dump


def test_password_hash_when_stored_then_argon2id_with_the_chosen_parameters(
        store: IdentityStore) -> None:
    (stored,) = store.db.execute(
        "SELECT password_hash FROM identity_users WHERE user_id = 'inv1'").fetchone()
    params = argon2.extract_parameters(stored)
    assert stored.startswith("$argon2id$")
    assert (params.memory_cost, params.time_cost, params.parallelism) == (19 * 1024, 2, 1)


def test_login_when_hash_has_old_parameters_then_rehashed_with_current_ones(
        tmp_path: Path) -> None:
    cheap = argon2.PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    old = IdentityStore(tmp_path / "ids.db", hasher=cheap)
    old.add_user(BY_ID["inv1"], PW)
    old.close()
    store = IdentityStore(tmp_path / "ids.db")
    login(store, "inv1", PW, T0)
    (stored,) = store.db.execute("SELECT password_hash FROM identity_users").fetchone()
    assert argon2.extract_parameters(stored).memory_cost == 19 * 1024
    assert login(store, "inv1", PW, T0 + 1).user == BY_ID["inv1"]
    store.close()


def test_reopen_when_restarted_then_users_sessions_and_locks_survive(tmp_path: Path) -> None:
    first = IdentityStore(tmp_path / "ids.db")
    for user in USERS:
        first.add_user(user, PW)
    token = login(first, "sup1", PW, T0).token
    for i in range(5):
        refused(first, "inv1", "guess", T0 + i)
    first.close()
    again = IdentityStore(tmp_path / "ids.db")
    assert [again.get(user.user_id) for user in USERS] == USERS
    assert again.authenticate(token, T0 + MIN) == BY_ID["sup1"]
    assert refused(again, "inv1", PW, T0 + MIN) is Code.USER_LOCKED
    again.close()


def test_store_when_given_a_shared_connection_then_leaves_it_open(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "shared.db")
    store = IdentityStore(db)
    store.add_user(BY_ID["clerk1"], PW)
    store.close()
    assert db.execute("SELECT user_id FROM identity_users").fetchall() == [("clerk1",)]
    db.close()


# -- the event loop -----------------------------------------------------------------------------

def test_login_when_four_hash_at_once_then_the_event_loop_keeps_running(tmp_path: Path) -> None:
    store = IdentityStore(tmp_path / "ids.db")
    for user in USERS[:4]:
        store.add_user(user, PW)

    async def scenario() -> tuple[float, list[float]]:
        gaps: list[float] = []
        done = asyncio.Event()

        async def ticker() -> None:
            last = time.perf_counter()
            while not done.is_set():
                await asyncio.sleep(0.001)
                now = time.perf_counter()
                gaps.append(now - last)
                last = now

        task = asyncio.create_task(ticker())
        await asyncio.sleep(0.005)
        gaps.clear()
        start = time.perf_counter()
        sessions = await asyncio.gather(*(store.login(u.user_id, PW, T0) for u in USERS[:4]))
        elapsed = time.perf_counter() - start
        done.set()
        await task
        assert [s.user for s in sessions] == USERS[:4]
        return elapsed, gaps

    elapsed, gaps = asyncio.run(scenario())
    # Hashing on the loop would stall it for the whole batch (4 x ~24 ms); off the loop the
    # ticker keeps its 1 ms beat, give or take the scheduler.
    assert len(gaps) >= 10, (elapsed, gaps)
    assert max(gaps) < elapsed / 2, (elapsed, max(gaps))
    store.close()
