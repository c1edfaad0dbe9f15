"""The SQLite nonce store: first claim wins, outcomes settle once, pruning by time, and the file
shared by a restarted or a second AP process."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from brokercloud.gateway.nonces import PRUNE_EVERY_MS, NonceStore, Prior

T = 1_764_032_400_000
SERIAL = 2**150 + 7  # certificate serials run to 159 bits: beyond SQLite's integers


@pytest.fixture
def store(tmp_path: Path) -> Iterator[NonceStore]:
    nonces = NonceStore(tmp_path / "nonces.db")
    yield nonces
    nonces.close()


def test_claim_when_nonce_new_then_first_and_recorded(store: NonceStore) -> None:
    assert store.prior(SERIAL, "n1") is None
    assert store.claim(SERIAL, "n1", b"d1", T) is None
    assert store.prior(SERIAL, "n1") == Prior(b"d1", None, None)
    assert store.prior(SERIAL + 1, "n1") is None  # nonces are per certificate


def test_claim_when_nonce_already_claimed_then_the_first_record(store: NonceStore) -> None:
    store.claim(SERIAL, "n1", b"d1", T)
    assert store.claim(SERIAL, "n1", b"other", T + 5) == Prior(b"d1", None, None)
    assert len(store) == 1


def test_settle_when_called_twice_then_first_outcome_kept(store: NonceStore) -> None:
    store.claim(SERIAL, "n1", b"d1", T)
    store.settle(SERIAL, "n1", order_id="20251125-00000001")
    store.settle(SERIAL, "n1", code=3003)
    assert store.prior(SERIAL, "n1") == Prior(b"d1", "20251125-00000001", None)
    store.claim(SERIAL, "n2", b"d2", T)
    store.settle(SERIAL, "n2", code=3003)
    assert store.prior(SERIAL, "n2") == Prior(b"d2", None, 3003)


def test_prune_when_time_passes_then_only_old_nonces_go_and_at_most_once_a_second(
        store: NonceStore) -> None:
    store.claim(SERIAL, "old", b"d", T)
    store.claim(SERIAL, "new", b"d", T + 10_000)
    assert store.prune(T + 1) == 1
    assert store.prior(SERIAL, "old") is None and store.prior(SERIAL, "new") is not None
    assert store.prune(T + PRUNE_EVERY_MS) == 0  # too soon: not even run
    assert store.prior(SERIAL, "new") is not None
    assert store.prune(T + 1 + PRUNE_EVERY_MS + 10_000) == 1
    assert len(store) == 0


def test_store_when_reopened_or_shared_then_claims_survive(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    first, second = NonceStore(path), NonceStore(path)
    assert first.claim(SERIAL, "n1", b"d1", T) is None
    assert second.claim(SERIAL, "n1", b"d1", T) == Prior(b"d1", None, None)
    second.settle(SERIAL, "n1", order_id="o1")
    first.close()
    restarted = NonceStore(path)
    assert restarted.prior(SERIAL, "n1") == Prior(b"d1", "o1", None)
    restarted.close()
    second.close()


def test_claim_when_threads_race_on_one_nonce_then_exactly_one_first(tmp_path: Path) -> None:
    path = tmp_path / "race.db"
    stores = [NonceStore(path) for _ in range(4)]
    firsts: list[bool] = []
    barrier = threading.Barrier(len(stores))

    def racer(store: NonceStore) -> None:
        barrier.wait()
        firsts.append(store.claim(SERIAL, "n", b"d", T) is None)

    threads = [threading.Thread(target=racer, args=(store,)) for store in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(firsts) == [False, False, False, True]
    for store in stores:
        store.close()
