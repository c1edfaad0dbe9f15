"""The FIX 4.4 codec: framing, parsing and encoding, checked against simplefix as an oracle."""

from __future__ import annotations

import contextlib

import pytest
import simplefix
from hypothesis import given, settings
from hypothesis import strategies as st

from brokercloud.fix.codec import (
    FRAME_START,
    MAX_BODY_LENGTH,
    FixError,
    FixMessage,
    FrameDecoder,
    FrameProblem,
    cents_to_decimal,
    checksum,
    decimal_to_cents,
    fields_to_bytes,
    frame,
    parse,
)
from brokercloud.fix.tags import SessionRejectReason as Reason

SENDING_TIME = b"20250102-01:02:03.456"
_HEADER_TAGS = frozenset((b"35", b"49", b"56", b"34", b"52"))


def body(msg_type: bytes = b"D", seq: int = 1, extra: bytes = b"11=C1\x0155=2330\x01") -> bytes:
    return b"35=%s\x0149=BRK\x0156=XTAI\x0134=%d\x0152=%s\x01%s" % (
        msg_type, seq, SENDING_TIME, extra)


def decode_all(decoder: FrameDecoder, data: bytes) -> list[bytes | FrameProblem]:
    return list(decoder.feed(data))


def frames_only(items: list[bytes | FrameProblem]) -> list[bytes]:
    return [item for item in items if isinstance(item, bytes)]


def problems_only(items: list[bytes | FrameProblem]) -> list[FrameProblem]:
    return [item for item in items if isinstance(item, FrameProblem)]


def assert_proven(raw: bytes) -> None:
    """What every frame out of the decoder must be: BodyLength and CheckSum both right."""
    assert raw.startswith(FRAME_START)
    length_end = raw.index(b"\x01", len(FRAME_START))
    body_length = int(raw[len(FRAME_START):length_end])
    assert len(raw) == length_end + 1 + body_length + 7
    assert raw[-7:-4] == b"10=" and raw[-1:] == b"\x01"
    assert int(raw[-4:-1]) == checksum(raw[:-7])


# -- simplefix as the oracle ---------------------------------------------------------------------

# simplefix reads raw-data length/data tags specially: leave them out of random messages
_SPECIAL_TAGS = frozenset((8, 9, 10, 34, 35, 49, 52, 56)) | frozenset(
    simplefix.data.RAW_LEN_TAGS) | frozenset(simplefix.data.RAW_DATA_TAGS)
_tag_numbers = st.integers(min_value=1, max_value=9999).filter(
    lambda n: n not in _SPECIAL_TAGS)
_values = st.binary(min_size=1, max_size=20).filter(lambda v: b"\x01" not in v)


def _simplefix_message(msg_type: bytes, seq: int, pairs: list[tuple[int, bytes]]) -> bytes:
    message = simplefix.FixMessage()
    message.append_pair(8, b"FIX.4.4", header=True)
    message.append_pair(35, msg_type, header=True)
    message.append_pair(49, b"BRK", header=True)
    message.append_pair(56, b"XTAI", header=True)
    message.append_pair(34, seq, header=True)
    message.append_pair(52, SENDING_TIME, header=True)
    for tag, value in pairs:
        message.append_pair(tag, value)
    return message.encode()


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(_tag_numbers, _values, max_size=12), st.integers(1, 10**9))
def test_simplefix_encoded_message_parses_to_the_same_fields(
        body_fields: dict[int, bytes], seq: int) -> None:
    pairs = list(body_fields.items())
    raw = _simplefix_message(b"D", seq, pairs)
    items = decode_all(FrameDecoder(), raw)
    assert items == [raw]
    message = parse(raw)
    expected = {b"%d" % tag: value for tag, value in pairs}
    expected |= {b"8": b"FIX.4.4", b"35": b"D", b"49": b"BRK", b"56": b"XTAI",
                 b"34": b"%d" % seq, b"52": SENDING_TIME}
    assert {k: v for k, v in message.fields.items() if k not in (b"9", b"10")} == expected
    assert message.seq_num == seq
    assert message.pairs()[3:-1] == [
        (b"49", b"BRK"), (b"56", b"XTAI"), (b"34", b"%d" % seq), (b"52", SENDING_TIME),
        *[(b"%d" % tag, value) for tag, value in pairs]]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_tag_numbers, _values), max_size=12))
