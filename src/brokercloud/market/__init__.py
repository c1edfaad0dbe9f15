"""TWSE/TPEx market rules as pure functions.

Prices are integers in NT$0.01 units, quantities are shares, amounts are whole NT$.
Everything here is deterministic so every other package can import it; the only I/O is reading
the packaged instrument master, once, in ``securities``.
"""
