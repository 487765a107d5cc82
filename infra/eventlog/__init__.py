"""The event log's proof: export of a tenant's chain with its signed
checkpoints, the checkpoint signer and its keys, and the watcher that
re-verifies the newest segments and raises alerts.

The chain itself is written by the event store (:mod:`infra.eventstore.chain`)
and checked by the standalone verifier (:mod:`infra.eventstore.log_verifier`),
which both this room and auditors use.

May import: ``infra.eventstore`` (the verifier and chain), ``infra.postgres``
and the shared top-level modules. Not streaming, projections, identity or cache.
"""