def test_our_frame_has_the_body_length_and_checksum_simplefix_computes(
        pairs: list[tuple[int, bytes]]) -> None:
    ours = frame(body(extra=fields_to_bytes((b"%d" % tag, value) for tag, value in pairs)))
    parser = simplefix.FixParser()
    parser.append_buffer(ours)
    theirs = parser.get_message()
    assert theirs is not None
    rebuilt = simplefix.FixMessage()  # simplefix recomputes 9 and 10 from scratch
    for tag, value in theirs.pairs:
        if tag == b"8":
            rebuilt.append_pair(8, value, header=True)
        elif tag not in (b"9", b"10"):
            rebuilt.append_pair(tag, value)
    assert rebuilt.encode() == ours
    assert theirs.get(9) == b"%d" % len(body(extra=fields_to_bytes(
        (b"%d" % tag, value) for tag, value in pairs)))
    assert theirs.get(10) == ours[-4:-1]


def test_frame_matches_a_hand_computed_checksum() -> None:
    raw = frame(b"35=0\x01")
    assert raw == b"8=FIX.4.4\x019=5\x0135=0\x0110=%03d\x01" % (
        sum(b"8=FIX.4.4\x019=5\x0135=0\x01") % 256)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2_000))
def test_checksum_is_the_byte_sum_modulo_256_for_any_bytes(data: bytes) -> None:
    assert checksum(data) == sum(data) % 256


@pytest.mark.parametrize("length", [0, 1, 255, 256, 257, 512, 513, 515, 516, 1_000, 70_000])
def test_checksum_is_exact_where_adler32_would_wrap(length: int) -> None:
    for worst in (b"\xff" * length, b"\x7f" * length):  # the largest sums, binary and ASCII
        assert checksum(worst) == sum(worst) % 256


def test_fields_to_bytes_writes_ints_str_and_bytes() -> None:
    assert fields_to_bytes([(b"38", 1000), (b"58", "hi"), (b"55", b"2330")]) == (
        b"38=1000\x0158=hi\x0155=2330\x01")
    assert fields_to_bytes([]) == b""


# -- prices ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "cents"), [
    (b"74.7", 7470), (b"74.70", 7470), (b"74.700", 7470), (b"0.01", 1), (b"100", 10000),
    (b"5.", 500), (b"0", 0), (b"1000.05", 100005), (b"007.10", 710),
])
def test_decimal_to_cents_reads_prices(text: bytes, cents: int) -> None:
    assert decimal_to_cents(text) == cents


@pytest.mark.parametrize("text", [
    b"74.705", b"-1", b"-1.5", b"1e3", b"", b".", b".5", b"1.2.3", b"1,5", b"1.-5", b" 1",
    b"\xef\xbc\x91",  # a full-width digit
])
def test_decimal_to_cents_refuses_what_is_not_a_two_decimal_price(text: bytes) -> None:
    assert decimal_to_cents(text) is None


@pytest.mark.parametrize(("cents", "text"), [
    (7470, b"74.70"), (5, b"0.05"), (0, b"0.00"), (100005, b"1000.05"), (-5, b"-0.05"),
    (-7470, b"-74.70"),
])
def test_cents_to_decimal_writes_two_decimals(cents: int, text: bytes) -> None:
    assert cents_to_decimal(cents) == text


@given(st.integers(min_value=0, max_value=10**12))
def test_cents_round_trip(cents: int) -> None:
    assert decimal_to_cents(cents_to_decimal(cents)) == cents


def test_get_price_reads_and_refuses() -> None:
    message = parse(frame(body(extra=b"44=74.7\x0131=1.234\x01")))
    assert message.get_price(b"44") == 7470
    with pytest.raises(FixError) as caught:
        message.get_price(b"31")
    assert (caught.value.reason, caught.value.tag) == (Reason.INCORRECT_DATA_FORMAT, b"31")
    with pytest.raises(FixError) as caught:
        message.get_price(b"6")
    assert (caught.value.reason, caught.value.tag) == (Reason.REQUIRED_TAG_MISSING, b"6")


# -- the frame decoder -----------------------------------------------------------------------------

STREAM_FRAMES = [frame(body(seq=1)), frame(body(b"0", 2, b"")),
                 frame(body(seq=3, extra=b"58=a=b c\x0111=8=FIX.4.4\x019=5\x01"))]
STREAM = b"".join(STREAM_FRAMES)


def test_decoder_yields_each_frame_of_a_stream_in_one_feed() -> None:
    assert decode_all(FrameDecoder(), STREAM) == STREAM_FRAMES


