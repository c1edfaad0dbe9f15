"""FIX 4.4 session conformance over real loopback TCP.

The scripted tests follow the FIX session-level test cases (the numbering of QuickFIX's
acceptance suite, ``definitions/server/fix44``): a raw client writes exactly the frames a case
calls for and asserts every reply's type, sequence number and tags. The initiator-vs-acceptor
tests then run two real ``FixSession``s against each other: heartbeats, restarts, recovery of a
gap, and a bad connection that must not disturb the good ones.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from brokercloud.fix import tags as t
from brokercloud.fix.codec import FixMessage, fields_to_bytes, frame
from brokercloud.fix.outbound import header_ids, record_message
from brokercloud.fix.session import LogonRefusedError, SessionBinding, SessionConfig, State
from brokercloud.fix.store import SessionStore, open_database
from brokercloud.fix.tags import BusinessRejectReason, MsgType
from brokercloud.fix.tags import SessionRejectReason as Reason
from brokercloud.fix.transport import connect_initiator

from .support import (
    ACCEPTOR,
    CLIENT,
    WAIT,
    Acceptor,
    Initiator,
    RawClient,
    Recorder,
    eventually,
    run,
    run_timed,
    utc,
)

Script = Callable[[Acceptor, RawClient], Awaitable[None]]


def scripted(tmp_path: Path, script: Script, *, timed: bool = False) -> None:
    """Run ``script`` against a fresh acceptor; ``timed`` for scripts that assert timings."""
    async def scenario(directory: Path) -> None:
        async with Acceptor(directory / "acceptor.db") as acceptor:
            client = await RawClient.connect(acceptor.port)
            try:
                await script(acceptor, client)
            finally:
                await client.close()
    if timed:
        run_timed(scenario, tmp_path)
    else:
        run(scenario(tmp_path))


def order(cl_ord_id: bytes, symbol: bytes | None = b"2330") -> bytes:
    fields: list[tuple[bytes, bytes | str | int]] = [(t.CL_ORD_ID, cl_ord_id)]
    if symbol is not None:
        fields.append((t.SYMBOL, symbol))
    fields += [(t.SIDE, b"1"), (t.ORDER_QTY, 1000), (t.ORD_TYPE, b"2"), (t.PRICE, b"600")]
    return fields_to_bytes(fields)


def assert_reject(reject: FixMessage, ref_seq: int, reason: int, ref_tag: bytes | None = None,
                  ref_msg_type: bytes | None = None) -> None:
    """A session Reject (35=3) with exactly these RefSeqNum, reason and RefTagID, and a Text."""
    assert reject.msg_type == MsgType.REJECT
    assert reject.get_int(t.REF_SEQ_NUM) == ref_seq
    assert reject.get_int(t.SESSION_REJECT_REASON) == reason
    assert reject.get(t.REF_TAG_ID) == ref_tag
    if ref_msg_type is not None:
        assert reject.get(t.REF_MSG_TYPE) == ref_msg_type
    assert reject.get(t.TEXT)


# -- 1: logon ----------------------------------------------------------------------------------

def test_1a_valid_logon(tmp_path: Path) -> None:
    async def script(acceptor: Acceptor, client: RawClient) -> None:
        logon = await client.logon()
        assert logon.seq_num == 1
        assert (logon.get(t.ENCRYPT_METHOD), logon.get(t.HEART_BT_INT)) == (b"0", b"30")
        assert logon.get(t.RESET_SEQ_NUM_FLAG) is None
        assert len(acceptor.app.sessions) == 1
        assert acceptor.app.sessions[0].state is State.ACTIVE
        heartbeat = await client.test_request()
        assert heartbeat.seq_num == 2
    scripted(tmp_path, script)


def test_1a_valid_logon_msg_seq_num_too_high_then_logon_and_resend_request(
        tmp_path: Path) -> None:
    async def script(acceptor: Acceptor, client: RawClient) -> None:
        await client.logon(seq=5)
        resend = await client.expect(MsgType.RESEND_REQUEST)
        assert resend.seq_num == 2
        assert (resend.get_int(t.BEGIN_SEQ_NO), resend.get_int(t.END_SEQ_NO)) == (1, 0)
        # nothing to resend but admin messages: one gap fill over 1..5 (the Logon included)
        await client.send(MsgType.SEQUENCE_RESET, b"123=Y\x0136=6\x01", seq=1, poss_dup=True,
                          orig_sending_time=utc())
        client.next_seq = 6
        assert (await client.test_request()).seq_num == 3
    scripted(tmp_path, script)


def test_1a_logon_with_reset_seq_num_flag_resets_both_sides(tmp_path: Path) -> None:
    async def script(acceptor: Acceptor, client: RawClient) -> None:
        await client.logon()
        await client.test_request()
        await client.send(MsgType.LOGOUT)
        await client.expect(MsgType.LOGOUT)
        await client.expect_disconnect()
        again = await RawClient.connect(acceptor.port)
        try:
            logon = await again.logon(reset=True)  # seq 1 again, which a reset allows
            assert (logon.seq_num, logon.get(t.RESET_SEQ_NUM_FLAG)) == (1, b"Y")
            assert (await again.test_request()).seq_num == 2
        finally:
            await again.close()
    scripted(tmp_path, script)


def test_second_logon_on_an_active_session_then_reject_and_seq_consumed(
        tmp_path: Path) -> None:
    async def script(acceptor: Acceptor, client: RawClient) -> None:
        await client.logon()
        await client.send(MsgType.LOGON, b"98=0\x01108=30\x01553=u\x01554=pw\x01")
        assert_reject(await client.expect(MsgType.REJECT), 2, Reason.VALUE_INCORRECT, None,
                      MsgType.LOGON)
        assert (await client.test_request()).seq_num == 3
        assert len(acceptor.app.sessions) == 1
    scripted(tmp_path, script)


def test_2c_logon_msg_seq_num_too_low_then_logout(tmp_path: Path) -> None:
    async def script(acceptor: Acceptor, client: RawClient) -> None:
        await client.logon()
        await client.send(MsgType.LOGOUT)
        await client.expect(MsgType.LOGOUT)
        await client.expect_disconnect()
        again = await RawClient.connect(acceptor.port)
        try:
            await again.send(MsgType.LOGON, b"98=0\x01108=30\x01553=u\x01554=pw\x01")  # seq 1
            replies = await again.expect_disconnect()
            assert [m.msg_type for m in replies] == [MsgType.LOGOUT]
            assert replies[0].get(t.TEXT) == b"MsgSeqNum too low, expecting 3 but received 1"
        finally:
            await again.close()
    scripted(tmp_path, script)


def test_1e_first_message_not_logon_then_disconnect(tmp_path: Path) -> None:
    async def script(acceptor: Acceptor, client: RawClient) -> None:
        await client.send(MsgType.TEST_REQUEST, b"112=HELLO\x01")
        assert await client.expect_disconnect() == []
        assert acceptor.app.sessions == []
    scripted(tmp_path, script)


def test_connection_without_logon_is_closed_after_the_logon_timeout(tmp_path: Path) -> None:
    async def main() -> None:
        async with Acceptor(tmp_path / "a.db", logon_timeout=0.5) as acceptor:
            loop = asyncio.get_running_loop()
            silent = await RawClient.connect(acceptor.port)
            started = loop.time()
            try:
                assert await silent.expect_disconnect(timeout=WAIT + 0.5) == []
                assert loop.time() - started >= 0.45
                assert acceptor.app.sessions == []
            finally:
                await silent.close()
    run(main())


def test_a_session_that_logged_on_in_time_outlives_the_logon_timeout(tmp_path: Path) -> None:
    async def main() -> None:
        async with Acceptor(tmp_path / "a.db", logon_timeout=0.3) as acceptor:
            client = await RawClient.connect(acceptor.port)
            try:
                await client.logon()
                await asyncio.sleep(0.6)
                assert (await client.test_request()).seq_num == 2
                assert acceptor.app.sessions[0].state is State.ACTIVE
            finally:
                await client.close()
    run(main())


def test_wrong_password_then_logout_with_reason(tmp_path: Path) -> None:
    async def script(acceptor: Acceptor, client: RawClient) -> None:
        await client.send(MsgType.LOGON, b"98=0\x01108=30\x01553=u\x01554=nope\x01")
        replies = await client.expect_disconnect()
        assert [m.msg_type for m in replies] == [MsgType.LOGOUT]
        assert replies[0].get(t.TEXT) == b"wrong password"
        assert replies[0].fields[t.TARGET_COMP_ID] == CLIENT.encode()
        assert acceptor.app.sessions == []
    scripted(tmp_path, script)


def test_wrong_password_then_initiator_sees_logon_refused_with_reason(tmp_path: Path) -> None:
    async def main() -> None:
        async with Acceptor(tmp_path / "a.db") as acceptor:
            initiator = Initiator(tmp_path / "i.db", acceptor.port, password="nope")
            with pytest.raises(LogonRefusedError, match="wrong password"):
                await initiator.connect()
            await initiator.close()
    run(main())


# -- 2: the standard header --------------------------------------------------------------------

def test_2b_msg_seq_num_too_high_then_resend_request(tmp_path: Path) -> None:
    async def script(acceptor: Acceptor, client: RawClient) -> None:
        await client.logon()
        await client.send(MsgType.NEW_ORDER_SINGLE, order(b"C2"))
        assert (await client.expect(MsgType.EXECUTION_REPORT)).seq_num == 2
        await client.send(MsgType.NEW_ORDER_SINGLE, order(b"C5"), seq=5)
        resend = await client.expect(MsgType.RESEND_REQUEST)
        assert resend.seq_num == 3
        assert (resend.get_int(t.BEGIN_SEQ_NO), resend.get_int(t.END_SEQ_NO)) == (3, 0)
        assert acceptor.app.values(t.CL_ORD_ID) == [b"C2"]  # 5 waits for 3 and 4
        # the peer resends 3 and gap-fills 4; then the queued 5 is processed, once
        await client.send(MsgType.NEW_ORDER_SINGLE, order(b"C3"), seq=3, poss_dup=True,
                          orig_sending_time=utc(-1))
        await client.send(MsgType.SEQUENCE_RESET, b"123=Y\x0136=5\x01", seq=4, poss_dup=True,
                          orig_sending_time=utc(-1))
        reports = [await client.expect(MsgType.EXECUTION_REPORT) for _ in range(2)]
        assert [(r.seq_num, r.get(t.CL_ORD_ID)) for r in reports] == [(4, b"C3"), (5, b"C5")]
        assert acceptor.app.values(t.CL_ORD_ID) == [b"C2", b"C3", b"C5"]
        # 5 resent as well (the peer resends everything from 3): already processed, ignored
        await client.send(MsgType.NEW_ORDER_SINGLE, order(b"C5"), seq=5, poss_dup=True,
                          orig_sending_time=utc(-1))
        await client.expect_nothing()
        assert acceptor.app.values(t.CL_ORD_ID) == [b"C2", b"C3", b"C5"]
        client.next_seq = 6
        assert (await client.test_request()).seq_num == 6
    scripted(tmp_path, script)


def test_messages_held_beyond_a_gap_are_bounded_then_logout_with_reason(
        tmp_path: Path) -> None:
    async def main() -> None:
        async with Acceptor(tmp_path / "a.db", max_held=3) as acceptor:
            client = await RawClient.connect(acceptor.port)
            try:
                await client.logon()
                for seq in (3, 4, 5):  # 2 never comes: each waits for it
                    await client.send(MsgType.NEW_ORDER_SINGLE, order(b"C%d" % seq), seq=seq)
                resend = await client.expect(MsgType.RESEND_REQUEST)
                assert resend.get_int(t.BEGIN_SEQ_NO) == 2
                await client.send(MsgType.NEW_ORDER_SINGLE, order(b"C4"), seq=4)  # a repeat
                await client.expect_nothing()
                await client.send(MsgType.NEW_ORDER_SINGLE, order(b"C6"), seq=6)
                replies = await client.expect_disconnect()
                assert [m.msg_type for m in replies] == [MsgType.LOGOUT]
                assert replies[0].get(t.TEXT) == (
                    b"more than 3 messages held beyond a sequence gap at 2")
                assert acceptor.app.messages == []  # none of them was processed
            finally:
                await client.close()
    run(main())


def test_2c_msg_seq_num_too_low_then_logout(tmp_path: Path) -> None:
    async def script(acceptor: Acceptor, client: RawClient) -> None:
        await client.logon()
        await client.test_request()  # seq 2
        await client.send(MsgType.HEARTBEAT, seq=2)
        replies = await client.expect_disconnect()
        assert [m.msg_type for m in replies] == [MsgType.LOGOUT]
        assert replies[0].get(t.TEXT) == b"MsgSeqNum too low, expecting 3 but received 2"
        assert replies[0].seq_num == 3
    scripted(tmp_path, script)


def test_2d_poss_dup_already_received_then_ignored(tmp_path: Path) -> None:
    """QuickFIX 2e_PossDupAlreadyReceived: a duplicate at a number already processed."""
    async def script(acceptor: Acceptor, client: RawClient) -> None:
        await client.logon()
        await client.send(MsgType.NEW_ORDER_SINGLE, order(b"C2"))
        await client.expect(MsgType.EXECUTION_REPORT)
        await client.send(MsgType.NEW_ORDER_SINGLE, order(b"C2"), seq=2, poss_dup=True,
                          orig_sending_time=utc(-5))
        await client.expect_nothing()
        assert acceptor.app.values(t.CL_ORD_ID) == [b"C2"]
        assert (await client.test_request()).seq_num == 3
    scripted(tmp_path, script)


def test_2e_poss_dup_not_received_then_processed(tmp_path: Path) -> None:
    """QuickFIX 2e_PossDupNotReceived: PossDupFlag at the expected number is processed."""
    async def script(acceptor: Acceptor, client: RawClient) -> None:
        await client.logon()
        await client.send(MsgType.NEW_ORDER_SINGLE, order(b"C2"), poss_dup=True,
                          orig_sending_time=utc(-5))
        report = await client.expect(MsgType.EXECUTION_REPORT)
        assert (report.seq_num, report.get(t.CL_ORD_ID)) == (2, b"C2")
        assert acceptor.app.values(t.CL_ORD_ID) == [b"C2"]
        assert acceptor.app.values(t.POSS_DUP_FLAG) == [b"Y"]
    scripted(tmp_path, script)


def test_2f_poss_dup_orig_sending_time_after_sending_time_then_reject_and_logout(
        tmp_path: Path) -> None:
    async def script(acceptor: Acceptor, client: RawClient) -> None:
        await client.logon()
        await client.send(MsgType.NEW_ORDER_SINGLE, order(b"C2"))
        await client.expect(MsgType.EXECUTION_REPORT)
        await client.send(MsgType.NEW_ORDER_SINGLE, order(b"C2"), seq=2, poss_dup=True,
                          orig_sending_time=utc(+10))
        replies = await client.expect_disconnect()
        assert [m.msg_type for m in replies] == [MsgType.REJECT, MsgType.LOGOUT]
        assert_reject(replies[0], 2, Reason.SENDING_TIME_ACCURACY_PROBLEM, None, b"D")
        assert acceptor.app.values(t.CL_ORD_ID) == [b"C2"]
    scripted(tmp_path, script)


def test_2g_poss_dup_without_orig_sending_time_then_reject(tmp_path: Path) -> None:
    async def script(acceptor: Acceptor, client: RawClient) -> None:
        await client.logon()
        await client.send(MsgType.NEW_ORDER_SINGLE, order(b"C2"))
        await client.expect(MsgType.EXECUTION_REPORT)
        await client.send(MsgType.NEW_ORDER_SINGLE, order(b"C2"), seq=2, poss_dup=True)
        assert_reject(await client.expect(MsgType.REJECT), 2, Reason.REQUIRED_TAG_MISSING,
                      t.ORIG_SENDING_TIME, b"D")
        assert acceptor.app.values(t.CL_ORD_ID) == [b"C2"]
        # acceptor: 2 the ER, 3 the Reject; the client goes on at 3, so 2 was not counted again
        assert (await client.test_request()).seq_num == 4
    scripted(tmp_path, script)


def test_2k_comp_id_does_not_match_then_reject_and_logout(tmp_path: Path) -> None:
    async def script(acceptor: Acceptor, client: RawClient) -> None:
        await client.logon()
        await client.send(MsgType.TEST_REQUEST, b"112=X\x01", target=b"OTHER")
        replies = await client.expect_disconnect()
        assert [m.msg_type for m in replies] == [MsgType.REJECT, MsgType.LOGOUT]
        assert_reject(replies[0], 2, Reason.COMP_ID_PROBLEM, None, MsgType.TEST_REQUEST)
    scripted(tmp_path, script)


def test_2o_sending_time_out_of_range_then_reject_and_logout(tmp_path: Path) -> None:
    async def script(acceptor: Acceptor, client: RawClient) -> None:
        await client.logon()
        await client.send(MsgType.HEARTBEAT, sending_time=utc(-121))
        replies = await client.expect_disconnect()
        assert [m.msg_type for m in replies] == [MsgType.REJECT, MsgType.LOGOUT]
        assert_reject(replies[0], 2, Reason.SENDING_TIME_ACCURACY_PROBLEM, None, b"0")
    scripted(tmp_path, script)


def test_2q_msg_type_not_valid_then_reject(tmp_path: Path) -> None:
    async def script(acceptor: Acceptor, client: RawClient) -> None:
        await client.logon()
        await client.send(b"*")
        assert_reject(await client.expect(MsgType.REJECT), 2, Reason.INVALID_MSG_TYPE,
                      t.MSG_TYPE, b"*")
        await client.send(b"\xff")
        assert_reject(await client.expect(MsgType.REJECT), 3, Reason.INVALID_MSG_TYPE,
                      t.MSG_TYPE)
        assert acceptor.app.messages == []
        assert (await client.test_request()).seq_num == 4
    scripted(tmp_path, script)


def test_unsupported_message_type_then_business_reject(tmp_path: Path) -> None:
    """QuickFIX 2r: a valid FIX 4.4 type this application does not take (QuoteRequest)."""
    async def script(acceptor: Acceptor, client: RawClient) -> None:
        await client.logon()
        await client.send(b"R", b"131=Q1\x01146=1\x0155=2330\x01")
        reject = await client.expect(MsgType.BUSINESS_MESSAGE_REJECT)
        assert reject.seq_num == 2
        assert reject.get_int(t.REF_SEQ_NUM) == 2
        assert reject.get(t.REF_MSG_TYPE) == b"R"
        assert reject.get_int(t.BUSINESS_REJECT_REASON) == (
            BusinessRejectReason.UNSUPPORTED_MESSAGE_TYPE)
        assert (await client.test_request()).seq_num == 3
    scripted(tmp_path, script)


def test_2t_msg_type_not_third_then_ignored_without_consuming_seq(tmp_path: Path) -> None:
    async def script(acceptor: Acceptor, client: RawClient) -> None:
        await client.logon()
        misplaced = frame(b"34=2\x0135=0\x0149=%s\x0156=%s\x0152=%s\x01" % (
            CLIENT.encode(), ACCEPTOR.encode(), utc()))
        await client.write(misplaced)
        await client.expect_nothing()
        assert (await client.test_request()).seq_num == 2  # at seq 2: it was not consumed
    scripted(tmp_path, script)


# -- 3: the standard trailer and framing ---------------------------------------------------

def test_3b_bad_checksum_then_ignored(tmp_path: Path) -> None:
    async def script(acceptor: Acceptor, client: RawClient) -> None:
        await client.logon()
        good = client.build(MsgType.TEST_REQUEST, b"112=BAD\x01", seq=2)
        await client.write(good[:-4] + b"%03d\x01" % ((int(good[-4:-1]) + 1) % 256))
        await client.expect_nothing()
        assert (await client.test_request(b"GOOD")).seq_num == 2  # seq 2 not consumed
    scripted(tmp_path, script)


def test_2m_body_length_wrong_then_ignored(tmp_path: Path) -> None:
    async def script(acceptor: Acceptor, client: RawClient) -> None:
        await client.logon()
        good = client.build(MsgType.TEST_REQUEST, b"112=BAD\x01", seq=2)
        await client.write(good.replace(b"\x019=", b"\x019=1", 1))  # a length far too long
        await client.write(good.replace(b"\x019=", b"\x019=0", 1)[:-1])  # truncated trailer
        await client.expect_nothing()
        client.next_seq = 2
        assert (await client.test_request(b"x" * 200)).seq_num == 2
    scripted(tmp_path, script)


def test_garbage_bytes_then_ignored(tmp_path: Path) -> None:
    async def script(acceptor: Acceptor, client: RawClient) -> None:
        await client.logon()
        await client.write(b"\x00\xffGET / HTTP/1.1\r\n\r\n8=FIX.4.2\x019=5\x0135=0\x0110=000\x01")
        await client.write(b"8=FIX.4.4\x019=abc\x01" + bytes(range(256)))
        await client.expect_nothing()
        assert (await client.test_request()).seq_num == 2
        assert acceptor.app.sessions[0].state is State.ACTIVE
    scripted(tmp_path, script)


def _as_version(raw: bytes, begin_string: bytes) -> bytes:
    """The same message under another BeginString, its BodyLength and CheckSum still right."""
    message = raw[:-7].replace(b"8=FIX.4.4", b"8=" + begin_string, 1)
    return message + b"10=%03d\x01" % (sum(message) % 256)


def test_begin_string_not_fix44_after_logon_then_logout_with_reason(tmp_path: Path) -> None:
    async def script(acceptor: Acceptor, client: RawClient) -> None:
        await client.logon()
        await client.write(_as_version(client.build(MsgType.TEST_REQUEST, b"112=V\x01"),
                                       b"FIX.4.2"))
        replies = await client.expect_disconnect()
        assert [m.msg_type for m in replies] == [MsgType.LOGOUT]
        assert replies[0].get(t.TEXT) == b"Incorrect BeginString: expected FIX.4.4"
        assert acceptor.app.sessions[0].state is State.DISCONNECTED
    scripted(tmp_path, script)


def test_begin_string_not_fix44_instead_of_logon_then_disconnect(tmp_path: Path) -> None:
    async def script(acceptor: Acceptor, client: RawClient) -> None:
        logon = client.build(MsgType.LOGON, b"98=0\x01108=30\x01553=u\x01554=pw\x01")
        await client.write(_as_version(logon, b"FIXT.1.1"))
        assert await client.expect_disconnect() == []
        assert acceptor.app.sessions == []
    scripted(tmp_path, script)


def test_10mb_frame_then_dropped_and_session_continues(tmp_path: Path) -> None:
    async def script(acceptor: Acceptor, client: RawClient) -> None:
        await client.logon()
        size = 10 * 1024 * 1024
        head = b"8=FIX.4.4\x019=%d\x0135=D\x0149=%s\x0156=%s\x0134=2\x01" % (
            size, CLIENT.encode(), ACCEPTOR.encode())
        await client.write(head + b"58=" + b"x" * (size - 3) + b"10=000\x01")
        await client.expect_nothing()
        assert (await client.test_request()).seq_num == 2
        session = acceptor.app.sessions[0]
        assert session.state is State.ACTIVE
        assert session._decoder.buffered < 1024
    scripted(tmp_path, script)


# -- 4 and 6: heartbeats and test requests -------------------------------------------------

def test_4b_test_request_then_heartbeat(tmp_path: Path) -> None:
    async def script(acceptor: Acceptor, client: RawClient) -> None:
        await client.logon()
        heartbeat = await client.test_request(b"HELLO")
        assert heartbeat.get(t.TEST_REQ_ID) == b"HELLO"
        assert heartbeat.seq_num == 2
    scripted(tmp_path, script)


def test_4a_6_silent_peer_gets_heartbeat_then_test_request_then_disconnect(
        tmp_path: Path) -> None:
    """HeartBtInt 1 s: our side quiet for 1 s gets a Heartbeat; silent for 1.2 s (20% grace),
    a TestRequest; silent for 2.5 intervals, the connection is closed."""
    async def script(acceptor: Acceptor, client: RawClient) -> None:
        logon = await client.logon(heartbeat_s=1)
        assert logon.get(t.HEART_BT_INT) == b"1"  # the acceptor takes the initiator's interval
        loop = asyncio.get_running_loop()
        start = loop.time()
        await client.expect(MsgType.HEARTBEAT, timeout=1.5)
        heartbeat_at = loop.time() - start
        test_request = await client.expect(MsgType.TEST_REQUEST, timeout=1.5)
        test_request_at = loop.time() - start
        assert test_request.get(t.TEST_REQ_ID)
        before_close = await client.expect_disconnect(timeout=2)
        closed_at = loop.time() - start
        assert {m.msg_type for m in before_close} <= {MsgType.HEARTBEAT}  # still 1 s apart
        assert 0.8 <= heartbeat_at <= 1.15
        assert 1.15 <= test_request_at <= 1.5
        assert 2.4 <= closed_at <= 2.9
        assert acceptor.app.logouts == 1
    scripted(tmp_path, script, timed=True)


def test_6_answered_test_request_keeps_the_session(tmp_path: Path) -> None:
    async def script(acceptor: Acceptor, client: RawClient) -> None:
        await client.logon(heartbeat_s=1)
        for _ in range(2):  # answer each TestRequest; heartbeats in between are fine
            while (message := await client.receive(timeout=3)).msg_type != b"1":
                assert message.msg_type == MsgType.HEARTBEAT
            await client.send(MsgType.HEARTBEAT, b"112=%s\x01" % message.fields[t.TEST_REQ_ID])
        assert acceptor.app.sessions[0].state is State.ACTIVE
    scripted(tmp_path, script, timed=True)


# -- 8 (QuickFIX numbering; the brief's "7"): answering a ResendRequest ---------------------

def test_8_resend_request_then_app_resent_with_poss_dup_and_admin_gap_filled(
        tmp_path: Path) -> None:
    async def script(acceptor: Acceptor, client: RawClient) -> None:
        await client.logon()  # acceptor 1: Logon
        await client.test_request()  # 2: Heartbeat
        sent = {}
        for cl_ord_id in (b"C3", b"C4"):  # 3, 4: ExecutionReports
            await client.send(MsgType.NEW_ORDER_SINGLE, order(cl_ord_id))
            report = await client.expect(MsgType.EXECUTION_REPORT)
            sent[report.seq_num] = report
        await client.test_request()  # 5: Heartbeat
        await client.send(MsgType.NEW_ORDER_SINGLE, order(b"C6"))
        report = await client.expect(MsgType.EXECUTION_REPORT)  # 6
        sent[report.seq_num] = report
        assert sorted(sent) == [3, 4, 6]

        await client.send(MsgType.RESEND_REQUEST, b"7=1\x0116=0\x01")
        replay = [await client.receive() for _ in range(5)]
        assert [(m.msg_type, m.seq_num) for m in replay] == [
            (b"4", 1), (b"8", 3), (b"8", 4), (b"4", 5), (b"8", 6)]
        for message in replay:
            assert message.get(t.POSS_DUP_FLAG) == b"Y"
            assert message.get(t.ORIG_SENDING_TIME)
        gap_fills = [m for m in replay if m.msg_type == MsgType.SEQUENCE_RESET]
        assert [(m.get(t.GAP_FILL_FLAG), m.get_int(t.NEW_SEQ_NO)) for m in gap_fills] == [
            (b"Y", 3), (b"Y", 6)]
        for message in replay:
            if message.msg_type == MsgType.EXECUTION_REPORT:
                original = sent[message.seq_num]
                assert message.get(t.ORIG_SENDING_TIME) == original.get(t.SENDING_TIME)
                assert message.get(t.CL_ORD_ID) == original.get(t.CL_ORD_ID)

        await client.send(MsgType.RESEND_REQUEST, b"7=2\x0116=4\x01")  # a bounded range
        replay = [await client.receive() for _ in range(2)]
        assert [(m.msg_type, m.seq_num) for m in replay] == [(b"4", 2), (b"8", 3)]
        assert replay[0].get_int(t.NEW_SEQ_NO) == 3
        replay.append(await client.receive())
        assert (replay[2].msg_type, replay[2].seq_num) == (b"8", 4)
        await client.expect_nothing(0.2)
        # the resends took no new numbers: the next message is 7
        assert (await client.test_request()).seq_num == 7
    scripted(tmp_path, script)


def test_20_simultaneous_resend_request_answered_while_waiting_for_a_gap(
        tmp_path: Path) -> None:
    async def script(acceptor: Acceptor, client: RawClient) -> None:
        await client.logon()
        await client.send(MsgType.NEW_ORDER_SINGLE, order(b"C2"))
        await client.expect(MsgType.EXECUTION_REPORT)  # acceptor 2
        await client.send(MsgType.HEARTBEAT, seq=7)
        resend = await client.expect(MsgType.RESEND_REQUEST)  # acceptor 3
        assert (resend.get_int(t.BEGIN_SEQ_NO), resend.get_int(t.END_SEQ_NO)) == (3, 0)
        await client.send(MsgType.RESEND_REQUEST, b"7=2\x0116=2\x01", seq=8)
        again = await client.expect(MsgType.EXECUTION_REPORT)
        assert (again.seq_num, again.get(t.POSS_DUP_FLAG)) == (2, b"Y")
        for seq in (3, 4, 5, 6):
            await client.send(MsgType.HEARTBEAT, seq=seq, poss_dup=True,
                              orig_sending_time=utc(-1))
        client.next_seq = 9  # 7 and 8 were queued and are now processed in order
        assert (await client.test_request()).seq_num == 4
    scripted(tmp_path, script)


# -- 10 and 11: SequenceReset ---------------------------------------------------------------

def test_10_sequence_reset_gap_fill(tmp_path: Path) -> None:
    async def script(acceptor: Acceptor, client: RawClient) -> None:
        await client.logon()
        await client.send(MsgType.SEQUENCE_RESET, b"123=Y\x0136=20\x01")  # seq 2 == expected
        client.next_seq = 20
        assert (await client.test_request()).seq_num == 2
        # below the expected number with PossDupFlag: a duplicate, ignored
        await client.send(MsgType.SEQUENCE_RESET, b"123=Y\x0136=30\x01", seq=5, poss_dup=True,
                          orig_sending_time=utc(-1))
        await client.expect_nothing()
        # above: a gap, so a ResendRequest (the gap fill itself waits its turn)
        await client.send(MsgType.SEQUENCE_RESET, b"123=Y\x0136=40\x01", seq=25)
        resend = await client.expect(MsgType.RESEND_REQUEST)
        assert (resend.get_int(t.BEGIN_SEQ_NO), resend.get_int(t.END_SEQ_NO)) == (21, 0)
        await client.send(MsgType.SEQUENCE_RESET, b"123=Y\x0136=25\x01", seq=21, poss_dup=True,
                          orig_sending_time=utc(-1))
        client.next_seq = 40
        assert (await client.test_request()).seq_num == 4
        # below the expected number without PossDupFlag: logout
        await client.send(MsgType.SEQUENCE_RESET, b"123=Y\x0136=50\x01", seq=3)
        replies = await client.expect_disconnect()
        assert [m.msg_type for m in replies] == [MsgType.LOGOUT]
        assert replies[0].get(t.TEXT) == b"MsgSeqNum too low, expecting 41 but received 3"
    scripted(tmp_path, script)


def test_10_gap_fill_new_seq_no_not_above_msg_seq_num_then_reject(tmp_path: Path) -> None:
    async def script(acceptor: Acceptor, client: RawClient) -> None:
        await client.logon()
        await client.send(MsgType.SEQUENCE_RESET, b"123=Y\x0136=2\x01")  # seq 2, NewSeqNo 2
        assert_reject(await client.expect(MsgType.REJECT), 2, Reason.VALUE_INCORRECT,
                      t.NEW_SEQ_NO, MsgType.SEQUENCE_RESET)
        assert (await client.test_request()).seq_num == 3
    scripted(tmp_path, script)


def test_11_sequence_reset_reset(tmp_path: Path) -> None:
    async def script(acceptor: Acceptor, client: RawClient) -> None:
        await client.logon()
        # 11a: NewSeqNo above expected, whatever MsgSeqNum the reset carries
        await client.send(MsgType.SEQUENCE_RESET, b"36=20\x01", seq=0)
        client.next_seq = 20
        assert (await client.test_request()).seq_num == 2
        # 11b: NewSeqNo equal to expected: accepted
        await client.send(MsgType.SEQUENCE_RESET, b"36=21\x01123=N\x01", seq=0)
        assert (await client.test_request()).seq_num == 3
        # 11c: NewSeqNo below expected: Reject, sequence unchanged
        await client.send(MsgType.SEQUENCE_RESET, b"36=5\x01", seq=0)
        assert_reject(await client.expect(MsgType.REJECT), 0, Reason.VALUE_INCORRECT,
                      t.NEW_SEQ_NO, MsgType.SEQUENCE_RESET)
        assert (await client.test_request()).seq_num == 5
    scripted(tmp_path, script)


# -- 13: logout -----------------------------------------------------------------------------

def test_13_logout(tmp_path: Path) -> None:
    async def script(acceptor: Acceptor, client: RawClient) -> None:
        await client.logon()
        await client.send(MsgType.LOGOUT, b"58=done\x01")
        replies = await client.expect_disconnect()
        assert [(m.msg_type, m.seq_num) for m in replies] == [(MsgType.LOGOUT, 2)]
        await eventually(lambda: acceptor.app.logouts == 1)
        assert acceptor.app.sessions[0].logout_reason == "done"
        assert acceptor.store().next_target_seq == 3
        assert acceptor.store().next_sender_seq == 3
    scripted(tmp_path, script)


# -- 14: malformed messages -----------------------------------------------------------------

def test_14_required_tag_missing_then_reject(tmp_path: Path) -> None:
    async def script(acceptor: Acceptor, client: RawClient) -> None:
        await client.logon()
        # 14b: TargetCompID missing from the header
        await client.write(frame(b"35=0\x0149=%s\x0134=2\x0152=%s\x01" % (
            CLIENT.encode(), utc())))
        client.next_seq = 3
        assert_reject(await client.expect(MsgType.REJECT), 2, Reason.REQUIRED_TAG_MISSING,
                      t.TARGET_COMP_ID, b"0")
        # a NewOrderSingle without Symbol: the application's own Reject
        await client.send(MsgType.NEW_ORDER_SINGLE, order(b"C3", symbol=None))
        assert_reject(await client.expect(MsgType.REJECT), 3, Reason.REQUIRED_TAG_MISSING,
                      t.SYMBOL, b"D")
        assert (await client.test_request()).seq_num == 4  # both numbers were consumed
    scripted(tmp_path, script)


@pytest.mark.parametrize(("body", "reason", "ref_tag"), [
    (b"112=A\x01abc=1\x01", Reason.INVALID_TAG_NUMBER, None),  # 14a
    (b"112=A\x0158=\x01", Reason.TAG_SPECIFIED_WITHOUT_VALUE, t.TEXT),  # 14d
    (b"112=A\x01112=B\x01", Reason.TAG_APPEARS_MORE_THAN_ONCE, t.TEST_REQ_ID),  # 14h
], ids=["14a_invalid_tag", "14d_tag_without_value", "14h_repeated_tag"])
def test_14_malformed_message_then_reject_and_seq_consumed(
        tmp_path: Path, body: bytes, reason: int, ref_tag: bytes | None) -> None:
    async def script(acceptor: Acceptor, client: RawClient) -> None:
        await client.logon()
        await client.send(MsgType.TEST_REQUEST, body)
        assert_reject(await client.expect(MsgType.REJECT), 2, reason, ref_tag,
                      MsgType.TEST_REQUEST)
        assert (await client.test_request()).seq_num == 3
    scripted(tmp_path, script)


def test_14b_gap_fill_without_new_seq_no_then_reject_and_seq_consumed(tmp_path: Path) -> None:
    async def script(acceptor: Acceptor, client: RawClient) -> None:
        await client.logon()
        await client.send(MsgType.SEQUENCE_RESET, b"123=Y\x01")
        assert_reject(await client.expect(MsgType.REJECT), 2, Reason.REQUIRED_TAG_MISSING,
                      t.NEW_SEQ_NO, MsgType.SEQUENCE_RESET)
        assert (await client.test_request()).seq_num == 3
    scripted(tmp_path, script)


def test_14f_sequence_reset_with_bad_gap_fill_flag_then_reject(tmp_path: Path) -> None:
    async def script(acceptor: Acceptor, client: RawClient) -> None:
        await client.logon()
        await client.send(MsgType.SEQUENCE_RESET, b"123=X\x0136=9\x01")
        assert_reject(await client.expect(MsgType.REJECT), 2, Reason.INCORRECT_DATA_FORMAT,
                      t.GAP_FILL_FLAG, MsgType.SEQUENCE_RESET)
        client.next_seq = 2  # neither a gap fill nor a reset was applied
        assert (await client.test_request()).seq_num == 3
    scripted(tmp_path, script)


def test_2k_comp_id_problem_with_malformed_msg_seq_num_then_reject_and_logout(
        tmp_path: Path) -> None:
    async def script(acceptor: Acceptor, client: RawClient) -> None:
        await client.logon()
        await client.write(frame(b"35=0\x0149=%s\x0156=OTHER\x0134=x2\x0152=%s\x01" % (
            CLIENT.encode(), utc())))
        replies = await client.expect_disconnect()
        assert [m.msg_type for m in replies] == [MsgType.REJECT, MsgType.LOGOUT]
        assert_reject(replies[0], 0, Reason.COMP_ID_PROBLEM, None, b"0")
    scripted(tmp_path, script)


def test_resend_request_without_begin_seq_no_then_reject(tmp_path: Path) -> None:
    async def script(acceptor: Acceptor, client: RawClient) -> None:
        await client.logon()
        await client.send(MsgType.RESEND_REQUEST, b"16=0\x01")
        assert_reject(await client.expect(MsgType.REJECT), 2, Reason.REQUIRED_TAG_MISSING,
                      t.BEGIN_SEQ_NO, MsgType.RESEND_REQUEST)
        assert (await client.test_request()).seq_num == 3
    scripted(tmp_path, script)


# -- initiator against acceptor ---------------------------------------------------------------

def _sent_types(store_messages: list[tuple[int, bytes, bytes, bytes]]) -> list[bytes]:
    return [msg_type for _, msg_type, _, _ in store_messages]


def test_idle_initiator_and_acceptor_keep_the_session_with_heartbeats(tmp_path: Path) -> None:
    async def main(tmp_path: Path) -> None:
        async with Acceptor(tmp_path / "a.db") as acceptor:
            initiator = Initiator(tmp_path / "i.db", acceptor.port, heartbeat_s=1)
            session = await initiator.connect()
            await asyncio.sleep(3.3)
            assert session.state is State.ACTIVE
            accepted = acceptor.app.sessions[0]
            assert accepted.state is State.ACTIVE
            mine = _sent_types(initiator.store().sent_between(1, 100))
            theirs = _sent_types(acceptor.store().sent_between(1, 100))
            assert mine.count(MsgType.HEARTBEAT) >= 2
            assert theirs.count(MsgType.HEARTBEAT) >= 2
            assert MsgType.TEST_REQUEST not in mine + theirs  # heartbeats kept both sides fed
            await initiator.close()
            assert session.state is State.DISCONNECTED
            assert accepted.state is State.DISCONNECTED
    run_timed(main, tmp_path)


def test_restarted_initiator_and_acceptor_resume_their_sequence_numbers(tmp_path: Path) -> None:
    async def one_run(run_no: int) -> None:
        """Both sides start from the same two SQLite files, trade three orders, log out."""
        async with Acceptor(tmp_path / "a.db") as acceptor:
            initiator = Initiator(tmp_path / "i.db", acceptor.port)
            session = await initiator.connect()
            first = 1 + 5 * run_no  # each run uses Logon, 3 orders or reports, Logout
            assert session.store is not None
            assert session.store.next_sender_seq == first + 1
            for i in range(3):
                session.send(MsgType.NEW_ORDER_SINGLE, order(b"R%dC%d" % (run_no, i)))
            await eventually(lambda: len(initiator.app.messages) == 3)
            expected = [first + 1 + i for i in range(3)]
            assert [m.seq_num for m in acceptor.app.messages] == expected
            assert [m.seq_num for m in initiator.app.messages] == expected
            assert MsgType.RESEND_REQUEST not in _sent_types(
                initiator.store().sent_between(1, 100))
            await initiator.close()

    async def main() -> None:
        await one_run(0)
        await one_run(1)
        async with Acceptor(tmp_path / "a.db") as acceptor:
            store = acceptor.store()
            assert (store.next_sender_seq, store.next_target_seq) == (11, 11)
            types = _sent_types(store.sent_between(1, 100))
            assert MsgType.RESEND_REQUEST not in types
            assert types.count(MsgType.LOGON) == 2
    run(main())


def test_messages_sent_while_the_peer_was_away_are_recovered_nothing_lost_nothing_twice(
        tmp_path: Path) -> None:
    async def main() -> None:
        async with Acceptor(tmp_path / "a.db") as acceptor:
            initiator = Initiator(tmp_path / "i.db", acceptor.port)
            session = await initiator.connect()
            for i in range(3):
                session.send(MsgType.NEW_ORDER_SINGLE, order(b"A%d" % i))
            await eventually(lambda: len(initiator.app.messages) == 3)
            session.disconnect()  # the line drops without a Logout
            await eventually(lambda: acceptor.app.logouts == 1)
            assert initiator.db is not None
            initiator.db.close()
            initiator.db = None
            # both sides keep working while apart: numbered and stored, not delivered
            store = acceptor.store()
            ids = header_ids(ACCEPTOR, CLIENT)
            for i in range(4):
                record_message(store, ids, MsgType.EXECUTION_REPORT,
                               b"11=AWAY%d\x01150=0\x0139=0\x01" % i)
            store.commit()
            db = open_database(tmp_path / "i.db")
            istore = SessionStore(db, initiator.config.session_id)
            iids = header_ids(CLIENT, ACCEPTOR)
            for i in range(5):
                record_message(istore, iids, MsgType.NEW_ORDER_SINGLE, order(b"B%d" % i))
            istore.commit()
            db.close()
            # reconnect: each side's Logon shows the other a gap; each resends what it missed
            session = await initiator.connect()
            await eventually(lambda: len(initiator.app.messages) == 3 + 4 + 5)
            await eventually(lambda: len(acceptor.app.messages) == 3 + 5)
            await asyncio.sleep(0.2)  # anything sent twice would have arrived by now
            assert acceptor.app.values(t.CL_ORD_ID) == [
                b"A0", b"A1", b"A2", b"B0", b"B1", b"B2", b"B3", b"B4"]
            assert initiator.app.values(t.CL_ORD_ID, b"8") == [
                b"A0", b"A1", b"A2", b"AWAY0", b"AWAY1", b"AWAY2", b"AWAY3",
                b"B0", b"B1", b"B2", b"B3", b"B4"]
            assert acceptor.app.values(t.POSS_DUP_FLAG) == [None] * 3 + [b"Y"] * 5
            assert session.state is State.ACTIVE
            istore = initiator.store()
            astore = acceptor.store()
            assert istore.next_target_seq == astore.next_sender_seq
            assert astore.next_target_seq == istore.next_sender_seq
            await initiator.close()
    run(main())


def test_good_sessions_keep_working_while_a_bad_connection_misbehaves(tmp_path: Path) -> None:
    orders_each = 40

    async def good(acceptor: Acceptor, name: str) -> list[bytes | None]:
        initiator = Initiator(tmp_path / f"{name}.db", acceptor.port, sender=name)
        session = await initiator.connect()
        for i in range(orders_each):
            session.send(MsgType.NEW_ORDER_SINGLE, order(b"%s-%d" % (name.encode(), i)))
            if i % 8 == 0:
                await asyncio.sleep(0.01)
        await eventually(lambda: len(initiator.app.messages) == orders_each, timeout=5)
        assert session.state is State.ACTIVE
        await initiator.close()
        return initiator.app.values(t.CL_ORD_ID, b"8")

    async def bad(acceptor: Acceptor) -> None:
        client = await RawClient.connect(acceptor.port, sender="BAD")
        try:
            await client.logon()
            for _ in range(5):
                await client.write(b"\x00garbage\xff" * 1000)
                await asyncio.sleep(0)
            size = 10 * 1024 * 1024
            await client.write(b"8=FIX.4.4\x019=%d\x0135=D\x01" % size + b"y" * size)
            await client.send(MsgType.TEST_REQUEST, b"112=A\x01112=B\x01")
            reject = await client.expect(MsgType.REJECT)
            assert reject.get_int(t.SESSION_REJECT_REASON) == Reason.TAG_APPEARS_MORE_THAN_ONCE
            await client.send(MsgType.NEW_ORDER_SINGLE, order(b"X", symbol=None))
            await client.expect(MsgType.REJECT)
            assert (await client.test_request()).seq_num == 4  # A, 3, 3, then 0
        finally:
            await client.close()

    async def stranger(acceptor: Acceptor) -> None:
        client = await RawClient.connect(acceptor.port, sender="STRANGER")
        try:
            await client.send(MsgType.NEW_ORDER_SINGLE, order(b"S"))  # no Logon first
            assert await client.expect_disconnect() == []
        finally:
            await client.close()

    async def main() -> None:
        async with Acceptor(tmp_path / "a.db") as acceptor:
            names = ["GOOD1", "GOOD2", "GOOD3"]
            results = await asyncio.wait_for(asyncio.gather(
                *(good(acceptor, name) for name in names), bad(acceptor), stranger(acceptor)),
                timeout=15)
            for name, reports in zip(names, results[:3], strict=True):
                assert reports == [b"%s-%d" % (name.encode(), i) for i in range(orders_each)]
            delivered = acceptor.app.values(t.CL_ORD_ID)
            assert len(delivered) == 3 * orders_each + 1  # + the bad line's order without 55
            assert len(set(delivered)) == len(delivered)
    run(main())


def test_acceptor_reports_while_the_line_is_down_and_initiator_recovers_them(
        tmp_path: Path) -> None:
    """The exchange's case: reports numbered while the member is away reach it after Logon."""
    async def main() -> None:
        async with Acceptor(tmp_path / "a.db") as acceptor:
            initiator = Initiator(tmp_path / "i.db", acceptor.port)
            await initiator.connect()
            await initiator.close()
            store = acceptor.store()
            for i in range(3):
                record_message(store, header_ids(ACCEPTOR, CLIENT), MsgType.EXECUTION_REPORT,
                               b"11=LATE%d\x01150=0\x0139=0\x01" % i)
            store.commit()
            await initiator.connect()
            await eventually(lambda: len(initiator.app.messages) == 3)
            await asyncio.sleep(0.1)
            assert initiator.app.values(t.CL_ORD_ID, b"8") == [b"LATE0", b"LATE1", b"LATE2"]
            assert all(m.get(t.POSS_DUP_FLAG) == b"Y" for m in initiator.app.messages)
            assert initiator.store().next_target_seq == acceptor.store().next_sender_seq
            await initiator.close()
    run(main())


