"""Password hashing: the OWASP argon2id parameters, verify outcomes, rehash detection and the
bounded pool that keeps a login storm to one core per pool thread."""

from __future__ import annotations

import asyncio
import threading
import time

import argon2

from brokercloud.gateway.passwords import Passwords, default_hasher

CHEAP = argon2.PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)


class ConcurrencyProbe(argon2.PasswordHasher):
    """Records the most verifies that ever ran at the same time."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=8 * 1024, parallelism=1)
        self.running = self.most = 0
        self._lock = threading.Lock()

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        with self._lock:
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            time.sleep(0.02)  # hold the slot long enough for the others to pile up
            return super().verify(hash, password)
        finally:
            with self._lock:
                self.running -= 1


def test_hash_when_default_then_argon2id_with_owasp_parameters() -> None:
    params = argon2.extract_parameters(default_hasher().hash("secret"))
    assert params.type is argon2.Type.ID
    assert (params.memory_cost, params.time_cost, params.parallelism) == (19 * 1024, 2, 1)
    assert (params.salt_len, params.hash_len) == (16, 32)


def test_verify_when_right_wrong_or_malformed_then_true_false_false() -> None:
    passwords = Passwords(CHEAP, 1)
    stored = passwords.hash("correct horse")
    assert passwords.verify(stored, "correct horse")
    assert not passwords.verify(stored, "correct horsE")
    assert not passwords.verify("not-a-hash", "correct horse")
    passwords.close()


def test_hash_when_same_password_twice_then_salts_differ() -> None:
    passwords = Passwords(CHEAP, 1)
    assert passwords.hash("pw") != passwords.hash("pw")
    passwords.close()


def test_needs_rehash_when_parameters_differ_then_true() -> None:
    ours = Passwords(None, 1)
    assert ours.needs_rehash(CHEAP.hash("pw"))
    assert not ours.needs_rehash(ours.hash("pw"))
    assert ours.needs_rehash("garbage")
    ours.close()


def test_dummy_hash_when_created_then_uses_the_same_parameters_as_real_hashes() -> None:
    passwords = Passwords(None, 1)
    assert argon2.extract_parameters(passwords.dummy_hash) == argon2.extract_parameters(
        passwords.hash("pw"))
    passwords.close()


def test_run_when_many_verifies_at_once_then_at_most_the_pool_size_run_together() -> None:
    probe = ConcurrencyProbe()
    passwords = Passwords(probe, 2)
    stored = passwords.hash("pw")

    async def storm() -> list[bool]:
        return await asyncio.gather(
            *(passwords.run(passwords.verify, stored, "pw") for _ in range(8)))

    assert asyncio.run(storm()) == [True] * 8
    assert probe.most == 2
    passwords.close()
