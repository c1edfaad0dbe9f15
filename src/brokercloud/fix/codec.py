"""FIX 4.4 framing, parsing and encoding, lean enough for hundreds of thousands of messages a
second in Python.

A frame is found by its BeginString and BodyLength, then proven by its trailer position and
CheckSum before anything else is looked at; the FIX spec says a frame that fails either is
garbled and must be dropped without consuming a sequence number, so the decoder reports it and
resynchronises on the next BeginString. Parsing splits once on SOH into a dict keyed by the tag's
decimal text; types are checked when a field is read (``get_int``, ``get_price``), so a message
pays only for the fields its handler uses.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable, Iterator
from typing import TypeVar
from zlib import adler32

import msgspec

from brokercloud.fix import tags as t
from brokercloud.fix.tags import SessionRejectReason

_D = TypeVar("_D")
SOH = b"\x01"
FRAME_START = b"8=FIX.4.4\x019="
_START_LEN = len(FRAME_START)
_ANY_BEGIN = b"8=FIX"  # frames of other versions are framed too, then refused as a whole
_MAX_BEGIN_STRING = 16  # b"8=" and the longest BeginString we look for before its SOH
_TRAILER_LEN = 7  # b"10=NNN\x01"
_ADLER_EXACT = 256  # bytes whose sum Adler-32 gives exactly (see ``checksum``)
_ADLER_EXACT_ASCII = 515  # 515 x 127 < 65521
_TRAILERS = [b"10=%03d\x01" % value for value in range(256)]
MAX_BODY_LENGTH = 64 * 1024  # larger frames are refused outright, never buffered
_MAX_LENGTH_DIGITS = 7
_HEADER_REQUIRED = frozenset((t.SENDER_COMP_ID, t.TARGET_COMP_ID, t.MSG_SEQ_NUM, t.SENDING_TIME))
#: Message types whose bodies repeat tags inside repeating groups.
_GROUP_MSG_TYPES = frozenset({b"V", b"W", b"X", b"Y"})


class FixError(Exception):
    """A message that parsed as a frame but breaks the FIX rules: answered with Reject (35=3)."""

    def __init__(self, reason: int, text: str, tag: bytes | None = None) -> None:
        super().__init__(text)
        self.reason = reason
        self.text = text
        self.tag = tag


class FrameProblem(enum.Enum):
    """Why bytes were dropped while framing (the FIX spec: ignore, log, keep the session)."""

    GARBAGE = "bytes before a BeginString were discarded"
    BAD_BODY_LENGTH = "BodyLength does not match the frame; frame discarded"
    BAD_CHECKSUM = "CheckSum does not match; frame discarded"
    TOO_LARGE = "BodyLength above the limit; frame refused"
    MSG_TYPE_NOT_THIRD = "MsgType (35) is not the third field; frame discarded"
    WRONG_BEGIN_STRING = "BeginString is not FIX.4.4; frame discarded"


class FixMessage(msgspec.Struct, frozen=True, gc=False):
    """A parsed message: ``fields`` maps tag text to value bytes. A repeated tag is refused
    except in the market-data messages, whose groups are read with ``pairs()``."""

    fields: dict[bytes, bytes]
    raw: bytes

    @property
    def msg_type(self) -> bytes:
        return self.fields[t.MSG_TYPE]

    @property
    def seq_num(self) -> int:
        return self.get_int(t.MSG_SEQ_NUM)

    def get(self, tag: bytes, default: bytes | None = None) -> bytes | None:
        return self.fields.get(tag, default)

    def require(self, tag: bytes) -> bytes:
        value = self.fields.get(tag)
        return value if value is not None else _default_or_missing(tag, None)

    def get_int(self, tag: bytes, default: int | None = None) -> int:
        value = self.fields.get(tag)
        if value is None:
            return _default_or_missing(tag, default)
        if not value.isdigit():
            if value[:1] == b"-" and value[1:].isdigit():
                return int(value)
            raise FixError(SessionRejectReason.INCORRECT_DATA_FORMAT,
                           f"Tag {tag.decode()} must be an integer", tag)
        return int(value)

    def get_price(self, tag: bytes, default: int | None = None) -> int:
        """A decimal price field in NT$0.01 units; more than two decimals is refused."""
        value = self.fields.get(tag)
        if value is None:
            return _default_or_missing(tag, default)
        cents = decimal_to_cents(value)
        if cents is None:
            raise FixError(SessionRejectReason.INCORRECT_DATA_FORMAT,
                           f"Tag {tag.decode()} must be a price with at most two decimals", tag)
        return cents

    def get_bool(self, tag: bytes) -> bool:
        value = self.fields.get(tag, b"N")
        if value not in (b"Y", b"N"):
            raise FixError(SessionRejectReason.INCORRECT_DATA_FORMAT,
                           f"Tag {tag.decode()} must be Y or N", tag)
        return value == b"Y"

    def pairs(self) -> list[tuple[bytes, bytes]]:
        """Every field in order, repeats included (for repeating groups)."""
        body = self.raw[:-1].split(SOH)
        return [(tag, value) for tag, _, value in (f.partition(b"=") for f in body)]

    def __repr__(self) -> str:
        return f"FixMessage({self.raw.replace(SOH, b'|')!r})"


def _default_or_missing(tag: bytes, default: _D | None) -> _D:
    """An absent field: its default, or the Reject for a required tag."""
    if default is None:
        raise FixError(SessionRejectReason.REQUIRED_TAG_MISSING,
                       f"Required tag {tag.decode()} missing", tag)
    return default


def decimal_to_cents(value: bytes) -> int | None:
    """b'74.7' -> 7470; None if not a non-negative decimal with at most two decimals."""
    whole, dot, frac = value.partition(b".")
    if dot:
        frac = frac.rstrip(b"0")
        if len(frac) > 2 or (frac and not frac.isdigit()):
            return None
    if not whole.isdigit():
        return None
    return int(whole) * 100 + (int(frac.ljust(2, b"0")) if frac else 0)


@functools.lru_cache(maxsize=4096)
def cents_to_decimal(cents: int) -> bytes:
    """7470 -> b'74.70' (cached: a day's prices are a few ticks per symbol, and every report
    writes one or two)."""
    if cents < 0:
        return b"-" + cents_to_decimal(-cents)
    return b"%d.%02d" % divmod(cents, 100)


def parse(frame: bytes) -> FixMessage:
    """Parse a frame the decoder has already proven (length, checksum, MsgType third)."""
    parts = frame[:-1].split(SOH)
    fields: dict[bytes, bytes] = {}
    for part in parts:
        tag, _, value = part.partition(b"=")
        fields[tag] = value
    if b"" in fields or not b"".join(fields).isdigit():
        bad = next(tag for tag in fields if not tag.isdigit())
        raise FixError(SessionRejectReason.INVALID_TAG_NUMBER,
                       f"Invalid tag number {bad[:20].decode(errors='replace')!r}", None)
    if b"" in fields.values():  # b"58=" and a bare b"58" alike
        empty = next(tag for tag, value in fields.items() if not value)
        raise FixError(SessionRejectReason.TAG_SPECIFIED_WITHOUT_VALUE,
                       f"Tag {empty.decode()} specified without a value", empty)
    if not parts[2].startswith(b"35="):  # the decoder drops these frames as garbled
        if t.MSG_TYPE in fields:
            raise FixError(SessionRejectReason.TAG_SPECIFIED_OUT_OF_REQUIRED_ORDER,
                           "MsgType (35) must be the third field", t.MSG_TYPE)
        raise FixError(SessionRejectReason.REQUIRED_TAG_MISSING,
                       "Required tag 35 missing", t.MSG_TYPE)
    if not _HEADER_REQUIRED.issubset(fields):
        missing = min(_HEADER_REQUIRED.difference(fields))
        raise FixError(SessionRejectReason.REQUIRED_TAG_MISSING,
                       f"Required tag {missing.decode()} missing", missing)
    if len(fields) != len(parts) and fields[t.MSG_TYPE] not in _GROUP_MSG_TYPES:
        seen: set[bytes] = set()
        for part in parts:
            tag = part.partition(b"=")[0]
            if tag in seen:
                raise FixError(SessionRejectReason.TAG_APPEARS_MORE_THAN_ONCE,
                               f"Tag {tag.decode()} appears more than once", tag)
            seen.add(tag)
    return FixMessage(fields, frame)


def checksum(data: bytes) -> int:
    """The FIX CheckSum: the sum of the bytes modulo 256.

    Computed with zlib's Adler-32 (C, ~5x faster than ``sum`` here): its low 16 bits are one
    plus the byte sum modulo 65521, which is the exact sum while that stays below 65521: for
    any 256 bytes, or 515 ASCII bytes (a FIX message is ASCII but for rare data fields);
    longer data is summed in 256-byte chunks."""
    size = len(data)
    if size <= _ADLER_EXACT or (size <= _ADLER_EXACT_ASCII and data.isascii()):
        return (adler32(data) - 1) & 0xFF
    view = memoryview(data)
    total = 0
    for start in range(0, size, _ADLER_EXACT):
        total += (adler32(view[start:start + _ADLER_EXACT]) & 0xFFFF) - 1
    return total & 0xFF


def frame(body: bytes) -> bytes:
    """Wrap a body (from ``35=`` to its last SOH) with BeginString, BodyLength and CheckSum."""
    message = b"8=FIX.4.4\x019=%d\x01%s" % (len(body), body)
    return message + _TRAILERS[checksum(message)]


def fields_to_bytes(fields: Iterable[tuple[bytes, bytes | str | int]]) -> bytes:
    """Serialise (tag, value) pairs; ints as decimal, str as ASCII."""
    out = []
    for tag, value in fields:
        if isinstance(value, int):
            out.append(b"%s=%d\x01" % (tag, value))
        elif isinstance(value, str):
            out.append(b"%s=%s\x01" % (tag, value.encode()))
        else:
            out.append(b"%s=%s\x01" % (tag, value))
    return b"".join(out)


class FrameDecoder:
    """Cuts a byte stream into proven frames, reporting what it had to drop."""

    def __init__(self, max_body_length: int = MAX_BODY_LENGTH) -> None:
        self._buf = b""
        self._max_body = max_body_length

    @property
    def buffered(self) -> int:
        return len(self._buf)

    def feed(self, data: bytes) -> Iterator[bytes | FrameProblem]:
        """Add bytes; yield each complete frame, or the problem that made bytes be dropped."""
        buf = self._buf + data if self._buf else data
        pos = scan = 0  # the first byte not yet consumed; where to look for a BeginString
        end = len(buf)
        while pos < end:
            start = buf.find(_ANY_BEGIN, scan)
            if start < 0:
                keep = max(pos, end - _START_LEN + 1)
                if keep > pos:
                    yield FrameProblem.GARBAGE
                pos = keep
                break
            item, pos_after = self._frame_at(buf, start, end)
            if item is FrameProblem.GARBAGE:  # only looked like a BeginString: part of the
                scan = start + 1  # garbage reported once before the next frame
                continue
            if start > pos:
                yield FrameProblem.GARBAGE
                pos = start
            if item is None:
                break  # still arriving
            yield item
            pos = scan = pos_after
        self._buf = buf[pos:]

    def _frame_at(self, buf: bytes, pos: int, end: int) -> tuple[bytes | FrameProblem | None, int]:
        """The frame whose BeginString is at ``pos`` (or why it is dropped) and where to read on;
        None while the frame is still arriving."""
        ours = buf.startswith(FRAME_START, pos)
        if ours:
            digits_at = pos + _START_LEN
        else:  # another version (or bytes that only look like one): find its BodyLength
            begin_end = buf.find(SOH, pos, pos + _MAX_BEGIN_STRING)
            if begin_end < 0 or begin_end + 3 > end:
                if begin_end < 0 and end - pos >= _MAX_BEGIN_STRING:
                    return FrameProblem.GARBAGE, pos + 1
                return None, pos  # the BeginString may still be arriving
            if not buf.startswith(b"9=", begin_end + 1):
                return FrameProblem.GARBAGE, pos + 1
            digits_at = begin_end + 3
        length_end = buf.find(SOH, digits_at, digits_at + _MAX_LENGTH_DIGITS + 1)
        if length_end < 0:
            if end - digits_at <= _MAX_LENGTH_DIGITS:
                return None, pos  # the BodyLength may still be arriving
            if buf[digits_at:digits_at + _MAX_LENGTH_DIGITS + 1].isdigit():
                return FrameProblem.TOO_LARGE, digits_at  # more digits than any allowed length
            return FrameProblem.BAD_BODY_LENGTH, pos + 1
        digits = buf[digits_at:length_end]
        if not digits.isdigit():
            return FrameProblem.BAD_BODY_LENGTH, pos + 1
        body_length = int(digits)
        if body_length > self._max_body:
            return FrameProblem.TOO_LARGE, length_end
        frame_end = length_end + 1 + body_length + _TRAILER_LEN
        if frame_end > end:
            return None, pos
        trailer = buf[frame_end - _TRAILER_LEN:frame_end]
        if trailer[:3] != b"10=" or trailer[6:] != SOH or not trailer[3:6].isdigit():
            return FrameProblem.BAD_BODY_LENGTH, pos + 1
        if checksum(buf[pos:frame_end - _TRAILER_LEN]) != int(trailer[3:6]):
            return FrameProblem.BAD_CHECKSUM, frame_end
        if not ours:  # a proven frame of another FIX version: the session logs out
            return FrameProblem.WRONG_BEGIN_STRING, frame_end
        if buf[length_end + 1:length_end + 4] != b"35=":
            # FIX: a message whose first three fields are not 8, 9 and 35 is garbled
            return FrameProblem.MSG_TYPE_NOT_THIRD, frame_end
        return buf[pos:frame_end], frame_end
