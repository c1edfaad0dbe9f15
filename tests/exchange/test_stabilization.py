"""Price stabilisation (switchable): 3.5% band, two-minute pause ended by a call auction, and the
delayed opening and closing auctions."""

from brokercloud.codes import Code
from brokercloud.exchange.commands import NewOrder
from brokercloud.exchange.engine import Exchange
from brokercloud.exchange.events import Cancelled, Filled, Rejected
from brokercloud.exchange.stabilization import Stabilizer, band_levels
from brokercloud.market.orders import OrderType, Side, TimeInForce
from brokercloud.market.prices import price_ladder
from brokercloud.market.sessions import at

from .support import LIMIT_DOWN, LIMIT_UP, LOT, REF, SYMBOL, TSMC

BUY, SELL = Side.BUY, Side.SELL
PRICES = price_ladder(LIMIT_DOWN, LIMIT_UP)


def _exchange(*, stabilised: bool = True) -> Exchange:
    ex = Exchange([(TSMC, REF)], seed=1, price_stabilization=stabilised)
    ex.advance_to(at(8, 30))
    return ex


def _order(ex: Exchange, cl: str, side: Side, qty: int, price: int = 0,
           order_type: OrderType = OrderType.LIMIT,
           tif: TimeInForce = TimeInForce.ROD) -> None:
    ex.new_order(NewOrder("B1", "A1", cl, SYMBOL, side, qty, price, order_type, tif))


def _fills(ex: Exchange) -> list[tuple[str, int, int]]:
    return [(e.cl_ord_id, e.price, e.qty) for e in ex.events if isinstance(e, Filled)]


def _open_at_reference(ex: Exchange) -> None:
    """An opening trade at 74.70 makes 74.70 the stabilisation reference until 09:05."""
    _order(ex, "ob", BUY, LOT, 7470)
    _order(ex, "os", SELL, LOT, 7470)
    ex.advance_to(at(9, 0))
    assert _fills(ex) == [("ob", 7470, LOT), ("os", 7470, LOT)]


def test_band_levels_when_reference_7470_then_72_10_to_77_30():
    low, high = band_levels(PRICES, 7470)
    assert (PRICES[low], PRICES[high]) == (7210, 7730)  # 72.0855 up to 77.3145


def test_stabilizer_when_past_0905_then_five_minute_vwap_of_recent_trades():
    stabilizer = Stabilizer(PRICES, 7470)
    stabilizer.record(at(9, 0), [(7450, 1000)])  # the opening price
    stabilizer.record(at(9, 2), [(7470, 1000)])
    stabilizer.record(at(9, 4), [(7500, 3000), (7600, 1000)])
    assert stabilizer.reference(at(9, 4, 59)) == 7450  # the opening price until 09:05
    # 09:05: the window (09:00, 09:05] holds the 09:02 and 09:04 trades
    assert stabilizer.reference(at(9, 5)) == (7470 * 1000 + 7500 * 3000 + 7600 * 1000) // 5000
    assert stabilizer.reference(at(9, 7, 30)) == (7500 * 3000 + 7600 * 1000) // 4000
    assert stabilizer.reference(at(9, 20)) == (7500 * 3000 + 7600 * 1000) // 4000  # kept


def test_fill_when_beyond_band_then_pause_two_minutes_and_resume_by_auction():
    ex = _exchange()
    _open_at_reference(ex)
    ex.advance_to(at(9, 1))
    _order(ex, "s1", SELL, LOT, 7730)
    _order(ex, "s2", SELL, LOT, 7740)
    _order(ex, "b", BUY, 2 * LOT, 7800)
    assert _fills(ex)[2:] == [("s1", 7730, LOT), ("b", 7730, LOT)]  # 77.40 is beyond 77.30
    assert ex.listings[SYMBOL].paused
    book = ex.book(SYMBOL)
    assert book is not None and book.depth() == ([(7800, LOT)], [(7740, LOT)])  # crossed: paused
    _order(ex, "ioc", BUY, LOT, 7800, tif=TimeInForce.IOC)
    _order(ex, "mkt", BUY, LOT, order_type=OrderType.MARKET, tif=TimeInForce.IOC)
    assert [(e.cl_ord_id, e.code) for e in ex.events if isinstance(e, Rejected)] == [
        ("ioc", Code.ORDER_TYPE_NOT_ALLOWED), ("mkt", Code.MARKET_ORDER_NOT_ALLOWED)]
    ex.advance_to(at(9, 2, 59))
    assert len(_fills(ex)) == 4  # nothing trades during the pause
    ex.advance_to(at(9, 3))
    # one lot crosses 77.40..78.00; the price nearest the last trade (77.30) wins
    assert _fills(ex)[4:] == [("b", 7740, LOT), ("s2", 7740, LOT)]
    assert not ex.listings[SYMBOL].paused and ex.listings[SYMBOL].continuous


def test_pause_when_market_order_rests_then_deleted_with_its_code():
    ex = _exchange()
    _open_at_reference(ex)
    _order(ex, "mb", BUY, LOT, order_type=OrderType.MARKET)  # rests at limit-up
    _order(ex, "s1", SELL, 3 * LOT, 7700)  # would trade at the resting 82.10: beyond the band
    deleted = [(e.cl_ord_id, e.code) for e in ex.events if isinstance(e, Cancelled)]
    assert deleted == [("mb", Code.MARKET_ORDER_DELETED_IN_PAUSE)]
    assert ex.listings[SYMBOL].paused


def test_opening_when_indicative_beyond_band_then_auction_delayed_to_0902():
    ex = _exchange()
    _order(ex, "b", BUY, LOT, 7800)
    _order(ex, "s", SELL, LOT, 7800)  # would open at 78.00: 4.4% above 74.70
    ex.advance_to(at(9, 0))
    assert _fills(ex) == []
    ex.advance_to(at(9, 2))
    assert _fills(ex) == [("b", 7800, LOT), ("s", 7800, LOT)]


def test_closing_when_indicative_beyond_vwap_band_then_delayed_and_orders_kept_until_1332():
    ex = _exchange()
    _open_at_reference(ex)
    ex.advance_to(at(13, 25))
    _order(ex, "cb", BUY, LOT, 7800)
    _order(ex, "cs", SELL, LOT, 7800)
    ex.advance_to(at(13, 30))
    listing = ex.listings[SYMBOL]
    assert listing.close == 0 and listing.close_delayed
    assert len(list(ex.book(SYMBOL).resting())) == 2  # not expired at 13:30
    ex.advance_to(at(13, 32))
    assert listing.close == 7800
    assert _fills(ex)[2:] == [("cb", 7800, LOT), ("cs", 7800, LOT)]


def test_switch_when_off_then_fills_beyond_band_do_not_pause():
    ex = _exchange(stabilised=False)
    _open_at_reference(ex)
    _order(ex, "s1", SELL, LOT, 7730)
    _order(ex, "s2", SELL, LOT, 7740)
    _order(ex, "b", BUY, 2 * LOT, 7800)
    assert _fills(ex)[2:] == [("s1", 7730, LOT), ("b", 7730, LOT), ("s2", 7740, LOT),
                              ("b", 7740, LOT)]
    assert not ex.listings[SYMBOL].paused
