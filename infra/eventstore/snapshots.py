"""Snapshots: loading an aggregate stays fast however long its history.

Every ``SNAPSHOTTING_INTERVALS[kind]`` events the application stores a
snapshot of the aggregate's state (:class:`AggregateSnapshot`) in its own
table (``assurehub_snapshots``); loading starts from the newest snapshot and
replays only the events after it (:class:`SnapshotRepository`).

Snapshots are derived data. They are never published (the relay reads the
events table only), and they are never trusted over the events:

- the state is encoded by :mod:`infra.eventstore.state_codec`, and stamped with a
  fingerprint of the code that builds the aggregate's state (its class, its
  mixins, their events' ``apply`` methods and the domain values those
  modules use); a snapshot written by other code is stale and ignored;
- a snapshot that cannot be read or decoded, for whatever reason, is logged
  and ignored: the aggregate is replayed from its events instead;
- failing to take a snapshot never fails the command whose events were
  just stored (see :meth:`infra.eventstore.store.AssureHubApplication`).
"""

from __future__ import annotations

import hashlib
import logging
import sys
from dataclasses import dataclass
from enum import Enum
from functools import cache
from itertools import chain
from types import CodeType, FunctionType, ModuleType
from typing import Any, Self
from uuid import UUID

from eventsourcing.application import (
    AggregateNotFoundError,
    ProjectorFunction,
    Repository,
)
from eventsourcing.domain import (
    BaseAggregate,
    MutableOrImmutableAggregate,
    Snapshot,
)
from eventsourcing.utils import get_topic, register_topic, resolve_topic

from domain.audit import Audit
from domain.certificate import Certificate
from domain.organization import Organization
from domain.standard_template import StandardTemplate
from infra.eventstore.state_codec import (
    JSONValue,
    StateCodecError,
    decode_state,
    encode_state,
)
from infra.postgres.errors import is_unreachable

log = logging.getLogger(__name__)

SNAPSHOT_FORMAT = 1
"""Version of the snapshot layout; bump it when
:mod:`infra.eventstore.state_codec` changes."""

SNAPSHOTTING_INTERVALS: dict[type[MutableOrImmutableAggregate[Any]], int] = {
    Audit: 100,
    Certificate: 100,
    Organization: 100,
    StandardTemplate: 100,
}
"""A snapshot is taken when an aggregate's version is a multiple of its interval."""

_LIBRARY_STATE = ("_id", "_version", "_pending_events")


class SnapshotStaleError(StateCodecError):
    """A snapshot written by another snapshot format or other domain code."""


@dataclass(frozen=True)
class AggregateSnapshot(Snapshot):
    """The state of an aggregate at one version, faithfully encoded.

    ``state`` is ``{"format": ..., "fingerprint": ..., "classes": [...],
    "attrs": {...}}``: the aggregate's ``__dict__`` (less id, version and
    pending events, which the snapshot itself carries) encoded by
    :func:`infra.eventstore.state_codec.encode_state`, stamped with the snapshot format
    and the fingerprint of the code that built it.
    """

    @classmethod
    def take(cls, aggregate: MutableOrImmutableAggregate[UUID]) -> Self:
        """A snapshot of ``aggregate`` as it is now.

        Raises:
            StateCodecError: the state holds a value the codec does not know.
        """
        attrs = {k: v for k, v in vars(aggregate).items() if k not in _LIBRARY_STATE}
        state: dict[str, JSONValue] = {
            "format": SNAPSHOT_FORMAT,
            "fingerprint": code_fingerprint(type(aggregate)),
            **encode_state(attrs),
        }
        return cls(
            originator_id=aggregate.id,
            originator_version=aggregate.version,
            timestamp=cls.create_timestamp(),
            topic=get_topic(type(aggregate)),
            state=state,
        )

    def mutate(self, _: None) -> BaseAggregate[UUID]:
        """The aggregate this snapshot was taken of.

        Raises:
            SnapshotStaleError: written by another format or other domain code.
            StateCodecError: the state cannot be decoded.
        """
        cls = resolve_topic(self.topic)
        state = self.state
        if state.get("format") != SNAPSHOT_FORMAT:
            raise SnapshotStaleError(f"snapshot format {state.get('format')!r}")
        if state.get("fingerprint") != code_fingerprint(cls):
            raise SnapshotStaleError(f"{self.topic} changed since the snapshot")
        restored = decode_state(state)
        restored.update(
            _id=self.originator_id,
            _version=self.originator_version,
            _pending_events=[],
        )
        aggregate: BaseAggregate[UUID] = object.__new__(cls)
        object.__setattr__(aggregate, "__dict__", restored)
        return aggregate


