"""Result codes for the whole platform: one enum, a numeric range per subsystem.

Callers branch on codes, metrics count them and tests assert them; each code has one fixed
sentence in English and in Traditional Chinese so a person always learns what happened.
Ranges: 1xxx basic order checks (market rules), 2xxx the middle office (20xx commands and
orders, 21xx account, 22xx stock attributes, 23xx trade attributes, 24xx regulator, 25xx
tiered approval, 26xx exchange reports that contradict the order), 3xxx exchange order
handling, 31xx reasons an exchange order ended without a fill, 35xx the exchange's network
front, 6xxx the back office (60xx booking, 61xx settlement, 62xx customer management).
Later subsystems take the free ranges.
"""

from __future__ import annotations

import enum


class Code(enum.IntEnum):
    OK = 0
    # 1xxx: basic order checks, the same rules the front end, the risk engine and the exchange apply
    UNKNOWN_SYMBOL = 1001
    PRICE_NOT_ON_TICK = 1002
    PRICE_OUTSIDE_LIMITS = 1003
    QUANTITY_NOT_POSITIVE = 1004
    QUANTITY_ABOVE_CAP = 1005
    NOT_BOARD_LOTS = 1006
    NOT_ODD_LOT = 1007
    ORDER_TYPE_NOT_ALLOWED = 1008
    MARKET_ORDER_NOT_ALLOWED = 1009
    SESSION_CLOSED = 1010
    PRICE_NOT_CLOSING_PRICE = 1011
    NO_CLOSING_PRICE = 1012
    PRICE_NOT_POSITIVE = 1013
    # 20xx: middle office commands and orders
    UNKNOWN_BROKER = 2001
    UNKNOWN_ORDER_ID = 2002
    ORDER_NOT_CANCELLABLE = 2003
    ORDER_NOT_AMENDABLE = 2004
    DUPLICATE_CLIENT_REF = 2005
    ALREADY_EXISTS = 2006
    INVALID_REFERENCE_DATA = 2007
    DISCOUNT_OUT_OF_RANGE = 2008
    TOO_MANY_ORDERS = 2009
    # 21xx: account checks
    UNKNOWN_ACCOUNT = 2101
    ACCOUNT_SUSPENDED = 2102
    ACCOUNT_DEFAULTED = 2103
    ACCOUNT_OF_OTHER_BROKER = 2104
    # 22xx: stock attributes
    NOT_MARGIN_ELIGIBLE = 2201
    NOT_SHORT_ELIGIBLE = 2202
    NOT_A_MARGIN_ACCOUNT = 2203
    SHORT_BELOW_PREVIOUS_CLOSE = 2204
    # 23xx: trade attributes
    INSUFFICIENT_INVENTORY = 2301
    TRADING_LIMIT_EXCEEDED = 2302
    CREDIT_LIMIT_EXCEEDED = 2303
    BROKER_LIMIT_EXCEEDED = 2304
    STOCK_LIMIT_EXCEEDED = 2305
    NO_INVENTORY_TO_SELL = 2306
    # 24xx: regulator
    DISPOSITION_PREPAYMENT_REQUIRED = 2401
    # 25xx: tiered approval
    NOT_PENDING_APPROVAL = 2501
    NOT_A_SUPERVISOR = 2502
    SUPERVISOR_LEVEL_TOO_LOW = 2503
    APPROVAL_DENIED = 2504
    APPROVAL_EXPIRED = 2505
    SUPERVISOR_OTHER_BRANCH = 2506
    # 26xx: exchange reports that contradict our order (held for the operator)
    FILL_ABOVE_OPEN_QTY = 2601
    FILL_FOR_CLOSED_ORDER = 2602
    FILL_PRICE_BEYOND_LIMIT = 2603
    # 60xx: back office booking
    HOLDINGS_WOULD_GO_NEGATIVE = 6001
    NOT_A_TRADING_DAY = 6002
    INVALID_FILL = 6003
    MARGIN_POSITION_TOO_SMALL = 6004
    EXEC_ID_CONFLICT = 6005
    TRADE_DATE_SETTLED = 6006
    BACK_OFFICE_FAULT = 6007
    TOP_UP_EXCEEDS_BANK_BALANCE = 6008
    MALFORMED_COMMAND = 6009
    REPAYMENT_EXCEEDS_BANK_BALANCE = 6010
    # 61xx: back office settlement
    NOT_A_SETTLEMENT_DAY = 6101
    ALREADY_SETTLED = 6102
    SETTLEMENT_OUT_OF_ORDER = 6103
    INVESTOR_DEFAULTED = 6104
    NO_SUCH_DEFAULT = 6105
    DEFAULT_ALREADY_CLOSED = 6106
    DEFAULT_PAYMENT_EXCEEDS_BANK_BALANCE = 6107
    # 62xx: customer management (master data, performance, statements)
    UNKNOWN_CUSTOMER = 6201
    INVALID_PERIOD = 6202
    INVALID_BONUS_RATE = 6203
    INVALID_MARK_PRICE = 6204
    STATEMENT_FONT_MISSING = 6205
    # 40xx: identities and sessions
    INVALID_CREDENTIALS = 4001
    USER_LOCKED = 4002
    SESSION_INVALID = 4003
    NOT_AUTHENTICATED = 4004
    # 41xx: authorization
    FORBIDDEN = 4101
    # 42xx: certificates and signed orders
    SIGNATURE_MISSING = 4201
    SIGNATURE_INVALID = 4202
    CERTIFICATE_UNTRUSTED = 4203
    CERTIFICATE_EXPIRED = 4204
    CERTIFICATE_REVOKED = 4205
    CERTIFICATE_NOT_FOR_ACCOUNT = 4206
    SIGNATURE_STALE = 4207
    NONCE_REPLAYED = 4208
    CSR_INVALID = 4209
    SIGNED_REQUEST_IN_PROGRESS = 4210
    # 43xx: services behind the AP server
    BACK_OFFICE_UNAVAILABLE = 4301
    # 3xxx: exchange order handling
    DUPLICATE_CLIENT_ORDER_ID = 3001
    UNKNOWN_ORDER = 3002
    ORDER_ALREADY_DONE = 3003
    AMEND_QUANTITY_NOT_REDUCED = 3004
    AMEND_PRICE_AND_QUANTITY = 3005
    AMEND_MARKET_ORDER_PRICE = 3006
    AMEND_NOTHING = 3007
    AMEND_BELOW_FILLED = 3008
    # 31xx: why an order left the book without (fully) filling
    CANCELLED_ON_REQUEST = 3101
    IOC_REMAINDER_CANCELLED = 3102
    FOK_NOT_FILLABLE = 3103
    MARKET_ORDER_DELETED_AT_CLOSING_CALL = 3105
    EXPIRED_END_OF_SESSION = 3106
    MARKET_ORDER_DELETED_IN_PAUSE = 3107
    # 35xx: the exchange's network front (lines)
    BROKER_NOT_ON_LINE = 3501
    LINE_RATE_LIMIT_EXCEEDED = 3502