def test_send_throttled_paces_messages_at_the_outbound_rate(tmp_path: Path) -> None:
    async def main(tmp_path: Path) -> None:
        async with Acceptor(tmp_path / "a.db") as acceptor:
            initiator = Initiator(tmp_path / "i.db", acceptor.port, outbound_rate=40)
            session = await initiator.connect()
            for i in range(50):  # a burst of 40, then one every 25 ms
                await session.send_throttled(MsgType.NEW_ORDER_SINGLE, order(b"T%d" % i))
            await eventually(lambda: len(acceptor.app.messages) == 50)
            arrival = acceptor.app.arrival
            assert arrival[39] - arrival[0] < 0.15
            assert arrival[49] - arrival[39] >= 0.2
            assert acceptor.app.values(t.CL_ORD_ID) == [b"T%d" % i for i in range(50)]
            await initiator.close()
    run_timed(main, tmp_path)


def test_initiator_gives_up_and_hangs_up_when_no_logon_answer_comes(tmp_path: Path) -> None:
    async def main() -> None:
        hung_up = asyncio.Event()

        async def silent_peer(reader: asyncio.StreamReader,
                              writer: asyncio.StreamWriter) -> None:
            while await reader.read(65536):  # read the Logon, never answer it
                pass
            hung_up.set()
            writer.close()

        server = await asyncio.start_server(silent_peer, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        db = open_database(tmp_path / "i.db")
        config = SessionConfig(CLIENT, ACCEPTOR)
        binding = SessionBinding(config, SessionStore(db, config.session_id), Recorder())
        try:
            with pytest.raises(TimeoutError):
                await connect_initiator("127.0.0.1", port, binding, timeout=0.3)
            await asyncio.wait_for(hung_up.wait(), WAIT)  # the connection was not left open
        finally:
            server.close()
            await server.wait_closed()
            db.close()
    run(main())
