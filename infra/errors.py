"""Errors of the infrastructure layer.

Each adapter maps its driver's errors here, in one place, chained with
``from``. The HTTP edge turns :class:`DependencyUnavailableError` into 503.

Exception tree::

    InfrastructureError
    ├── DependencyUnavailableError   Postgres, Kafka or Redis cannot be reached
    ├── MalformedEventError          not our CloudEvent (infra.streaming.cloudevents)
    └── UnpublishableEventError      event lacks TYPE/meta
                                     (infra.streaming.public_events)
"""

from __future__ import annotations


class InfrastructureError(Exception):
    """Base of errors raised by infrastructure adapters."""


class DependencyUnavailableError(InfrastructureError):
    """A backing service cannot be reached or refused to work.

    Args:
        dependency: ``postgres``, ``kafka`` or ``redis``.
        detail: What failed, for logs (never sent to clients).
    """

    def __init__(self, dependency: str, detail: str) -> None:
        super().__init__(f"{dependency} unavailable: {detail}")
        self.dependency = dependency
        self.detail = detail
