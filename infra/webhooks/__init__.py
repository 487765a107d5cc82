"""Webhooks: Standard Webhooks signing, target (SSRF) checks, the HTTP
transport that connects only to a checked address, the fan-out consumer that
turns the event stream into deliveries, and the sender that delivers them.

May import: ``commands.webhooks`` (its ports), ``projections.envelope``,
:mod:`infra.streaming` (the CloudEvents mapping), the projection runtime's
record reading and batch bookkeeping (:mod:`infra.projection.parking`,
:mod:`infra.projection.batch`), ``infra.postgres`` and the shared top-level
modules. Not :mod:`infra.identity` nor :mod:`infra.cache`.
"""
