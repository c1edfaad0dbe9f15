"""One FIX 4.4 engine for the whole platform: the exchange's acceptor, the platform's exchange
lines (initiators) and the DMA acceptor for institutions.

1. ``tags``: tag numbers and enumerated values, as bytes (messages are parsed as bytes).
2. ``codec``: framing, parsing and validation, encoding with BodyLength and CheckSum.
3. ``store``: durable sequence numbers and sent messages (SQLite).
4. ``session``: the asyncio session layer (logon, heartbeats, resend, gap fill, logout).
"""
