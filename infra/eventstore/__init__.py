"""The event store: the eventsourcing library's application configured by our
settings, its recorders (events, their hash chain links and the command's side
records in one transaction), snapshots and the snapshot state codec, and the
standalone log verifier (:mod:`infra.eventstore.log_verifier`, which imports
nothing of the project so that auditors can run it alone).

May import: ``domain``, ``commands`` ports and errors, ``infra.postgres`` and the
shared top-level modules (settings, errors). Not the streaming, projection or
identity rooms: the production store knows no test twin — the in-memory
recorder lives in :mod:`infra.eventstore.memory`, which only tests select.
"""
