"""The back office: booking every fill as it arrives, investors' and brokers' net amounts,
T+2 settlement with the depository and margin records, and the exceptions queue."""
