"""TokenBucket, driven by an injected clock (times chosen to be exact in binary floating point)."""

from __future__ import annotations

import pytest

from brokercloud.fix.throttle import TokenBucket


def take_all(bucket: TokenBucket, now: float) -> int:
    taken = 0
    while bucket.try_acquire(now):
        taken += 1
    return taken


def test_a_new_bucket_holds_its_burst() -> None:
    bucket = TokenBucket(rate=4, burst=3)
    assert [bucket.try_acquire(0.0) for _ in range(4)] == [True, True, True, False]


def test_burst_defaults_to_one_second_of_rate() -> None:
    assert take_all(TokenBucket(rate=8), 0.0) == 8


def test_tokens_come_back_at_the_rate() -> None:
    bucket = TokenBucket(rate=4, burst=1)
    assert bucket.try_acquire(0.0)
    assert not bucket.try_acquire(0.125)  # half a token
    assert not bucket.try_acquire(0.125)
    assert bucket.try_acquire(0.25)  # the second half arrived
    assert not bucket.try_acquire(0.25)


def test_a_long_idle_spell_saves_no_more_than_the_burst() -> None:
    bucket = TokenBucket(rate=4, burst=2)
    assert take_all(bucket, 0.0) == 2
    assert take_all(bucket, 1000.0) == 2


def test_a_clock_going_backwards_neither_adds_tokens_nor_moves_the_reference() -> None:
    bucket = TokenBucket(rate=4, burst=2)
    assert take_all(bucket, 10.0) == 2
    assert not bucket.try_acquire(5.0)
    assert bucket.wait_time(5.0) == 0.25
    # had the reference moved back to 5.0, 10.25 would find the bucket full (2 tokens)
    assert take_all(bucket, 10.25) == 1


def test_wait_time_says_exactly_when_the_next_token_is_due() -> None:
    bucket = TokenBucket(rate=4, burst=1)
    assert bucket.wait_time(0.0) == 0.0
    assert bucket.try_acquire(0.0)
    assert bucket.wait_time(0.0) == 0.25
    assert bucket.wait_time(0.125) == 0.125
    assert not bucket.try_acquire(0.125)
    assert bucket.try_acquire(0.125 + bucket.wait_time(0.125))


def test_wait_time_takes_no_token() -> None:
    bucket = TokenBucket(rate=4, burst=1)
    for _ in range(3):
        assert bucket.wait_time(0.0) == 0.0
    assert bucket.try_acquire(0.0)


def test_sustained_rate_is_burst_plus_rate_times_duration() -> None:
    bucket = TokenBucket(rate=128, burst=8)
    taken = sum(bucket.try_acquire(step / 1024) for step in range(10 * 1024 + 1))
    assert taken == 8 + 128 * 10


def test_a_rate_below_one_per_second_still_lets_messages_through() -> None:
    bucket = TokenBucket(rate=0.5)  # one message every two seconds
    assert bucket.try_acquire(0.0)
    assert not bucket.try_acquire(1.0)
    assert bucket.wait_time(1.0) == 1.0
    assert bucket.try_acquire(2.0)


@pytest.mark.parametrize(("rate", "burst"), [(0, None), (-1, None), (4, 0.5), (4, 0)])
def test_a_bucket_that_could_never_give_a_token_is_refused(
        rate: float, burst: float | None) -> None:
    with pytest.raises(ValueError):
        TokenBucket(rate, burst)
