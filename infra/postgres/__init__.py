"""Postgres adapters: the connection pool and its error mapping, migrations,
the read-model row stores and listings, projection schemas, tracking,
progress, dead letters and projection halts, the identity directory and its side
records, idempotency answers, the notification outbox, certificate numbers
and the views the query routes read.

May import: ``domain``, ``commands`` and ``projections`` ports, and the shared
top-level modules (settings, errors, mail). Not the capability rooms above
it (:mod:`infra.eventstore`, :mod:`infra.streaming`, :mod:`infra.projection`,
:mod:`infra.identity`), which build on it — except the migration runner,
which creates the event store's tables through the library.
"""
