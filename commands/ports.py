"""Ports the command services need; adapters live in ``infra``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO, Protocol, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

if TYPE_CHECKING:  # the identity package's services import this module
    from commands.identity.ports import IdentityRecord

A = TypeVar("A", bound=Aggregate)


JSON = str | int | float | bool | None | list["JSON"] | dict[str, "JSON"]


@dataclass(frozen=True)
class Idempotency:
    """A client's ``Idempotency-Key`` for one command.

    Attributes:
        tenant_id: Keys are scoped to the tenant.
        key: The client's key.
        fingerprint: Digest of the request (method, path, body); the same key
            with another fingerprint is refused.
    """

    tenant_id: str
    key: str
    fingerprint: str


@dataclass(frozen=True)
class RecordedAnswer:
    """What a command answered, recorded atomically with its events."""

    fingerprint: str
    aggregate_id: UUID
    version: int
    position: int
    outcome: JSON


@dataclass(frozen=True)
class IndexEntry:
    """Makes an aggregate findable by the command side (by organization and
    standard), written in the same transaction as the aggregate's events."""

    kind: str
    aggregate_id: UUID
    tenant_id: str
    organization_id: UUID
    standard_name: str


@dataclass(frozen=True)
class Claim:
    """A value only one aggregate of a tenant may ever hold (e.g. the audit a
    certificate rests on), claimed in the same transaction as the events: of
    two concurrent commands claiming it, one fails with
    :class:`~commands.errors.ClaimTakenError` and writes nothing."""

    tenant_id: str
    scope: str
    key: str


@dataclass(frozen=True)
class SideWrites:
    """What a command records atomically with its events, besides them.

    ``records`` are the identity side records
    (:mod:`commands.identity.ports`), written in order; a conditional one that
    finds its condition false fails the append with
    :class:`~commands.identity.ports.SideRecordRefusedError`.
    """

    idempotency: Idempotency | None = None
    outcome: JSON = None
    index: tuple[IndexEntry, ...] = ()
    claims: tuple[Claim, ...] = ()
    records: tuple[IdentityRecord, ...] = ()


class EventStore(Protocol):
    """Loads aggregates from their events and appends new ones.

    Adapters map their driver's failures: a lost optimistic-concurrency race
    becomes :class:`~commands.errors.ConcurrentWriteError`, an unreachable
    database an infrastructure error the HTTP edge turns into 503.
    """

    def load(self, kind: type[A], aggregate_id: UUID) -> A | None:
        """The aggregate rebuilt from its events, or ``None`` when unknown
        (or of another kind)."""
        ...

    def append(self, *aggregates: Aggregate, side: SideWrites | None = None) -> int:
        """Append the aggregates' pending events in one transaction, with the
        side writes (idempotency key and answer, index entries).

        With no pending event (a command that changed nothing) only the
        idempotency key and answer are recorded, naming the first aggregate
        at its current version; other side writes are refused
        (``ValueError``), having no event to carry them.

        Returns:
            The global position of the last event appended, or the head of
            the store when there was none to append.

        Raises:
            ConcurrentWriteError: another writer appended those versions first.
            DuplicateIdempotencyKeyError: the key was recorded meanwhile.
            ClaimTakenError: another aggregate holds one of the claims.
            SideRecordRefusedError: a conditional side record was refused.
        """
        ...

    def recorded_answer(self, tenant_id: str, key: str) -> RecordedAnswer | None:
        """The answer recorded with an idempotency key, if any."""
        ...

    def head(self) -> int:
        """Global position of the newest stored event (0 when empty): what a
        command that wrote nothing answers as its position."""
        ...

    def find(
        self, tenant_id: str, kind: str, organization_id: UUID, standard_name: str
    ) -> list[UUID]:
        """Ids of aggregates indexed under this organization and standard."""
        ...


class CertificateNumbers(Protocol):
    """Allocates certificate numbers, unique across the platform."""

    def next_number(self, tenant_id: str, year: int) -> str:
        """A fresh number like ``ACME-2026-000123`` (tenant code, year,
        sequence). Numbers are never reused; a failed command leaves a gap."""
        ...


@dataclass(frozen=True)
class StoredFile:
    """A file in the content-addressed store."""

    sha256: str
    size: int
    head: bytes
    """The first bytes, for sniffing the media type."""


class FileStore(Protocol):
    """Content-addressed bytes of evidence and documents (an object store can
    implement it later). The same bytes are stored once."""

    def put(self, stream: BinaryIO, max_bytes: int) -> StoredFile:
        """Store the stream's bytes under their SHA-256.

        Raises:
            FileTooLargeError: more than ``max_bytes`` (nothing is kept).
        """
        ...

    def open(self, sha256: str) -> BinaryIO:
        """The stored bytes (raises ``FileNotFoundError`` if absent)."""
        ...
