"""Redis-backed shared state, never required: the Redis client guard
(fail-fast, paused after an outage), the read cache keyed by read-model
progress with the cached dashboard and public verification views, the
fixed-window rate limits (login and invitation attempts, API token budgets,
public verification) with their in-process fallback, and a small in-process
TTL cache.

May import: ``domain``, ``projections``, ``infra.postgres`` and the shared
top-level modules. Not :mod:`infra.streaming`, :mod:`infra.projection` nor
:mod:`infra.identity` (identity builds on these limits).
"""
