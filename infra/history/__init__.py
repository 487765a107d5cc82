"""Event history: the events of one aggregate, or of a whole tenant, read
straight from the event store and answered in their public JSON (the same
envelopes the relay publishes, upcast to the current schema), with who did
each change and which of their fields are personal.

May import: ``domain``, ``projections.envelope``, ``infra.eventstore``,
``infra.streaming`` (the public form of events) and ``infra.postgres``. Not
the projection runtime, identity or cache rooms: the history is the store's,
never a read model's.
"""
