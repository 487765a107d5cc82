"""Caches: the Redis client guard (fail-fast, paused after an outage), the
read cache keyed by read-model progress, the cached dashboard and public
verification views, and a small in-process TTL cache.

May import: ``domain``, ``projections``, ``infra.postgres`` and the shared
top-level modules. Not :mod:`infra.streaming`, :mod:`infra.projection` nor
:mod:`infra.identity`.
"""