def test_decoder_yields_the_same_frames_whatever_byte_the_stream_is_split_at() -> None:
    for split in range(len(STREAM) + 1):
        decoder = FrameDecoder()
        items = decode_all(decoder, STREAM[:split]) + decode_all(decoder, STREAM[split:])
        assert items == STREAM_FRAMES, split
        assert decoder.buffered == 0


def test_decoder_yields_the_same_frames_fed_one_byte_at_a_time() -> None:
    decoder = FrameDecoder()
    items: list[bytes | FrameProblem] = []
    for i in range(len(STREAM)):
        items += decode_all(decoder, STREAM[i:i + 1])
    assert items == STREAM_FRAMES


def test_decoder_waits_for_a_truncated_frame_then_completes_it() -> None:
    raw = STREAM_FRAMES[0]
    decoder = FrameDecoder()
    for cut in (5, len(FRAME_START) + 1, len(raw) // 2, len(raw) - 1):
        decoder = FrameDecoder()
        assert decode_all(decoder, raw[:cut]) == []
        assert decoder.buffered == cut
        assert decode_all(decoder, raw[cut:]) == [raw]
        assert decoder.buffered == 0


def test_garbage_before_a_frame_is_reported_and_dropped() -> None:
    decoder = FrameDecoder()
    items = decode_all(decoder, b"hello\x01world 8=FIX.4.2\x01" + STREAM_FRAMES[0])
    assert items == [FrameProblem.GARBAGE, STREAM_FRAMES[0]]
    assert decoder.buffered == 0


def test_garbage_alone_is_dropped_but_a_possible_frame_start_is_kept() -> None:
    decoder = FrameDecoder()
    assert decode_all(decoder, b"x" * 1000 + b"8=FIX.4") == [FrameProblem.GARBAGE]
    assert decoder.buffered < len(FRAME_START)
    items = decode_all(decoder, b".4\x01" + STREAM_FRAMES[0][len(b"8=FIX.4.4\x01"):])
    assert frames_only(items) == [STREAM_FRAMES[0]]


def _framed_as(begin_string: bytes, raw_body: bytes) -> bytes:
    """A frame with a correct BodyLength and CheckSum under another BeginString."""
    message = b"8=%s\x019=%d\x01%s" % (begin_string, len(raw_body), raw_body)
    return message + b"10=%03d\x01" % (sum(message) % 256)


@pytest.mark.parametrize("begin_string", [b"FIX.4.2", b"FIXT.1.1", b"FIX.5.0SP2"])
def test_a_proven_frame_of_another_fix_version_is_reported_and_the_next_frame_is_read(
        begin_string: bytes) -> None:
    stream = _framed_as(begin_string, body()) + STREAM_FRAMES[1]
    assert decode_all(FrameDecoder(), stream) == [
        FrameProblem.WRONG_BEGIN_STRING, STREAM_FRAMES[1]]
    for cut in range(1, len(stream)):  # the same however the stream is split
        decoder = FrameDecoder()
        items = decode_all(decoder, stream[:cut]) + decode_all(decoder, stream[cut:])
        assert items == [FrameProblem.WRONG_BEGIN_STRING, STREAM_FRAMES[1]], cut


def test_another_version_with_a_bad_checksum_is_only_a_bad_checksum() -> None:
    foreign = _framed_as(b"FIX.4.2", body())
    bad = foreign[:-4] + b"%03d\x01" % ((int(foreign[-4:-1]) + 1) % 256)
    assert decode_all(FrameDecoder(), bad + STREAM_FRAMES[1]) == [
        FrameProblem.BAD_CHECKSUM, STREAM_FRAMES[1]]


def test_bad_checksum_frame_is_dropped_and_the_next_frame_is_read() -> None:
    good = STREAM_FRAMES[0]
    bad = good[:-4] + b"%03d\x01" % ((int(good[-4:-1]) + 1) % 256)
    assert decode_all(FrameDecoder(), bad + STREAM_FRAMES[1]) == [
        FrameProblem.BAD_CHECKSUM, STREAM_FRAMES[1]]


def test_body_length_too_short_is_dropped_and_the_next_frame_is_read() -> None:
    b = body()
    short = b"8=FIX.4.4\x019=%d\x01%s10=000\x01" % (len(b) - 3, b)
    items = decode_all(FrameDecoder(), short + STREAM_FRAMES[1])
    assert FrameProblem.BAD_BODY_LENGTH in items
    assert frames_only(items) == [STREAM_FRAMES[1]]


def test_body_length_too_long_waits_then_is_dropped_and_the_next_frame_is_read() -> None:
    b = body()
    long = b"8=FIX.4.4\x019=%d\x01%s10=%03d\x01" % (len(b) + 20, b, 0)
    decoder = FrameDecoder()
    assert decode_all(decoder, long) == []  # the frame might still be arriving
    items = decode_all(decoder, STREAM_FRAMES[1])
    assert items[0] is FrameProblem.BAD_BODY_LENGTH
    assert frames_only(items) == [STREAM_FRAMES[1]]
    assert decoder.buffered == 0


@pytest.mark.parametrize("length", [b"abc", b"-5", b"1a", b"", b" 12"])
def test_non_digit_body_length_is_dropped_and_the_next_frame_is_read(length: bytes) -> None:
    b = body()
    bad = b"8=FIX.4.4\x019=%s\x01%s10=000\x01" % (length, b)
    items = decode_all(FrameDecoder(), bad + STREAM_FRAMES[1])
    assert items[0] is FrameProblem.BAD_BODY_LENGTH
    assert frames_only(items) == [STREAM_FRAMES[1]]


@pytest.mark.parametrize("length", [MAX_BODY_LENGTH + 1, 999_999, 10 * 1024 * 1024, 10**12])
def test_body_length_above_the_limit_is_refused_at_once(length: int) -> None:
    decoder = FrameDecoder()
    items = decode_all(decoder, b"8=FIX.4.4\x019=%d\x01" % length)
    assert items[0] is FrameProblem.TOO_LARGE
    assert frames_only(items) == []
    assert decoder.buffered < len(FRAME_START)
    assert frames_only(decode_all(decoder, STREAM_FRAMES[0])) == [STREAM_FRAMES[0]]


def test_a_10_mb_frame_is_refused_without_buffering_and_the_next_frame_is_read() -> None:
    decoder = FrameDecoder()
    size = 10 * 1024 * 1024
    chunk = (b"55=2330\x01" * 8192)[:65536]
    items = decode_all(decoder, b"8=FIX.4.4\x019=%d\x0135=D\x01" % size)
    largest = decoder.buffered
    for _ in range(size // len(chunk)):
        items += decode_all(decoder, chunk)
        largest = max(largest, decoder.buffered)
    items += decode_all(decoder, b"10=123\x01" + STREAM_FRAMES[0])
    assert items[0] is FrameProblem.TOO_LARGE
    assert largest < 64
    assert frames_only(items) == [STREAM_FRAMES[0]]
    assert set(problems_only(items)) <= {FrameProblem.TOO_LARGE, FrameProblem.GARBAGE}


def test_frame_with_msg_type_not_third_is_garbled_and_dropped() -> None:
    misplaced = frame(b"34=2\x0135=0\x0149=BRK\x0156=XTAI\x0152=%s\x01" % SENDING_TIME)
    items = decode_all(FrameDecoder(), misplaced + STREAM_FRAMES[1])
    assert items == [FrameProblem.MSG_TYPE_NOT_THIRD, STREAM_FRAMES[1]]


_chunk_sizes = st.lists(st.integers(1, 64), min_size=1, max_size=50)


def _feed_in_chunks(data: bytes, sizes: list[int]) -> list[bytes | FrameProblem]:
    decoder = FrameDecoder(max_body_length=256)
    items: list[bytes | FrameProblem] = []
    pos = 0
    i = 0
    while pos < len(data):
        size = sizes[i % len(sizes)]
        items += decoder.feed(data[pos:pos + size])
        pos += size
        i += 1
    assert decoder.buffered <= max(256 + 64, len(FRAME_START))
    return items


_noise = st.lists(st.sampled_from([
    b"8=FIX.4.4\x019=", b"8=FIX.4.4\x01", b"\x01", b"10=", b"35=", b"9=12\x01", b"9=99999999",
    b"=", b"0", b"7", b"x", b"\xff",
]) | st.binary(max_size=8), max_size=40).map(b"".join)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=600), _noise), _chunk_sizes)
def test_arbitrary_bytes_never_raise_and_never_yield_an_unproven_frame(
        data: bytes, sizes: list[int]) -> None:
    for item in _feed_in_chunks(data, sizes):
        if isinstance(item, bytes):
            assert_proven(item)
            with contextlib.suppress(FixError):  # a Reject is fine; any other error is not
                assert isinstance(parse(item), FixMessage)