_SENTENCES: dict[Code, tuple[str, str]] = {
    Code.OK: ("Accepted.", "成功。"),
    Code.UNKNOWN_SYMBOL: ("No security with this symbol is listed today.", "查無此股票代號。"),
    Code.PRICE_NOT_ON_TICK: (
        "The price is not a multiple of the tick for its price band.", "價格不符合升降單位。"),
    Code.PRICE_OUTSIDE_LIMITS: (
        "The price is outside today's limit-up and limit-down prices.", "價格超出當日漲跌停範圍。"),
    Code.QUANTITY_NOT_POSITIVE: (
        "The quantity must be at least one share.", "委託數量必須大於零。"),
    Code.QUANTITY_ABOVE_CAP: (
        "The quantity is above the 499-lot limit for one order.", "委託數量超過單筆 499 張上限。"),
    Code.NOT_BOARD_LOTS: (
        "Board-lot sessions take whole lots of 1,000 shares only.", "整股交易須以一千股為單位。"),
    Code.NOT_ODD_LOT: (
        "Odd-lot sessions take 1 to 999 shares only.", "零股交易數量須為 1 至 999 股。"),
    Code.ORDER_TYPE_NOT_ALLOWED: (
        "This session accepts only limit orders valid for the rest of the day (ROD).",
        "此時段僅接受限價當日有效 (ROD) 委託。"),
    Code.MARKET_ORDER_NOT_ALLOWED: (
        "Market orders are not allowed for this security or in this session.",
        "此股票或此時段不接受市價委託。"),
    Code.SESSION_CLOSED: ("This session does not accept orders now.", "此時段不接受委託。"),
    Code.PRICE_NOT_CLOSING_PRICE: (
        "Fixed-price trading takes orders at today's closing price only.",
        "盤後定價交易僅能以當日收盤價委託。"),
    Code.NO_CLOSING_PRICE: (
        "There is no fixed-price session for a security without a closing price today.",
        "該股票當日無收盤價，不進行盤後定價交易。"),
    Code.PRICE_NOT_POSITIVE: (
        "A limit order needs a price above zero.", "限價委託價格必須大於零。"),
    Code.UNKNOWN_BROKER: ("No member broker with this code.", "查無此券商。"),
    Code.UNKNOWN_ORDER_ID: ("No order with this ID at this broker.", "查無此委託書號。"),
    Code.ORDER_NOT_CANCELLABLE: (
        "The order is already finished or a cancel is already pending.",
        "該委託已結束或刪單處理中，無法刪單。"),
    Code.ORDER_NOT_AMENDABLE: (
        "The order is not live at the exchange or another change is pending.",
        "該委託目前無法改單。"),
    Code.DUPLICATE_CLIENT_REF: (
        "This client reference was already used for another order today.",
        "此委託參考編號今日已使用。"),
    Code.ALREADY_EXISTS: ("That record already exists.", "資料已存在。"),
    Code.INVALID_REFERENCE_DATA: (
        "The reference data is incomplete or inconsistent.", "基本資料不完整或不一致。"),
    Code.DISCOUNT_OUT_OF_RANGE: (
        "A commission discount is 0 to 10,000 basis points of the broker's rate.",
        "手續費折扣須介於 0 至 10,000 基點（萬分之一）之間。"),
    Code.TOO_MANY_ORDERS: (
        "The request would place more than 500 orders; split it.",
        "單次請求委託筆數超過 500 筆，請分批送出。"),
    Code.UNKNOWN_ACCOUNT: ("No such account.", "查無此帳號。"),
    Code.ACCOUNT_SUSPENDED: ("The account is suspended.", "該帳戶已暫停交易。"),
    Code.ACCOUNT_DEFAULTED: (
        "The account is in default and cannot trade until the case is closed.",
        "該帳戶為違約戶，不得交易。"),
    Code.ACCOUNT_OF_OTHER_BROKER: (
        "The account belongs to another broker.", "該帳戶不屬於此券商。"),
    Code.NOT_MARGIN_ELIGIBLE: (
        "This stock may not be bought on margin.", "此股票不得融資買進。"),
    Code.NOT_SHORT_ELIGIBLE: ("This stock may not be sold short.", "此股票不得融券賣出。"),
    Code.NOT_A_MARGIN_ACCOUNT: (
        "Margin and short orders need a margin account.", "信用交易須開立信用帳戶。"),
    Code.SHORT_BELOW_PREVIOUS_CLOSE: (
        "A short sale may not be priced below the previous close.",
        "融券賣出價格不得低於前日收盤價。"),
    Code.INSUFFICIENT_INVENTORY: (
        "Not enough shares to sell: holdings plus today's buys minus open and filled sells.",
        "庫存不足。"),
    Code.TRADING_LIMIT_EXCEEDED: (
        "The order would exceed the account's trading limit.", "超過投資額度。"),
    Code.CREDIT_LIMIT_EXCEEDED: (
        "The order would exceed the account's credit limit.", "超過信用額度。"),
    Code.BROKER_LIMIT_EXCEEDED: (
        "The order would exceed the broker's daily limit.", "超過券商單日額度。"),
    Code.STOCK_LIMIT_EXCEEDED: (
        "The order would exceed the limit set for this stock.", "超過個股限額。"),
    Code.NO_INVENTORY_TO_SELL: (
        "The account has no shares of this security available to sell in this quantity.",
        "該帳戶此股票可賣庫存不足以委託。"),
    Code.DISPOSITION_PREPAYMENT_REQUIRED: (
        "This disposition stock needs the cash or shares collected before the order.",
        "處置股票須預收款券。"),
    Code.NOT_PENDING_APPROVAL: (
        "The order is not waiting for approval.", "該委託未在待核准狀態。"),
    Code.NOT_A_SUPERVISOR: (
        "Only a supervisor of this broker may approve or deny orders.", "僅該券商主管可核准。"),
    Code.SUPERVISOR_LEVEL_TOO_LOW: (
        "This order needs a supervisor of a higher level.", "須更高層級主管核准。"),
    Code.APPROVAL_DENIED: ("A supervisor denied the order.", "主管不核准該委託。"),
    Code.APPROVAL_EXPIRED: (
        "Nobody approved the order in time.", "委託核准逾時。"),
    Code.SUPERVISOR_OTHER_BRANCH: (
        "The order is of another branch's customer; a supervisor of that branch or of the "
        "head office decides.", "該委託屬其他分公司客戶，須由該分公司或總公司主管核准。"),
    Code.FILL_ABOVE_OPEN_QTY: (
        "The exchange reported a fill larger than the order's open quantity; it is held for "
        "the operator, not booked.",
        "交易所回報成交數量大於委託未成交數量，暫不入帳，待人員處理。"),
    Code.FILL_FOR_CLOSED_ORDER: (
        "The exchange reported a fill for an order that is no longer open; it is held for "
        "the operator, not booked.", "交易所回報已結束委託之成交，暫不入帳，待人員處理。"),
    Code.FILL_PRICE_BEYOND_LIMIT: (
        "The exchange reported a fill at a price worse than the order's limit; it is booked "
        "and flagged for the operator.", "交易所回報成交價劣於委託限價，已入帳並通知人員處理。"),
    Code.HOLDINGS_WOULD_GO_NEGATIVE: (
        "Booking this fill would make the account's holdings negative; it was not booked.",
        "此筆成交入帳後庫存將為負數，未予入帳。"),
    Code.NOT_A_TRADING_DAY: (
        "The fill is dated on a day without trading.", "成交日期非交易日。"),
    Code.INVALID_FILL: (
        "A fill needs a positive price and quantity and a known side and credit type.",
        "成交資料之價格、數量、買賣別或信用別有誤。"),
    Code.MARGIN_POSITION_TOO_SMALL: (
        "The margin sell or short cover is larger than the open margin position.",
        "融資賣出或融券買進數量超過信用交易部位。"),
    Code.EXEC_ID_CONFLICT: (
        "A fill with this execution ID was already booked with different terms.",
        "此成交序號已入帳但內容不同。"),
    Code.TRADE_DATE_SETTLED: (
        "The fill's trade date has already been settled.", "該成交日已完成交割。"),
    Code.BACK_OFFICE_FAULT: (
        "The back office failed to apply this input; it is logged for the operator.",
        "後台處理此筆資料失敗，已記錄待查。"),
    Code.TOP_UP_EXCEEDS_BANK_BALANCE: (
        "The top-up is more than the investor's settlement bank account holds.",
        "補繳金額超過交割帳戶餘額。"),
    Code.REPAYMENT_EXCEEDS_BANK_BALANCE: (
        "Repaying the loan with its interest takes more than the investor's settlement bank "
        "account holds.", "償還融資本息超過交割帳戶餘額。"),
    Code.MALFORMED_COMMAND: (
        "The input does not fit its schema (types, enumerations, dates) and was not recorded.",
        "資料格式不符，未予記錄。"),
    Code.NOT_A_SETTLEMENT_DAY: (
        "Cash and shares do not move on this day.", "該日非交割日。"),
    Code.ALREADY_SETTLED: (
        "This settlement date has already been settled.", "該交割日已完成交割。"),
    Code.SETTLEMENT_OUT_OF_ORDER: (
        "An earlier settlement date with trades is still unsettled.", "尚有較早交割日未完成交割。"),
    Code.INVESTOR_DEFAULTED: (
        "The investor did not pay for the day's trades by the settlement deadline.",
        "投資人未於交割期限前完成交割，列為違約。"),
    Code.NO_SUCH_DEFAULT: (
        "The account did not default on that settlement date.", "該帳戶於該交割日無違約案件。"),
    Code.DEFAULT_ALREADY_CLOSED: (
        "That default case is already closed.", "該違約案件已結案。"),
    Code.DEFAULT_PAYMENT_EXCEEDS_BANK_BALANCE: (
        "Paying what the broker laid out plus the penalty takes more than the investor's "
        "settlement bank account holds.", "償付違約款項及違約金超過交割帳戶餘額。"),
    Code.UNKNOWN_CUSTOMER: (
        "No such account at this broker.", "本券商查無此帳戶。"),
    Code.INVALID_PERIOD: (
        "The period is not valid: give a month as YYYY-MM, or a first day not after the last.",
        "查詢期間無效：月份請以 YYYY-MM 表示，起日不得晚於迄日。"),
    Code.INVALID_BONUS_RATE: (
        "A bonus rate is a whole number of parts per million of commission, zero or more.",
        "獎金比率須為手續費之百萬分之一整數倍，且不得為負。"),
    Code.INVALID_MARK_PRICE: (
        "A price for valuing holdings must be a positive whole number of NT$0.01.",
        "庫存評價價格須為以 0.01 元為單位之正整數。"),
    Code.STATEMENT_FONT_MISSING: (
        "No Traditional Chinese font is installed for the statement PDF: install the Debian "
        "package fonts-wqy-microhei or set BROKERCLOUD_CJK_FONT to a TTF or TTC file.",
        "找不到對帳單 PDF 所需之繁體中文字型：請安裝 Debian 套件 fonts-wqy-microhei，"
        "或以 BROKERCLOUD_CJK_FONT 指定 TTF/TTC 字型檔。"),
    Code.INVALID_CREDENTIALS: ("The user ID or password is wrong.", "帳號或密碼錯誤。"),
    Code.USER_LOCKED: (
        "Too many failed logins: the user is locked for a while.",
        "登入失敗次數過多，暫時鎖定。"),
    Code.SESSION_INVALID: (
        "The session has expired or was logged out; log in again.",
        "連線逾時或已登出，請重新登入。"),
    Code.NOT_AUTHENTICATED: ("Log in first.", "請先登入。"),
    Code.FORBIDDEN: ("Your role may not do this here.", "您的權限不足。"),
    Code.SIGNATURE_MISSING: (
        "Investors' orders, cancels and amends must be signed.",
        "投資人之委託、刪單及改單須經數位簽章。"),
    Code.SIGNATURE_INVALID: (
        "The signature does not match the request.", "簽章與委託內容不符。"),
    Code.CERTIFICATE_UNTRUSTED: (
        "The certificate was not issued by the platform's authority.", "憑證非本平台所發。"),
    Code.CERTIFICATE_EXPIRED: (
        "The certificate is not valid at this time.", "憑證不在有效期間。"),
    Code.CERTIFICATE_REVOKED: ("The certificate has been revoked.", "憑證已廢止。"),
    Code.CERTIFICATE_NOT_FOR_ACCOUNT: (
        "The certificate does not belong to this account.", "憑證與帳號不符。"),
    Code.SIGNATURE_STALE: (
        "The signed request is too old or from the future; sign it again.", "簽章時間逾時。"),
    Code.NONCE_REPLAYED: (
        "This nonce was already used for a different signed request; sign with a new nonce.",
        "此簽章隨機碼已用於內容不同的委託，請以新隨機碼重新簽章。"),
    Code.CSR_INVALID: (
        "The certificate request is malformed or its key is too weak.",
        "憑證申請格式錯誤或金鑰強度不足。"),
    Code.SIGNED_REQUEST_IN_PROGRESS: (
        "This signed request is still being processed; look up the order before retrying.",
        "此筆簽章委託仍在處理中，請先查詢委託狀態。"),
    Code.BACK_OFFICE_UNAVAILABLE: (
        "This AP server has no back office: settlement amounts, depository holdings and "
        "exceptions cannot be shown.",
        "此 AP 伺服器未連接後台，無法查詢交割款項、集保庫存與異常。"),
    Code.DUPLICATE_CLIENT_ORDER_ID: (
        "This broker already used this client order ID today.", "委託書編號當日重複。"),
    Code.UNKNOWN_ORDER: ("No such order exists for this broker.", "查無此筆委託。"),
    Code.ORDER_ALREADY_DONE: (
        "The order is already filled, cancelled or expired.", "該筆委託已成交、刪除或失效。"),
    Code.AMEND_QUANTITY_NOT_REDUCED: (
        "A quantity change may only reduce the quantity still open.", "改量僅能減少未成交數量。"),
    Code.AMEND_PRICE_AND_QUANTITY: (
        "Change the price or the quantity, not both in one request.", "改價與改量不可同時進行。"),
    Code.AMEND_MARKET_ORDER_PRICE: (
        "A market order's price cannot be changed, and a limit order cannot become a market order.",
        "市價委託不可改價，限價與市價不可互換。"),
    Code.AMEND_NOTHING: ("The request changes nothing.", "改單內容與原委託相同。"),
    Code.AMEND_BELOW_FILLED: (
        "The new quantity is not above what has already filled; send a cancel instead.",
        "改量後數量不大於已成交數量，請改為刪單。"),
    Code.CANCELLED_ON_REQUEST: ("Cancelled on request.", "已依要求刪單。"),
    Code.IOC_REMAINDER_CANCELLED: (
        "The unfilled part of an immediate-or-cancel order was cancelled.",
        "立即成交否則取消 (IOC) 委託之未成交部分已取消。"),
    Code.FOK_NOT_FILLABLE: (
        "The fill-or-kill order could not be filled in full at once and was cancelled.",
        "全部成交否則取消 (FOK) 委託無法全部成交，已取消。"),
    Code.MARKET_ORDER_DELETED_AT_CLOSING_CALL: (
        "Resting market orders are deleted when the closing auction starts at 13:25.",
        "13:25 收盤集合競價開始時刪除未成交之市價委託。"),
    Code.EXPIRED_END_OF_SESSION: (
        "The order expired unfilled at the end of its session.", "委託於該時段結束時失效。"),
    Code.MARKET_ORDER_DELETED_IN_PAUSE: (
        "Resting market orders are deleted when price stabilisation pauses matching.",
        "價格穩定措施暫停撮合，刪除未成交之市價委託。"),
    Code.BROKER_NOT_ON_LINE: (
        "The broker named in OnBehalfOfCompID is not registered on this line.",
        "此線路未登錄該券商，不得代為傳送委託。"),
    Code.LINE_RATE_LIMIT_EXCEEDED: (
        "The line sent more messages per second than its rate limit allows.",
        "線路每秒傳送訊息數超過流量上限。"),
}


def describe(code: Code, language: str = "en") -> str:
    """The fixed sentence for a code, in English ('en') or Traditional Chinese ('zh-TW')."""
    english, chinese = _SENTENCES[code]
    return chinese if language == "zh-TW" else english
