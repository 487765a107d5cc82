"""Streaming the log to Kafka: the Kafka clients and topic admin, the relay,
stored rows turned into public event envelopes (and, for the HTTP event feed,
straight into structured CloudEvents), the CloudEvents mapping and the public
event JSON with its JSON Schemas.

May import: ``domain``, ``projections.envelope``, :mod:`infra.eventstore`,
``infra.postgres`` and the shared top-level modules. Not :mod:`infra.projection`
(projectors consume what this room produces, never the other way round) nor
:mod:`infra.identity`.
"""
