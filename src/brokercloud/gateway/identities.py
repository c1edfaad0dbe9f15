"""Users of every role, their passwords, lockout and sessions, kept in SQLite.

- Passwords are argon2id (parameters and measured cost, ~24 ms a verify, in ``passwords``),
  hashed in a bounded thread pool: ``login`` is async and a login storm neither blocks the event
  loop nor takes more than one core per pool thread. The SQLite work stays on the loop's thread.
- An unknown ID is verified against a dummy hash and counts failures like a real one, so the
  answer, its timing and the lockout reveal nothing about which IDs exist.
- ``max_failures`` consecutive failures lock the ID for ``lockout_ms``, even against the right
  password; a success resets the count. While locked no hash runs: guesses cost us no CPU.
- Session tokens are 256 random bits stored only as SHA-256 (enough for a random secret), so a
  copy of the database holds no live token. A session ends ``idle_ms`` after its last use or
  ``lifetime_ms`` after login, whichever is first. Times are injected (ms since the epoch).
- Sessions this store has verified are remembered in memory, so an order's authentication is a
  hash and a dict lookup, not a query (even a one-line query costs the event loop a release and
  re-acquisition of the GIL): this store's own logouts drop them at once, and a commit to the
  database by another connection (another AP process logging out, say; SQLite's
  ``data_version``, read at most every ``shared_writes_ms``) forgets them all.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import time
from pathlib import Path
from typing import Any

import argon2
import msgspec

from brokercloud.codes import Code, describe
from brokercloud.core.commands import Role
from brokercloud.gateway.passwords import Passwords

_SCHEMA = """
CREATE TABLE IF NOT EXISTS identity_users (
    user_id TEXT PRIMARY KEY, broker TEXT NOT NULL, branch TEXT NOT NULL, role TEXT NOT NULL,
    accounts TEXT NOT NULL, level INTEGER NOT NULL, password_hash TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS identity_users_by_broker ON identity_users (broker);
CREATE TABLE IF NOT EXISTS identity_failures (
    user_id TEXT PRIMARY KEY, failures INTEGER NOT NULL, last_failure_ms INTEGER NOT NULL,
    locked_until_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS identity_sessions (
    token_sha256 BLOB PRIMARY KEY, user_id TEXT NOT NULL, created_ms INTEGER NOT NULL,
    idle_expires_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS identity_sessions_by_user ON identity_sessions (user_id);
"""
_USER_COLUMNS = "u.user_id, u.broker, u.branch, u.role, u.accounts, u.level"
MINUTE_MS = 60_000


class User(msgspec.Struct, frozen=True, kw_only=True):
    """Who acts: ``broker`` is '' only for the platform operator; ``accounts`` are the accounts
    this user may act for (an investor's own, a salesperson's customers), empty for staff who
    act broker-wide; ``level`` is a supervisor's approval level (0 for other roles)."""

    user_id: str
    broker: str
    role: Role
    branch: str = ""
    accounts: tuple[str, ...] = ()
    level: int = 0


class Session(msgspec.Struct, frozen=True, kw_only=True):
    """A login: ``token`` is handed to the client once and never stored in clear."""

    token: str
    user: User
    created_ms: int
    idle_expires_ms: int  # slides forward on every authenticate
    expires_ms: int  # absolute: the session ends here whatever its use


class AuthError(Exception):
    """A refused identity operation, with its result code and the code's fixed sentence."""

    def __init__(self, code: Code) -> None:
        super().__init__(describe(code))
        self.code = code


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


def _user(row: Any) -> User:
    user_id, broker, branch, role, accounts, level = row[:6]
    return User(user_id=user_id, broker=broker, branch=branch, role=Role(role),
                accounts=tuple(msgspec.json.decode(accounts)), level=level)


class IdentityStore:
    """Users, password hashes, failed-login counts and sessions in one SQLite database.

    ``db`` is a path (opened in WAL mode, closed by ``close``) or a connection the caller owns
    and may share; each write here commits at once (and so commits what the caller had pending).
    Users and sessions change only through this store: a write to them through a shared
    connection would not reach the sessions it remembers.
    """

    def __init__(self, db: str | Path | sqlite3.Connection, *,
                 hasher: argon2.PasswordHasher | None = None, max_failures: int = 5,
                 lockout_ms: int = 15 * MINUTE_MS, idle_ms: int = 30 * MINUTE_MS,
                 lifetime_ms: int = 12 * 60 * MINUTE_MS,
                 max_concurrent_hashes: int | None = None,
                 shared_writes_ms: int = 100) -> None:
        self._owns_db = not isinstance(db, sqlite3.Connection)
        if isinstance(db, sqlite3.Connection):
            self.db = db
        else:
            self.db = sqlite3.connect(db, check_same_thread=False)
            self.db.executescript("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
        self.db.executescript(_SCHEMA)
        self.passwords = Passwords(hasher, max_concurrent_hashes)
        self.max_failures, self.lockout_ms = max_failures, lockout_ms
        self.idle_ms, self.lifetime_ms = idle_ms, lifetime_ms
        # Refreshing the idle expiry is a write; skip it while the stored expiry is less than a
        # thirtieth of the idle time (a minute by default) behind, so busy clients cost a read.
        self._refresh_step_ms = max(1, idle_ms // 30)
        #: token digest -> (user, idle expiry, absolute expiry), as stored (module docstring)
        self._verified: dict[bytes, tuple[User, int, int]] = {}
        self._shared_writes_s = shared_writes_ms / 1000
        self._data_version = self._read_data_version()
        self._data_version_read = time.monotonic()

    # -- users ----------------------------------------------------------------------------------
    def add_user(self, user: User, password: str) -> None:
        """Add a user, hashing on this thread (setup and tests; from async code use
        ``add_user_async``). Raises ALREADY_EXISTS, or INVALID_REFERENCE_DATA for a user whose
        broker does not fit its role."""
        self._check_user(user)
        self._insert_user(user, self.passwords.hash(password))

    async def add_user_async(self, user: User, password: str) -> None:
        self._check_user(user)
        self._insert_user(user, await self.passwords.hash_async(password))

    def get(self, user_id: str) -> User | None:
        row = self.db.execute(f"SELECT {_USER_COLUMNS} FROM identity_users u WHERE user_id = ?",
                              (user_id,)).fetchone()
        return None if row is None else _user(row)

    def users_of(self, broker: str) -> list[User]:
        """The users of one broker ('' for the platform's operators), by user ID."""
        rows = self.db.execute(f"SELECT {_USER_COLUMNS} FROM identity_users u WHERE broker = ? "
                               "ORDER BY user_id", (broker,))
        return [_user(row) for row in rows]

    def set_password(self, user_id: str, password: str) -> None:
        """Replace a password (hashing on this thread); see ``_replace_hash``."""
        self._replace_hash(user_id, self.passwords.hash(password))

    async def set_password_async(self, user_id: str, password: str) -> None:
        self._replace_hash(user_id, await self.passwords.hash_async(password))

    def unlock(self, user_id: str) -> None:
        """Forget a user's failed logins (an administrator lifting a lockout)."""
        self.db.execute("DELETE FROM identity_failures WHERE user_id = ?", (user_id,))
        self.db.commit()

    # -- login ----------------------------------------------------------------------------------
    async def login(self, user_id: str, password: str, now_ms: int) -> Session:
        """Check a password and open a session. Raises INVALID_CREDENTIALS for an unknown user
        or a wrong password, USER_LOCKED while the ID is locked (and on the failure that
        locks it)."""
        self._check_unlocked(user_id, now_ms)
        row = self.db.execute(f"SELECT {_USER_COLUMNS}, u.password_hash FROM identity_users u "
                              "WHERE user_id = ?", (user_id,)).fetchone()
        stored = self.passwords.dummy_hash if row is None else row[6]
        matched = await self.passwords.run(self.passwords.verify, stored, password)
        if row is None or not matched:
            self._record_failure(user_id, now_ms)
            raise AuthError(Code.INVALID_CREDENTIALS)
        # Failures recorded by concurrent logins while we hashed may have locked the ID.
        self._check_unlocked(user_id, now_ms)
        if self.passwords.needs_rehash(stored):
            upgraded = await self.passwords.hash_async(password)
            # Only if nobody changed the password meanwhile.
            self.db.execute("UPDATE identity_users SET password_hash = ? "
                            "WHERE user_id = ? AND password_hash = ?", (upgraded, user_id, stored))
        self.db.execute("DELETE FROM identity_failures WHERE user_id = ?", (user_id,))
        token = secrets.token_urlsafe(32)
        session = Session(token=token, user=_user(row), created_ms=now_ms,
                          idle_expires_ms=now_ms + min(self.idle_ms, self.lifetime_ms),
                          expires_ms=now_ms + self.lifetime_ms)
        self.db.execute("INSERT INTO identity_sessions VALUES (?, ?, ?, ?, ?)",
                        (_digest(token), user_id, now_ms, session.idle_expires_ms,
                         session.expires_ms))
        self.db.commit()
        return session

    def _check_unlocked(self, user_id: str, now_ms: int) -> None:
        row = self.db.execute("SELECT locked_until_ms FROM identity_failures WHERE user_id = ?",
                              (user_id,)).fetchone()
        if row is not None and now_ms < row[0]:
            raise AuthError(Code.USER_LOCKED)

    def _record_failure(self, user_id: str, now_ms: int) -> None:
        """Count a failure; the ``max_failures``-th locks the ID and restarts the count, so after
        the lock expires the ID again has ``max_failures`` tries."""
        row = self.db.execute("SELECT failures FROM identity_failures WHERE user_id = ?",
                              (user_id,)).fetchone()
        failures = (0 if row is None else row[0]) + 1
        locks = failures >= self.max_failures
        self.db.execute(
            "INSERT OR REPLACE INTO identity_failures VALUES (?, ?, ?, ?)",
            (user_id, 0 if locks else failures, now_ms, now_ms + self.lockout_ms if locks else 0))
        self.db.commit()
        if locks:
            raise AuthError(Code.USER_LOCKED)

    # -- sessions -------------------------------------------------------------------------------
    def authenticate(self, token: str, now_ms: int) -> User:
        """The user a token belongs to; slides the idle expiry. Raises SESSION_INVALID for an
        unknown, expired or logged-out token."""
        digest = _digest(token)
        if time.monotonic() - self._data_version_read >= self._shared_writes_s:
            self._forget_if_written_elsewhere()
        verified = self._verified.get(digest)
        if verified is None:
            row = self.db.execute(
                f"SELECT {_USER_COLUMNS}, s.idle_expires_ms, s.expires_ms "
                "FROM identity_sessions s JOIN identity_users u ON u.user_id = s.user_id "
                "WHERE s.token_sha256 = ?", (digest,)).fetchone()
            if row is None:
                raise AuthError(Code.SESSION_INVALID)
            verified = self._verified[digest] = (_user(row), row[6], row[7])
        user, idle_expires_ms, expires_ms = verified
        if now_ms >= idle_expires_ms:  # idle_expires_ms never passes expires_ms
            self.logout(token)
            raise AuthError(Code.SESSION_INVALID)
        refreshed = min(now_ms + self.idle_ms, expires_ms)
        if refreshed - idle_expires_ms >= self._refresh_step_ms:
            self.db.execute("UPDATE identity_sessions SET idle_expires_ms = ? "
                            "WHERE token_sha256 = ?", (refreshed, digest))
            self.db.commit()
            self._verified[digest] = (user, refreshed, expires_ms)
        return user

    def logout(self, token: str) -> None:
        """End one session; a token already gone is not an error (logging out twice is fine)."""
        digest = _digest(token)
        self._verified.pop(digest, None)
        self.db.execute("DELETE FROM identity_sessions WHERE token_sha256 = ?", (digest,))
        self.db.commit()

    def logout_all(self, user_id: str) -> int:
        """End every session of a user (lost device, staff leaving); returns how many ended."""
        self._forget_sessions_of(user_id)
        ended = self.db.execute("DELETE FROM identity_sessions WHERE user_id = ?",
                                (user_id,)).rowcount
        self.db.commit()
        return ended

    def prune(self, now_ms: int) -> None:
        """Delete expired sessions, and the failure counts of unknown IDs once they no longer
        matter, so guessing random IDs does not grow the database without end."""
        self._verified = {digest: verified for digest, verified in self._verified.items()
                          if verified[1] > now_ms}
        self.db.execute("DELETE FROM identity_sessions WHERE idle_expires_ms <= ?", (now_ms,))
        self.db.execute(
            "DELETE FROM identity_failures WHERE locked_until_ms <= ? AND last_failure_ms <= ? "
            "AND user_id NOT IN (SELECT user_id FROM identity_users)",
            (now_ms, now_ms - self.lockout_ms))
        self.db.commit()

    def close(self) -> None:
        self.passwords.close()
        if self._owns_db:
            self.db.close()

    # -- internals ------------------------------------------------------------------------------
    def _read_data_version(self) -> int:
        """Changes whenever another connection commits to the database (not for our own)."""
        return self.db.execute("PRAGMA data_version").fetchone()[0]

    def _forget_if_written_elsewhere(self) -> None:
        data_version = self._read_data_version()
        self._data_version_read = time.monotonic()
        if data_version != self._data_version:  # trust no remembered session
            self._verified.clear()
            self._data_version = data_version

    def _forget_sessions_of(self, user_id: str) -> None:
        self._verified = {digest: verified for digest, verified in self._verified.items()
                          if verified[0].user_id != user_id}

    @staticmethod
    def _check_user(user: User) -> None:
        if not user.user_id or (user.role is Role.OPERATOR) != (user.broker == ""):
            raise AuthError(Code.INVALID_REFERENCE_DATA)

    def _insert_user(self, user: User, password_hash: str) -> None:
        try:
            self.db.execute(
                "INSERT INTO identity_users VALUES (?, ?, ?, ?, ?, ?, ?)",
                (user.user_id, user.broker, user.branch, user.role.value,
                 msgspec.json.encode(user.accounts).decode(), user.level, password_hash))
        except sqlite3.IntegrityError:
            raise AuthError(Code.ALREADY_EXISTS) from None
        self.db.commit()

    def _replace_hash(self, user_id: str, password_hash: str) -> None:
        """A new password ends the user's sessions and lifts any lockout: whoever held the old
        one is out. Raises INVALID_CREDENTIALS for an unknown user."""
        updated = self.db.execute("UPDATE identity_users SET password_hash = ? WHERE user_id = ?",
                                  (password_hash, user_id)).rowcount
        if not updated:
            raise AuthError(Code.INVALID_CREDENTIALS)
        self._forget_sessions_of(user_id)
        self.db.execute("DELETE FROM identity_sessions WHERE user_id = ?", (user_id,))
        self.db.execute("DELETE FROM identity_failures WHERE user_id = ?", (user_id,))
        self.db.commit()
