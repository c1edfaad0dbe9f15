"""FIX 4.4 tag numbers and enumerated values used by brokercloud, as bytes.

Messages stay bytes from the socket to the application; converting every tag to ``int`` would
cost more than the rest of parsing, so tags are compared as their decimal text.
"""

from __future__ import annotations

BEGIN_STRING_VALUE = b"FIX.4.4"

# standard header and trailer
BEGIN_STRING = b"8"
BODY_LENGTH = b"9"
MSG_TYPE = b"35"
SENDER_COMP_ID = b"49"
TARGET_COMP_ID = b"56"
MSG_SEQ_NUM = b"34"
SENDING_TIME = b"52"
POSS_DUP_FLAG = b"43"
POSS_RESEND = b"97"
ORIG_SENDING_TIME = b"122"
ON_BEHALF_OF_COMP_ID = b"115"
DELIVER_TO_COMP_ID = b"128"
CHECKSUM = b"10"

# session-level bodies
ENCRYPT_METHOD = b"98"
HEART_BT_INT = b"108"
RESET_SEQ_NUM_FLAG = b"141"
USERNAME = b"553"
PASSWORD = b"554"
TEST_REQ_ID = b"112"
BEGIN_SEQ_NO = b"7"
END_SEQ_NO = b"16"
GAP_FILL_FLAG = b"123"
NEW_SEQ_NO = b"36"
REF_SEQ_NUM = b"45"
REF_TAG_ID = b"371"
REF_MSG_TYPE = b"372"
SESSION_REJECT_REASON = b"373"
BUSINESS_REJECT_REF_ID = b"379"
BUSINESS_REJECT_REASON = b"380"
TEXT = b"58"

# orders and executions
ACCOUNT = b"1"
AVG_PX = b"6"
CL_ORD_ID = b"11"
CUM_QTY = b"14"
EXEC_ID = b"17"
LAST_PX = b"31"
LAST_QTY = b"32"
ORDER_ID = b"37"
ORDER_QTY = b"38"
ORD_STATUS = b"39"
ORD_TYPE = b"40"
ORIG_CL_ORD_ID = b"41"
PRICE = b"44"
SIDE = b"54"
SYMBOL = b"55"
TIME_IN_FORCE = b"59"
TRANSACT_TIME = b"60"
CXL_REJ_REASON = b"102"
ORD_REJ_REASON = b"103"
EXEC_TYPE = b"150"
LEAVES_QTY = b"151"
TRADING_SESSION_ID = b"336"
CXL_REJ_RESPONSE_TO = b"434"

# market data
MD_REQ_ID = b"262"
SUBSCRIPTION_REQUEST_TYPE = b"263"
MARKET_DEPTH = b"264"
NO_RELATED_SYM = b"146"
NO_MD_ENTRIES = b"268"
MD_ENTRY_TYPE = b"269"
MD_ENTRY_PX = b"270"
MD_ENTRY_SIZE = b"271"
MD_ENTRY_POSITION_NO = b"290"
MD_REJ_REASON = b"281"


class MsgType:
    HEARTBEAT = b"0"
    TEST_REQUEST = b"1"
    RESEND_REQUEST = b"2"
    REJECT = b"3"
    SEQUENCE_RESET = b"4"
    LOGOUT = b"5"
    LOGON = b"A"
    EXECUTION_REPORT = b"8"
    ORDER_CANCEL_REJECT = b"9"
    NEW_ORDER_SINGLE = b"D"
    ORDER_CANCEL_REQUEST = b"F"
    ORDER_CANCEL_REPLACE_REQUEST = b"G"
    ORDER_STATUS_REQUEST = b"H"
    BUSINESS_MESSAGE_REJECT = b"j"
    MARKET_DATA_REQUEST = b"V"
    MARKET_DATA_SNAPSHOT = b"W"
    MARKET_DATA_INCREMENTAL = b"X"
    MARKET_DATA_REQUEST_REJECT = b"Y"


#: Every MsgType FIX 4.4 defines. Any other (bar user-defined types, which begin with "U") is
#: answered with a session Reject, reason 11; a defined type the application does not take gets
#: a BusinessMessageReject instead.
FIX44_MSG_TYPES = frozenset(
    [c.encode() for c in "0123456789ABCDEFGHJKLMNPQRSTVWXYZabcdefghijklmnopqrstuvwxyz"]
    + [b"A" + c.encode() for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"]
    + [b"B" + c.encode() for c in "ABCDEFGH"])

ADMIN_MSG_TYPES = frozenset({
    MsgType.HEARTBEAT, MsgType.TEST_REQUEST, MsgType.RESEND_REQUEST, MsgType.REJECT,
    MsgType.SEQUENCE_RESET, MsgType.LOGOUT, MsgType.LOGON,
})


class SessionRejectReason:
    """Tag 373 values (FIX 4.4)."""

    INVALID_TAG_NUMBER = 0
    REQUIRED_TAG_MISSING = 1
    TAG_NOT_DEFINED_FOR_MESSAGE_TYPE = 2
    UNDEFINED_TAG = 3
    TAG_SPECIFIED_WITHOUT_VALUE = 4
    VALUE_INCORRECT = 5
    INCORRECT_DATA_FORMAT = 6
    COMP_ID_PROBLEM = 9
    SENDING_TIME_ACCURACY_PROBLEM = 10
    INVALID_MSG_TYPE = 11
    TAG_APPEARS_MORE_THAN_ONCE = 13
    TAG_SPECIFIED_OUT_OF_REQUIRED_ORDER = 14
    OTHER = 99


class BusinessRejectReason:
    """Tag 380 values (FIX 4.4)."""

    OTHER = 0
    UNKNOWN_ID = 1
    UNKNOWN_SECURITY = 2
    UNSUPPORTED_MESSAGE_TYPE = 3
    APPLICATION_NOT_AVAILABLE = 4
    CONDITIONALLY_REQUIRED_FIELD_MISSING = 5
    NOT_AUTHORIZED = 6
    DELIVER_TO_FIRM_NOT_AVAILABLE = 7
