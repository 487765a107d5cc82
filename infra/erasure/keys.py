"""The port of the per-person data keys.

A person (an account today) has at most one 256-bit AES key per tenant. The
key is made the first time a personal value of that person is stored, and
destroyed by an erasure, which leaves a tombstone: a destroyed key is never
made again, so a value stored after the erasure is stored erased too.

Keys never enter events, snapshots or Kafka; they live in their own table
(:mod:`infra.postgres.person_keys`) or, in tests, in memory
(:mod:`infra.erasure.memory`).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol
from uuid import UUID

DESTROYED = None
"""What :meth:`PersonKeys.keys` answers for a person whose key was destroyed."""


class PersonKeys(Protocol):
    """Per-person data keys of one store."""

    def keys(
        self, tenant_id: str, person_ids: Collection[UUID]
    ) -> dict[UUID, bytes | None]:
        """The keys of these persons: a person with no entry never had one,
        ``None`` (:data:`DESTROYED`) is a destroyed key.

        Raises:
            DependencyUnavailableError: the key table cannot be reached.
        """
        ...

    def new_key(self, tenant_id: str, person_id: UUID) -> bytes:
        """A key for a person appearing for the first time (the creation of
        their aggregate); it is stored with the events sealed with it, in
        their transaction, where the store can do that.

        Raises:
            DependencyUnavailableError: the key table cannot be reached.
        """
        ...

    def key_for(self, tenant_id: str, person_id: UUID) -> bytes | None:
        """The person's key, made now if they have none; ``None`` if it was
        destroyed (it is never made again).

        Raises:
            DependencyUnavailableError: the key table cannot be reached.
        """
        ...