class SnapshotRepository(Repository[UUID]):
    """The library's repository, but a snapshot it cannot use is ignored.

    The library chains the newest snapshot before the events, so a snapshot
    that fails to decode fails the load. Here the snapshot is restored first;
    if reading or decoding it fails for any reason but an unreachable
    database, the failure is logged and the aggregate is replayed from its
    events alone.
    """

    def _reconstruct_aggregate(
        self,
        aggregate_id: UUID,
        version: int | None,
        projector_func: ProjectorFunction[Any, Any],
    ) -> Any:
        restored = self._restore(aggregate_id, version)
        events = self.event_store.get(
            originator_id=aggregate_id,
            gt=None if restored is None else restored.version,
            lte=version,
        )
        aggregate = projector_func(restored, events)
        if aggregate is None:
            msg = f"Aggregate {aggregate_id!r} version {version!r} not found."
            raise AggregateNotFoundError(msg)
        return aggregate

    def _restore(
        self, aggregate_id: UUID, version: int | None
    ) -> BaseAggregate[UUID] | None:
        """The aggregate from its newest usable snapshot, if there is one."""
        if self.snapshot_store is None:
            return None
        try:
            snapshots = self.snapshot_store.get(
                originator_id=aggregate_id, desc=True, limit=1, lte=version
            )
            for snapshot in snapshots:
                aggregate: BaseAggregate[UUID] = snapshot.mutate(None)  # type: ignore[attr-defined]
                return aggregate
        except Exception as e:  # derived data: replay instead
            if is_unreachable(e):
                raise
            log.warning(
                "snapshot ignored, replaying events",
                extra={"aggregate_id": str(aggregate_id), "error": repr(e)},
            )
        return None


# Snapshots stored before the event store moved into its own package name
# their class by the old module path.
register_topic("infra.snapshots:AggregateSnapshot", AggregateSnapshot)


@cache
def code_fingerprint(cls: type) -> str:
    """A digest of the code that builds the state of aggregates of ``cls``.

    It covers every class of ``cls``'s package in its MRO, with their nested
    classes (the events and their ``apply``), and everything of that package
    that their modules import (value objects, enums, functions, constants).
    It reads bytecode and constants, not file names or line numbers, so it is
    the same in every process running the same code.
    """
    package = cls.__module__.partition(".")[0]
    digest = hashlib.sha256()
    modules = sorted({c.__module__ for c in cls.__mro__ if _in(c, package)})
    seen: set[int] = set()
    for name in modules:
        module = sys.modules[name]
        digest.update(name.encode())
        for attr, value in sorted(vars(module).items()):
            if isinstance(value, ModuleType) or attr.startswith("__"):
                continue
            if _in(value, package) or _is_constant(value):
                digest.update(attr.encode())
                _feed(digest, value, package, seen)
    return digest.hexdigest()


def _in(value: object, package: str) -> bool:
    module = getattr(value, "__module__", None)
    return isinstance(module, str) and module.partition(".")[0] == package


def _is_constant(value: object) -> bool:
    if isinstance(value, tuple | frozenset):
        return all(_is_constant(v) for v in value)
    return isinstance(value, str | int | float | bool | bytes | Enum | type(None))


def _constant(value: object) -> str:
    if isinstance(value, frozenset):
        return "frozenset" + repr(sorted(_constant(v) for v in value))
    if isinstance(value, tuple):
        return "(" + ",".join(_constant(v) for v in value) + ")"
    return repr(value)


def _feed(digest: Any, value: object, package: str, seen: set[int]) -> None:
    if id(value) in seen:
        return
    seen.add(id(value))
    if isinstance(value, classmethod | staticmethod):
        _feed(digest, value.__func__, package, seen)
    elif isinstance(value, property):
        for accessor in (value.fget, value.fset, value.fdel):
            _feed(digest, accessor, package, seen)
    elif isinstance(value, FunctionType):
        _feed_code(digest, value.__code__)
    elif isinstance(value, type) and _in(value, package):
        digest.update(value.__qualname__.encode())
        for attr, member in sorted(vars(value).items()):
            if attr in ("__doc__", "__dict__", "__weakref__", "__module__"):
                continue
            if attr == "__annotations__":
                # Python adds an empty one to a class when it is first read.
                if member:
                    digest.update(_constant(tuple(map(str, member.items()))).encode())
                continue
            digest.update(attr.encode())
            if _is_constant(member):
                digest.update(_constant(member).encode())
            else:
                _feed(digest, member, package, seen)
    elif _is_constant(value):
        digest.update(_constant(value).encode())


def _feed_code(digest: Any, code: CodeType) -> None:
    digest.update(code.co_code)
    digest.update(",".join(chain(code.co_names, code.co_varnames)).encode())
    for const in code.co_consts:
        if isinstance(const, CodeType):
            _feed_code(digest, const)
        else:
            digest.update(_constant(const).encode())
