"""The AP server: every front channel reaches the middle office through here.

1. ``identities``: users of every role, argon2id passwords, lockout, expiring sessions.
2. ``certificates``: the platform's certificate authority and investors' signed orders,
   cancels and amends; ``nonces`` remembers accepted nonces (SQLite, shared by AP processes)
   and ``signed`` runs a signed action once and answers its retries alike.
3. ``authz``: who may do what to which broker's and account's data, decided in one place.
4. ``app``: the HTTP API (FastAPI) under /api/v1 on top of the core's sequencer.
"""
