"""The event store: the eventsourcing library's PostgreSQL persistence.

Writes go through :class:`~infra.eventstore.recorders.FailFastRecorder`, which
takes an EXCLUSIVE lock on the events table so that positions
(``notification_id``) commit in order and a reader of the global log never
passes a gap that fills later; the concurrent appends of one process share
one locked transaction (group commit), each in a savepoint of its own.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date
from typing import Any, TypeVar, cast
from uuid import UUID

import psycopg
from eventsourcing.application import (
    AggregateNotFoundError,
    Application,
    ProcessingEvent,
    ProjectorFunction,
    Repository,
    project_aggregate,
)
from eventsourcing.domain import Aggregate, BaseAggregate, DomainEventProtocol
from eventsourcing.persistence import (
    ApplicationRecorder,
    IntegrityError,
    JSONTranscoder,
    Mapper,
    Notification,
    PersistenceError,
    StoredEvent,
    Transcoding,
)
from eventsourcing.popo import POPOFactory
from eventsourcing.postgres import PostgresAggregateRecorder
from eventsourcing.utils import Environment, resolve_topic

from commands.errors import (
    ClaimTakenError,
    ConcurrentWriteError,
    DuplicateIdempotencyKeyError,
)
from commands.identity.ports import SideRecordRefusedError
from commands.ports import Claim, RecordedAnswer, SideWrites
from domain.events import EventMeta
from infra.erasure.sealing import PersonalCipher
from infra.erasure.wrapping import KeyWrapping
from infra.eventstore.fold_reads import FoldQuery, FoldRead, select_fold
from infra.eventstore.recorders import (
    CLAIMS_CONSTRAINT,
    IDEMPOTENCY_CONSTRAINT,
    FailFastRecorder,
    claim_key,
)
from infra.eventstore.sealing_mapper import SealingMapper
from infra.eventstore.snapshots import (
    SNAPSHOTTING_INTERVALS,
    AggregateSnapshot,
    SnapshotRepository,
)
from infra.metrics.instruments import timed_append
from infra.postgres.errors import raise_if_unreachable
from infra.postgres.person_keys import PostgresPersonKeys
from infra.settings import Settings, keyed

log = logging.getLogger(__name__)

A = TypeVar("A", bound=Aggregate)

APPLICATION_NAME = "AssureHub"
EVENTS_TABLE = "assurehub_events"
WRAPPING_ENV = "PERSON_KEY_WRAPPING_KEYS"
"""The library environment's entry holding the person key wrapping keys."""
"""Table of stored events; its ``notification_id`` is the global position."""
EVENTS_CHANNEL = EVENTS_TABLE
"""Channel the library NOTIFYs in every insert transaction."""


class EventMetaAsDict(Transcoding):
    """Stores :class:`EventMeta` as a plain JSON object."""

    type = EventMeta
    name = "event_meta"

    def encode(self, obj: EventMeta) -> dict[str, str]:
        meta = {
            "tenant_id": obj.tenant_id,
            "actor_id": obj.actor_id,
            "correlation_id": obj.correlation_id,
            "causation_id": obj.causation_id,
        }
        if obj.traceparent:  # events without one keep the four keys
            meta["traceparent"] = obj.traceparent
        return meta

    def decode(self, data: dict[str, str]) -> EventMeta:
        return EventMeta(**data)


