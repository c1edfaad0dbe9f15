from brokercloud.market.reference import next_reference


def test_next_reference_when_closed_then_close():
    assert next_reference(7470, 7620, 7610, 7630) == 7620


def test_next_reference_when_no_close_and_bid_above_old_then_best_bid():
    assert next_reference(7470, 0, 8210, 0) == 8210


def test_next_reference_when_no_close_and_ask_below_old_then_best_ask():
    assert next_reference(7470, 0, 0, 6730) == 6730


def test_next_reference_when_no_close_and_quotes_straddle_old_then_old():
    assert next_reference(7470, 0, 7400, 7500) == 7470
    assert next_reference(7470, 0, 0, 0) == 7470