_garbage_without_8 = st.binary(max_size=40).map(lambda b: b.replace(b"8", b"x"))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_garbage_without_8, st.integers(1, 99)), min_size=1, max_size=6),
       _chunk_sizes)
def test_every_frame_between_garbage_is_recovered_in_order(
        pieces: list[tuple[bytes, int]], sizes: list[int]) -> None:
    frames = [frame(body(seq=seq)) for _, seq in pieces]
    data = b"".join(garbage + raw for (garbage, _), raw in zip(pieces, frames, strict=True))
    assert frames_only(_feed_in_chunks(data, sizes)) == frames


# -- parse: what makes a framed message a session Reject ---------------------------------------

def _parse_error(body_bytes: bytes) -> FixError:
    with pytest.raises(FixError) as caught:
        parse(frame(body_bytes))
    return caught.value


@pytest.mark.parametrize("missing", [b"49", b"56", b"34", b"52"])
def test_missing_header_tag_is_required_tag_missing(missing: bytes) -> None:
    fields = [(b"35", b"0"), (b"49", b"BRK"), (b"56", b"XTAI"), (b"34", b"2"),
              (b"52", SENDING_TIME)]
    error = _parse_error(fields_to_bytes(f for f in fields if f[0] != missing))
    assert (error.reason, error.tag) == (Reason.REQUIRED_TAG_MISSING, missing)