class DateAsISO(Transcoding):
    """Stores calendar dates as ``YYYY-MM-DD``."""

    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class AssureHubApplication(Application[UUID]):
    """The library's application object, configured only by our settings.

    With ``IS_SNAPSHOTTING_ENABLED`` it snapshots aggregates (see
    :mod:`infra.eventstore.snapshots`): the snapshots go to their own table, taking one
    never fails the save whose events were stored, and loading falls back to
    the events when a snapshot cannot be used.
    """

    name = APPLICATION_NAME
    snapshotting_intervals = SNAPSHOTTING_INTERVALS
    snapshot_class = AggregateSnapshot

    def construct_env(
        self, name: str, env: Mapping[str, str] | None = None
    ) -> Environment:
        # Unlike the library's default, never read os.environ: settings decide.
        return Environment(name, dict(env or {}))

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        super().__init__(env)
        # The recorder exists only now: the mapper's keys live beside it.
        keys = getattr(self.recorder, "person_keys", None)
        if keys is None:
            datastore = cast(Any, self.recorder).datastore
            wrapping = KeyWrapping(
                keyed(self.env.get(WRAPPING_ENV, ""), "ASSUREHUB_" + WRAPPING_ENV)
            )
            keys = PostgresPersonKeys(datastore.get_connection, wrapping)
            cast(FailFastRecorder, self.recorder).new_keys = keys
        self.sealing_mapper.personal = PersonalCipher(keys)

    @property
    def sealing_mapper(self) -> SealingMapper:
        """The mapper, which seals personal fields (see
        :mod:`infra.eventstore.sealing_mapper`)."""
        return cast(SealingMapper, self.mapper)

    def construct_mapper(self) -> Mapper[UUID]:
        return SealingMapper(transcoder=self.construct_transcoder())

    def construct_recorder(self) -> ApplicationRecorder:
        if isinstance(self.factory, POPOFactory):
            # The library's in-memory factory ignores the recorder topic; the
            # test twin (infra.eventstore.memory) is resolved here by name, so
            # production code never imports it.
            topic = self.env.get("APPLICATION_RECORDER_TOPIC")
            if topic:
                recorder: ApplicationRecorder = resolve_topic(topic)()
                return recorder
        return super().construct_recorder()

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        transcoder.register(EventMetaAsDict())
        transcoder.register(DateAsISO())

    def construct_repository(self) -> Repository[UUID]:
        # The library's repository fails a load on a bad snapshot; ours replays.
        return SnapshotRepository(
            event_store=self.events, snapshot_store=self.snapshots
        )

    def take_snapshot(
        self,
        aggregate_id: UUID,
        version: int | None = None,
        projector_func: ProjectorFunction[Any, Any] = project_aggregate,
    ) -> None:
        # The library prefers the aggregate's nested ``Snapshot`` (the
        # library's, which cannot encode our state) to ``snapshot_class``.
        if self.snapshots is None:
            msg = "snapshotting is not enabled (IS_SNAPSHOTTING_ENABLED)"
            raise AssertionError(msg)
        aggregate: BaseAggregate[UUID] = self.repository.get(
            aggregate_id, version=version, projector_func=projector_func
        )
        self.snapshots.put([AggregateSnapshot.take(aggregate)])

    def _take_snapshots(self, processing_event: ProcessingEvent[UUID]) -> None:
        # Called after the events are stored: a snapshot that cannot be taken
        # must not make the caller believe that the command failed.
        try:
            super()._take_snapshots(processing_event)
        except Exception as e:  # derived data: log, never fail the save
            log.warning("snapshot not taken", extra={"error": repr(e)})


def _constraint(error: BaseException) -> str:
    """The violated constraint's name (or the message, in memory)."""
    cause = error.__cause__
    diag = getattr(cause, "diag", None)
    name = getattr(diag, "constraint_name", None)
    return str(name) if name else str(error)


def _taken(error: BaseException, claims: tuple[Claim, ...]) -> Claim:
    """The claim a unique violation names (Postgres's detail, or the
    in-memory twin's message, reads ``Key (...)=(tenant, scope, key)``)."""
    diag = getattr(error.__cause__, "diag", None)
    detail = str(getattr(diag, "message_detail", None) or error)
    named = (c for c in claims if claim_key(c) in detail)
    return next(named, claims[0])


