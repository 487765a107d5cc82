"""The event store's in-memory twin, for tests: the library's in-memory
recorder with the same side records as
:class:`~infra.eventstore.recorders.FailFastRecorder` (identity records go
to an :class:`~infra.identity.memory.InMemoryIdentity`), all or nothing with
the events.

Production never imports this module: :func:`in_memory_env` names the recorder
by topic, and the store resolves it only when the library runs in memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError, Notification, StoredEvent
from eventsourcing.popo import POPOApplicationRecorder

from commands.identity.account_writer import EMAIL_CLAIM
from commands.identity.ports import PersonErased
from commands.ports import Claim, IndexEntry, RecordedAnswer, SideWrites
from infra.erasure.memory import MemoryPersonKeys
from infra.eventstore.fold_reads import FoldQuery, FoldRead, memory_fold_read
from infra.eventstore.recorders import (
    CLAIMS_CONSTRAINT,
    IDEMPOTENCY_CONSTRAINT,
    claim_key,
    primary,
)
from infra.eventstore.store import LibraryEventStore
from infra.identity.memory import InMemoryIdentity


def in_memory_env(*, snapshots: bool = True) -> dict[str, str]:
    """The library's in-memory persistence with :class:`InMemoryRecorder`."""
    return {
        "PERSISTENCE_MODULE": "eventsourcing.popo",
        "APPLICATION_RECORDER_TOPIC": f"{__name__}:InMemoryRecorder",
        "IS_SNAPSHOTTING_ENABLED": "y" if snapshots else "n",
    }


def memory_identity(store: LibraryEventStore) -> InMemoryIdentity:
    """The identity side tables of an in-memory store (the identity directory
    of unit tests), holding the records appended with events.

    Raises:
        TypeError: ``store`` is not the in-memory twin.
    """
    recorder = store.app.recorder
    if not isinstance(recorder, InMemoryRecorder):
        raise TypeError("only the in-memory event store keeps identity in memory")
    return recorder.identity


class InMemoryRecorder(POPOApplicationRecorder):
    """The library's in-memory recorder with the same side records; the
    identity records go to :attr:`identity`, all or nothing with the events."""

    def __init__(self) -> None:
        super().__init__()
        self.identity = InMemoryIdentity()
        self.person_keys = MemoryPersonKeys()
        """The data keys of this store (the mapper finds them here)."""
        self._answers: dict[tuple[str, str], RecordedAnswer] = {}
        self._index: list[IndexEntry] = []
        self._claims: set[Claim] = set()

    def _insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        side: SideWrites = kwargs.get("side") or SideWrites()
        idempotency = side.idempotency
        with self._database_lock:
            if idempotency is not None and (
                (idempotency.tenant_id, idempotency.key) in self._answers
            ):
                raise IntegrityError(IDEMPOTENCY_CONSTRAINT)
            for claim in side.claims:
                if claim in self._claims:
                    raise IntegrityError(
                        f"{CLAIMS_CONSTRAINT}: Key (tenant_id, scope, key)="
                        f"{claim_key(claim)} already exists."
                    )
            with self.identity.transaction():
                for record in side.records:
                    self.identity.write(record)
                ids = super()._insert_events(stored_events, **kwargs)
            for record in side.records:
                if isinstance(record, PersonErased):
                    self._erase(record)
            if ids and idempotency is not None:
                aggregate_id, version = primary(stored_events)
                self._answers[(idempotency.tenant_id, idempotency.key)] = (
                    RecordedAnswer(
                        idempotency.fingerprint,
                        aggregate_id,
                        version,
                        max(ids),
                        side.outcome,
                    )
                )
            if ids:
                self._index.extend(e for e in side.index if e not in self._index)
                self._claims.update(side.claims)
            return ids

    def _erase(self, record: PersonErased) -> None:
        """What Postgres does in the erasure's transaction besides the
        identity tables: destroy the key, release the e-mail claim."""
        self.person_keys.destroy(record.tenant_id, record.account_id)
        self._claims.discard(Claim(record.tenant_id, EMAIL_CLAIM, record.email))

    def record_answer(self, aggregate_id: UUID, version: int, side: SideWrites) -> int:
        """Record the idempotent answer of a command that appended no event;
        its position is the head of the store now.

        Raises:
            IntegrityError: the key was recorded meanwhile.
        """
        idempotency = side.idempotency
        assert idempotency is not None
        with self._database_lock:
            key = (idempotency.tenant_id, idempotency.key)
            if key in self._answers:
                raise IntegrityError(IDEMPOTENCY_CONSTRAINT)
            head = len(self._stored_events)
            self._answers[key] = RecordedAnswer(
                idempotency.fingerprint, aggregate_id, version, head, side.outcome
            )
            return head

    def recorded_answer(self, tenant_id: str, key: str) -> RecordedAnswer | None:
        """The answer recorded with ``key``, if any."""
        with self._database_lock:
            return self._answers.get((tenant_id, key))

    def find(
        self, tenant_id: str, kind: str, organization_id: UUID, standard_name: str
    ) -> list[UUID]:
        """Indexed aggregate ids, oldest first."""
        with self._database_lock:
            return [
                e.aggregate_id
                for e in self._index
                if (e.tenant_id, e.kind, e.organization_id, e.standard_name)
                == (tenant_id, kind, organization_id, standard_name)
            ]

    def aggregate_notifications(
        self, aggregate_id: UUID, after: int, upto: int | None
    ) -> list[Notification]:
        """The aggregate's events with versions in ``(after, upto]``, each
        with its global position."""
        with self._database_lock:
            return [
                Notification(
                    id=i,
                    originator_id=s.originator_id,
                    originator_version=s.originator_version,
                    topic=s.topic,
                    state=s.state,
                )
                for i, s in enumerate(self._stored_events, start=1)
                if s.originator_id == aggregate_id
                and after < s.originator_version
                and (upto is None or s.originator_version <= upto)
            ]

    def aggregate_version(self, aggregate_id: UUID) -> int:
        """The aggregate's newest version (0: no event)."""
        with self._database_lock:
            return max(
                (
                    s.originator_version
                    for s in self._stored_events
                    if s.originator_id == aggregate_id
                ),
                default=0,
            )

    def fold_read(self, query: FoldQuery, snapshots: Sequence[StoredEvent]) -> FoldRead:
        """What :meth:`LibraryEventStore.fold_read` reads, from memory
        (``snapshots``: those stored under the query's key)."""
        with self._database_lock:
            return memory_fold_read(list(self._stored_events), snapshots, query)
