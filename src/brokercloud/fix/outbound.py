"""Numbering, stamping and recording an outbound message, with or without a live connection.

An acceptor may have to report to a session whose connection is down (the exchange fills an
order while its line reconnects): the report still takes the next sequence number and goes into
the store, and the peer recovers it with a ResendRequest after its next Logon.
"""

from __future__ import annotations

import time

from brokercloud.fix.codec import frame
from brokercloud.fix.store import SessionStore


class _SendingTime:
    """SendingTime text, formatted once per millisecond (a burst of messages shares it) and
    strftime'd once per second (strftime is slow)."""

    def __init__(self) -> None:
        self._ms = -1
        self._text = b""
        self._second = -1
        self._prefix = b""

    def __call__(self) -> bytes:
        ms = time.time_ns() // 1_000_000
        if ms != self._ms:
            self._ms = ms
            second, milli = divmod(ms, 1000)
            if second != self._second:
                self._second = second
                self._prefix = time.strftime("%Y%m%d-%H:%M:%S", time.gmtime(second)).encode()
            self._text = b"%s.%03d" % (self._prefix, milli)
        return self._text


sending_time = _SendingTime()


def header_ids(sender_comp_id: str, target_comp_id: str) -> bytes:
    return b"49=%s\x0156=%s\x01" % (sender_comp_id.encode(), target_comp_id.encode())


def record_message(store: SessionStore, ids: bytes, msg_type: bytes, body: bytes) -> bytes:
    """Give a message the session's next sequence number, keep it for resends, return the
    frame (``body``: the fields after the standard header)."""
    seq = store.next_sender_seq
    stamp = sending_time()
    raw = frame(b"35=%s\x01%s34=%d\x0152=%s\x01%s" % (msg_type, ids, seq, stamp, body))
    store.record_sent(seq, msg_type, stamp, body)
    return raw