def test_msg_type_not_third_is_out_of_order() -> None:
    error = _parse_error(b"49=BRK\x0135=0\x0156=XTAI\x0134=2\x0152=%s\x01" % SENDING_TIME)
    assert (error.reason, error.tag) == (Reason.TAG_SPECIFIED_OUT_OF_REQUIRED_ORDER, b"35")


def test_msg_type_missing_is_required_tag_missing() -> None:
    error = _parse_error(b"49=BRK\x0156=XTAI\x0134=2\x0152=%s\x01" % SENDING_TIME)
    assert (error.reason, error.tag) == (Reason.REQUIRED_TAG_MISSING, b"35")


@pytest.mark.parametrize("field", [b"abc=1\x01", b"-1=HI\x01", b"=5\x01", b"5 8=x\x01"])
def test_invalid_tag_number(field: bytes) -> None:
    error = _parse_error(body(extra=field))
    assert (error.reason, error.tag) == (Reason.INVALID_TAG_NUMBER, None)


@pytest.mark.parametrize("field", [b"58=\x01", b"58\x01"])
def test_tag_without_value(field: bytes) -> None:
    error = _parse_error(body(extra=b"11=C1\x01" + field))
    assert (error.reason, error.tag) == (Reason.TAG_SPECIFIED_WITHOUT_VALUE, b"58")


def test_a_field_without_equals_is_caught_even_when_a_value_has_a_spare_one() -> None:
    # as many "=" as fields: splitting on every "=" would misalign into 58=59 and 1=2
    error = _parse_error(body(extra=b"11=C1\x0158\x0159=1=2\x01"))
    assert (error.reason, error.tag) == (Reason.TAG_SPECIFIED_WITHOUT_VALUE, b"58")


def test_values_may_contain_equals() -> None:
    message = parse(frame(body(extra=b"11=C1\x0158=a=b=\x01")))
    assert (message.fields[b"11"], message.fields[b"58"]) == (b"C1", b"a=b=")


def test_duplicate_tag() -> None:
    error = _parse_error(body(extra=b"11=C1\x0155=2330\x0111=C2\x01"))
    assert (error.reason, error.tag) == (Reason.TAG_APPEARS_MORE_THAN_ONCE, b"11")


def test_repeated_tags_are_allowed_in_market_data_groups() -> None:
    message = parse(frame(body(b"W", extra=b"55=2330\x01268=2\x01269=0\x01270=10\x01"
                                            b"269=1\x01270=11\x01")))
    assert [v for tag, v in message.pairs() if tag == b"269"] == [b"0", b"1"]


def test_get_int_and_get_bool_type_errors() -> None:
    message = parse(frame(body(extra=b"38=1x\x0143=y\x0136=-3\x01")))
    assert message.get_int(b"36") == -3
    with pytest.raises(FixError) as caught:
        message.get_int(b"38")
    assert (caught.value.reason, caught.value.tag) == (Reason.INCORRECT_DATA_FORMAT, b"38")
    with pytest.raises(FixError) as caught:
        message.get_bool(b"43")
    assert (caught.value.reason, caught.value.tag) == (Reason.INCORRECT_DATA_FORMAT, b"43")
    assert message.get_int(b"7", 0) == 0
    assert message.get_bool(b"123") is False
