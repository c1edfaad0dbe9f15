"""Benchmarks run by ``brokercloud bench NAME``: each prints its figures and ends with one JSON
line, so a person reads the table and a script reads the last line."""
