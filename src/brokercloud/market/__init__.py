"""TWSE/TPEx market rules as pure functions.

Prices are integers in NT$0.01 units, quantities are shares, amounts are whole NT$.
Everything here is deterministic and free of I/O so every other package can import it.
"""
