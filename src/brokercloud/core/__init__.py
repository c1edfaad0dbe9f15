"""The shared middle office: one deterministic state machine fed by a journal.

1. ``commands``: every input that changes state (reference data, orders, approvals, exchange
   reports), each carrying its own time.
2. ``journal``: the append-only, checksummed file they are written to before anything answers.
3. ``sequencer``: groups commands, commits them with one fsync, applies them one at a time.
4. ``state.CoreState.apply``: reference data, order management (``oms``), risk (``risk``),
   tiered approval; no clock, no randomness, no I/O, so replay rebuilds it exactly.
5. ``events``: what apply decided, for the lines, the back office and the front ends.
"""