def _refusal(error: BaseException) -> SideRecordRefusedError | None:
    """The refused side record behind a persistence error, if that is what it
    is (the library may wrap what the recorder raised)."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, SideRecordRefusedError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def postgres_env(
    settings: Settings, *, create_table: bool = False, snapshots: bool = True
) -> dict[str, str]:
    """The library's environment for our Postgres database.

    ``snapshots`` turns snapshotting on (the ``assurehub_snapshots`` table is
    created by ``assurehub migrate``, which passes ``create_table``). The
    person key wrapping keys travel in it to the store's key table (whether
    one is required is decided by :meth:`KeyWrapping.from_settings` at
    bootstrap).
    """
    dsn = settings.database_url
    host = dsn.hosts()[0]
    wrapping = settings.person_key_wrapping_keys
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": (dsn.path or "/").lstrip("/"),
        "POSTGRES_HOST": str(host["host"]),
        "POSTGRES_PORT": str(host["port"] or 5432),
        "POSTGRES_USER": str(host["username"] or ""),
        "POSTGRES_PASSWORD": str(host["password"] or ""),
        "POSTGRES_CONNECT_TIMEOUT": "3",
        "POSTGRES_POOL_SIZE": str(settings.db_pool_size),
        "POSTGRES_MAX_OVERFLOW": str(settings.db_pool_size),
        "POSTGRES_LOCK_TIMEOUT": "10",
        "POSTGRES_PRE_PING": "y",
        "APPLICATION_RECORDER_TOPIC": "infra.eventstore.recorders:FailFastRecorder",
        "CREATE_TABLE": "y" if create_table else "n",
        "IS_SNAPSHOTTING_ENABLED": "y" if snapshots else "n",
        WRAPPING_ENV: "" if wrapping is None else wrapping.get_secret_value(),
    }


class LibraryEventStore:
    """:class:`commands.ports.EventStore` over the eventsourcing library.

    The library's application object connects when it is built, so it is
    built on first use: the API starts (and answers 503) while Postgres is down.
    """

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = dict(env)
        self._app: AssureHubApplication | None = None
        self._lock = threading.Lock()

    @property
    def app(self) -> AssureHubApplication:
        if self._app is None:
            with self._lock:
                if self._app is None:
                    try:
                        self._app = AssureHubApplication(self._env)
                    except PersistenceError as e:
                        raise_if_unreachable(e)
                        raise
        return self._app

    def load(self, kind: type[A], aggregate_id: UUID) -> A | None:
        """The aggregate, or ``None`` if unknown or of another kind.

        Raises:
            DependencyUnavailableError: Postgres cannot be reached.
        """
        try:
            aggregate: Aggregate = self.app.repository.get(aggregate_id)
        except AggregateNotFoundError:
            return None
        except PersistenceError as e:
            raise_if_unreachable(e)
            raise
        return aggregate if isinstance(aggregate, kind) else None

    def load_at(self, kind: type[A], aggregate_id: UUID, version: int) -> A | None:
        """The aggregate exactly as its event ``version`` left it, or ``None``
        if it is unknown, of another kind, or has not reached that version.

        Raises:
            DependencyUnavailableError: Postgres cannot be reached.
        """
        if version < 1:
            return None
        try:
            aggregate: Aggregate = self.app.repository.get(
                aggregate_id, version=version
            )
        except AggregateNotFoundError:
            return None
        except PersistenceError as e:
            raise_if_unreachable(e)
            raise
        if not isinstance(aggregate, kind) or aggregate.version != version:
            return None
        return aggregate

    def history(
        self, aggregate_id: UUID, after: int = 0, upto: int | None = None
    ) -> list[Notification]:
        """The aggregate's stored events with versions in ``(after, upto]``
        (to the newest when ``upto`` is ``None``), in version order, each
        with its global position.

        Raises:
            DependencyUnavailableError: Postgres cannot be reached.
        """
        recorder = cast(FailFastRecorder, self.app.recorder)
        try:
            return recorder.aggregate_notifications(aggregate_id, after, upto)
        except PersistenceError as e:
            raise_if_unreachable(e)
            raise

    def newest_version(self, aggregate_id: UUID) -> int:
        """The aggregate's newest version (0: none stored).

        Raises:
            DependencyUnavailableError: Postgres cannot be reached.
        """
        recorder = cast(FailFastRecorder, self.app.recorder)
        try:
            return recorder.aggregate_version(aggregate_id)
        except PersistenceError as e:
            raise_if_unreachable(e)
            raise

    def fold_read(self, query: FoldQuery) -> FoldRead:
        """What an as-of fold of ``query.subject`` reads, in one round trip
        (see :mod:`infra.eventstore.fold_reads`).

        Raises:
            DependencyUnavailableError: Postgres cannot be reached.
        """
        recorder = self.app.recorder
        snapshots = self.app.snapshots
        if not isinstance(recorder, FailFastRecorder):  # the in-memory twin
            found: Sequence[StoredEvent] = []
            if snapshots is not None and query.key is not None:
                found = snapshots.recorder.select_events(query.key)
            return cast(Any, recorder).fold_read(query, found)  # type: ignore[no-any-return]
        table = None
        if snapshots is not None:
            table = cast(
                PostgresAggregateRecorder, snapshots.recorder
            ).events_table_name
        try:
            return select_fold(
                recorder.datastore, recorder.events_table_name, table, query
            )
        except psycopg.Error as e:
            raise_if_unreachable(e)
            raise

    def snapshot(self, key: UUID, upto: int) -> DomainEventProtocol[UUID] | None:
        """The newest snapshot stored under ``key`` at a version at most
        ``upto``, or ``None`` (none, or snapshotting is off).

        Raises:
            DependencyUnavailableError: Postgres cannot be reached.
        """
        snapshots = self.app.snapshots
        if snapshots is None:
            return None
        try:
            found = snapshots.get(key, desc=True, limit=1, lte=upto)
            return next(iter(found), None)
        except PersistenceError as e:
            raise_if_unreachable(e)
            raise

    def decode_snapshot(self, stored: StoredEvent) -> DomainEventProtocol[UUID]:
        """A stored snapshot as the snapshot store's mapper reads it.

        Raises:
            ValueError: snapshotting is off.
        """
        snapshots = self.app.snapshots
        if snapshots is None:
            raise ValueError("snapshotting is off")
        return snapshots.mapper.to_domain_event(stored)

    def put_snapshots(self, taken: Sequence[DomainEventProtocol[UUID]]) -> None:
        """Store derived snapshots; one already stored at that version, or
        snapshotting being off, is not an error (they are derived data)."""
        snapshots = self.app.snapshots
        if snapshots is None or not taken:
            return
        for snapshot in taken:
            try:
                snapshots.put([snapshot])
            except IntegrityError:
                continue

    @timed_append
    def append(self, *aggregates: Aggregate, side: SideWrites | None = None) -> int:
        """Append the aggregates' pending events and the side records in one
        transaction; return the last event's position.

        A command that changed nothing appends no event: its idempotent answer
        alone is recorded (see :meth:`_answer_unchanged`) and the position is
        the head of the store.

        Raises:
            ConcurrentWriteError: another writer appended those versions first.
            DuplicateIdempotencyKeyError: the idempotency key was recorded meanwhile.
            ClaimTakenError: another aggregate holds one of the claims.
            SideRecordRefusedError: a conditional identity record was refused
                (nothing was written).
            DependencyUnavailableError: Postgres cannot be reached.
        """
        side = side or SideWrites()
        if not any(a.pending_events for a in aggregates):
            return self._answer_unchanged(aggregates, side)
        try:
            recordings = self.app.save(*aggregates, side=side)
        except SideRecordRefusedError:
            raise
        except IntegrityError as e:
            if side.idempotency is not None and IDEMPOTENCY_CONSTRAINT in _constraint(
                e
            ):
                raise DuplicateIdempotencyKeyError(side.idempotency.key) from e
            if side.claims and CLAIMS_CONSTRAINT in _constraint(e):
                claim = _taken(e, side.claims)
                raise ClaimTakenError(claim.scope, claim.key) from e
            raise ConcurrentWriteError(aggregates[0].id) from e
        except PersistenceError as e:
            refusal = _refusal(e)
            if refusal is not None:
                raise SideRecordRefusedError(refusal.record) from e
            raise_if_unreachable(e)
            raise
        return max(r.notification.id for r in recordings)

    def _answer_unchanged(
        self, aggregates: Sequence[Aggregate], side: SideWrites
    ) -> int:
        """Answer a command that changed nothing: the head of the store, with
        its idempotent answer recorded in a transaction of its own (for the
        first aggregate, at its current version), so that a retry replays it.

        Raises:
            ValueError: index entries, claims or identity records with no
                event to carry them (they would be silently dropped).
            DuplicateIdempotencyKeyError: the key was recorded meanwhile.
        """
        if replace(side, idempotency=None) != SideWrites(outcome=side.outcome):
            raise ValueError("side records need at least one event to carry them")
        if side.idempotency is None:
            return self.head()
        if not aggregates:
            raise ValueError("an idempotent answer names the command's aggregate")
        first = aggregates[0]
        recorder = cast(FailFastRecorder, self.app.recorder)
        try:
            return recorder.record_answer(first.id, first.version, side)
        except IntegrityError as e:
            raise DuplicateIdempotencyKeyError(side.idempotency.key) from e
        except PersistenceError as e:
            raise_if_unreachable(e)
            raise

    def recorded_answer(self, tenant_id: str, key: str) -> RecordedAnswer | None:
        """The answer recorded with an idempotency key, if any."""
        recorder = cast(FailFastRecorder, self.app.recorder)
        try:
            return recorder.recorded_answer(tenant_id, key)
        except PersistenceError as e:
            raise_if_unreachable(e)
            raise

    def find(
        self, tenant_id: str, kind: str, organization_id: UUID, standard_name: str
    ) -> list[UUID]:
        """Ids of aggregates indexed under this organization and standard."""
        recorder = cast(FailFastRecorder, self.app.recorder)
        try:
            return recorder.find(tenant_id, kind, organization_id, standard_name)
        except PersistenceError as e:
            raise_if_unreachable(e)
            raise

    def read_after(self, position: int, limit: int) -> Sequence[Notification]:
        """Stored events after ``position`` in position order."""
        try:
            return self.app.recorder.select_notifications(
                start=position, limit=limit, inclusive_of_start=False
            )
        except PersistenceError as e:
            raise_if_unreachable(e)
            raise

    def decode(self, stored: StoredEvent) -> DomainEventProtocol[UUID]:
        """The domain event at its current class version (upcast if older),
        its personal fields as stored (sealed): what the public JSON is made
        of. Loading an aggregate opens them."""
        return self.app.sealing_mapper.to_sealed_event(stored)

    @property
    def personal(self) -> PersonalCipher:
        """Seals and opens personal fields with this store's data keys."""
        cipher = self.app.sealing_mapper.personal
        assert cipher is not None, "the application sets its cipher when built"
        return cipher

    def head(self) -> int:
        """Position of the newest stored event (0 when empty)."""
        try:
            recorder = cast(Any, self.app.recorder)
            return int(recorder.max_notification_id() or 0)
        except PersistenceError as e:
            raise_if_unreachable(e)
            raise

    def close(self) -> None:
        if self._app is not None:
            self._app.close()
            self._app = None
