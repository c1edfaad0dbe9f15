"""brokercloud: a shared cloud trading platform for Taiwan securities brokers."""

__version__ = "0.1.0"
