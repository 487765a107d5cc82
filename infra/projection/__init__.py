"""The projection runtime: the runner that applies Kafka records to a read
model exactly once (rows and per-partition tracking in one transaction), the
parking of records it cannot apply (their raw bytes kept) and their replay,
the halt of a projection that cannot even park, online rebuilds from the
event store, the in-memory fold rebuilds use, the registry of read models,
each projection's status, and the progress watcher that wakes
read-your-writes waiters.

May import: ``projections``, :mod:`infra.eventstore`, :mod:`infra.streaming`
(to decode records and stored rows), ``infra.postgres`` and the shared
top-level modules. Not :mod:`infra.identity`.
"""
