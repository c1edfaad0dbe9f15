"""Password hashing with argon2id, and the bounded thread pool that runs it off the event loop.

Parameters: argon2id, m=19 MiB (19,456 KiB), t=2, p=1, 16-byte salt, 32-byte tag — the first
of the equivalent minimum configurations in the OWASP Password Storage Cheat Sheet ("Use Argon2id
with a minimum configuration of 19 MiB of memory, an iteration count of 2, and 1 degree of
parallelism"). p=1 on purpose: a login storm is many hashes at once, so each one should use one
core and leave the others to the rest of the AP server.

Measured on the development machine (2 vCPU Intel Xeon, Python 3.11, argon2-cffi 25.1): one
verify takes about 24 ms (median of 20; 23-30 ms), right or wrong password alike. So one core
verifies ~40 logins a second, and 2,000 users logging in at the open need ~25 core-seconds.

Why a pool of its own: argon2-cffi releases the GIL while hashing, so a thread pool keeps the
event loop serving orders while passwords are checked. Its size bounds how many hashes run at
once (default: one per CPU), which bounds both CPU and memory (19 MiB each); a storm of logins
waits in the pool's FIFO queue instead of taking every core, and the default executor stays free
for everything else.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import argon2
from argon2.exceptions import InvalidHashError, VerificationError

TIME_COST = 2
MEMORY_COST_KIB = 19 * 1024
PARALLELISM = 1
HASH_LEN = 32
SALT_LEN = 16

T = TypeVar("T")


def default_hasher() -> argon2.PasswordHasher:
    """The platform's argon2id hasher with the OWASP parameters above."""
    return argon2.PasswordHasher(
        time_cost=TIME_COST, memory_cost=MEMORY_COST_KIB, parallelism=PARALLELISM,
        hash_len=HASH_LEN, salt_len=SALT_LEN, type=argon2.Type.ID)


class Passwords:
    """Hashes and verifies passwords; the async methods run in a bounded pool of threads.

    ``dummy_hash`` is a hash of a random secret with the same parameters: verifying against it
    for an unknown user costs the same as a wrong password, so timing does not reveal which user
    IDs exist.
    """

    def __init__(self, hasher: argon2.PasswordHasher | None = None,
                 max_concurrent: int | None = None) -> None:
        self.hasher = hasher or default_hasher()
        self.max_concurrent = max_concurrent or os.cpu_count() or 1
        self._pool = ThreadPoolExecutor(self.max_concurrent, thread_name_prefix="argon2")
        self.dummy_hash = self.hash(secrets.token_urlsafe(16))

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    def verify(self, stored: str, password: str) -> bool:
        """True if the password matches; False for a mismatch or a malformed stored hash."""
        try:
            return self.hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        """True when the stored hash used other parameters than ours (upgrade it on login)."""
        try:
            return self.hasher.check_needs_rehash(stored)
        except InvalidHashError:
            return True

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        """Run ``fn(*args)`` in the hashing pool without blocking the event loop."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    async def hash_async(self, password: str) -> str:
        return await self.run(self.hash, password)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
