"""The exchange simulator: TWSE's matching rules behind an in-process API.

Wiring, in the order data flows:
1. ``commands``: what a member sends (new order, cancel, amend).
2. ``engine.Exchange``: validates against ``brokercloud.market`` rules, owns the books.
3. ``book.Book``: one tick-indexed book per symbol and session; continuous matching.
4. ``auction``: call-auction price and uncross for every auction-matched session.
5. ``schedule``: the day's timeline (phases, periodic auctions, expiry) on a simulated clock.
6. ``events``: what the exchange reports back; ``market_data`` publishes quotes and trades.
"""
