"""Net amounts are pushed to the account's subscribers the moment a booking changes them."""

from __future__ import annotations

import asyncio
import threading

from tests.backoffice.support import (
    ACCOUNT,
    BROKER,
    BUY,
    DISCOUNTED,
    FRI,
    MARGIN,
    SELL,
    WED,
    fill,
    ledger,
)

from brokercloud.backoffice.nets import NetAmount, subscribe_queue


def test_subscribe_when_fills_booked_then_each_change_pushed_with_exact_net() -> None:
    books = ledger()
    seen: list[NetAmount] = []
    books.feed.subscribe(ACCOUNT, seen.append)
    books.apply(fill(BUY, 10_000, 7_620, credit=MARGIN))
    books.apply(fill(SELL, 5_000, 7_730))
    assert seen == [
        NetAmount(BROKER, ACCOUNT, WED, FRI, receivable=0, payable=306_085, net=-306_085,
                  fills=1),
        NetAmount(BROKER, ACCOUNT, WED, FRI, receivable=384_791, payable=306_085, net=78_706,
                  fills=2),
    ]


def test_subscribe_when_other_account_or_redelivery_then_nothing_pushed() -> None:
    books = ledger()
    seen: list[NetAmount] = []
    books.feed.subscribe(ACCOUNT, seen.append)
    command = fill(BUY, 1_000, 7_620)
    books.apply(command)
    books.apply(command)  # delivered again: no change, no push
    books.apply(fill(BUY, 1_000, 7_620, account=DISCOUNTED))
    assert [amount.fills for amount in seen] == [1]


def test_unsubscribe_when_called_then_no_more_pushes() -> None:
    books = ledger()
    seen: list[NetAmount] = []
    stop = books.feed.subscribe(ACCOUNT, seen.append)
    books.apply(fill(BUY, 1_000, 7_620))
    stop()
    books.apply(fill(BUY, 1_000, 7_620))
    assert len(seen) == 1
    assert books.feed.listeners == {}


def test_subscribe_when_listener_raises_then_booking_goes_on() -> None:
    books = ledger()
    seen: list[NetAmount] = []

    def broken(amount: NetAmount) -> None:
        raise RuntimeError("front end bug")

    books.feed.subscribe(ACCOUNT, broken)
    books.feed.subscribe(ACCOUNT, seen.append)
    assert books.apply(fill(BUY, 1_000, 7_620)) == 0
    assert len(seen) == 1 and len(books.bookings) == 1


def test_subscribe_queue_when_booked_on_another_thread_then_arrives_on_the_loop() -> None:
    async def scenario() -> list[int]:
        books = ledger()
        queue, stop = subscribe_queue(books.feed, ACCOUNT, asyncio.get_running_loop())
        worker = threading.Thread(target=lambda: [books.apply(fill(BUY, 1_000, 7_620))
                                                  for _ in range(3)])
        worker.start()
        worker.join()
        nets = [(await asyncio.wait_for(queue.get(), 5)).net for _ in range(3)]
        stop()
        return nets

    # each lot: 76,200 + commission 108.585 -> 108
    assert asyncio.run(scenario()) == [-76_308, -152_616, -228_924]


def test_subscribe_queue_when_full_then_oldest_dropped_newest_kept() -> None:
    async def scenario() -> list[int]:
        books = ledger()
        queue, _ = subscribe_queue(books.feed, ACCOUNT, asyncio.get_running_loop(),
                                   maxsize=2)
        for _ in range(3):
            books.apply(fill(BUY, 1_000, 7_620))
        await asyncio.sleep(0)
        return [queue.get_nowait().fills for _ in range(queue.qsize())]

    assert asyncio.run(scenario()) == [2, 3]


def test_subscribe_all_when_any_account_books_then_told_until_unsubscribed() -> None:
    books = ledger()
    seen: list[NetAmount] = []
    stop = books.feed.subscribe_all(seen.append)
    books.apply(fill(BUY, 1_000, 7_620))
    books.apply(fill(BUY, 1_000, 7_620, account=DISCOUNTED))
    stop()
    books.apply(fill(BUY, 2_000, 7_620))
    assert [(amount.account, amount.fills) for amount in seen] == [(ACCOUNT, 1),
                                                                    (DISCOUNTED, 1)]
    assert books.feed.everyone == []
