"""Errors of the infrastructure layer.

Each adapter maps its driver's errors here, in one place, chained with
``from``. The HTTP edge turns :class:`DependencyUnavailableError` into 503.

Exception tree::

    InfrastructureError
    ├── DependencyUnavailableError   Postgres, Kafka or Redis cannot be reached
    ├── UnstorableTextError          text Postgres cannot hold (a NUL, an
    │                                unpaired surrogate) sent as a parameter
    ├── SettingError                 a setting is missing or holds what does
    │                                not fit (names the variable); the key
    │                                errors of identity, the event log's
    │                                signing and person key wrapping
    ├── DatabaseContentionError      Postgres aborted a transaction to end a
    │                                deadlock or a serialization conflict
    ├── NoCertificateCodeError       a tenant's slug offers no free code
    │                                (infra.postgres.certificate_numbers)
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


class SettingError(InfrastructureError, ValueError):
    """A setting the process needs is missing, or holds what does not fit
    (a key of the wrong length, a key id the stored data was not sealed
    with). The message names the environment variable; the ``assurehub``
    command prints it as one line and exits 2."""


class DatabaseContentionError(InfrastructureError):
    """Postgres aborted the transaction to end a deadlock or a
    serialization conflict with concurrent work (SQLSTATE ``40P01``,
    ``40001``). Nothing of it was written; running it again shortly will
    most likely succeed. Not an outage.

    Args:
        detail: What the driver said, for logs (never sent to clients).
    """

    def __init__(self, detail: str) -> None:
        super().__init__(f"transaction aborted by contention: {detail}")
        self.detail = detail


class UnstorableTextError(InfrastructureError):
    """A statement's parameter holds text Postgres cannot hold: a NUL
    character, an unpaired surrogate (not UTF-8), a character the server's
    encoding lacks. No stored row can hold such a value, so a lookup by it
    finds nothing; a write of it is the caller's mistake, not an outage.

    Args:
        detail: What the driver said, for logs (never sent to clients).
    """

    def __init__(self, detail: str) -> None:
        super().__init__(f"text Postgres cannot hold: {detail}")
        self.detail = detail
