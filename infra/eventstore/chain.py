"""Chaining events as they are appended: each event's hash, in its transaction.

:func:`chain_links` computes, for stored events whose positions are known,
the rows of ``event_chain`` (position, tenant, recorded time, previous hash,
hash; canonical form in :mod:`infra.eventstore.log_verifier`). The recorder
writes them in the transaction that inserts the events, under the events
table's lock, so the chain can never lag the log or fork: appends are
serialized and each tenant's previous hash is read inside the lock (once per
group-committed batch, then carried from one append of the batch to the
next; an append rolled back to its savepoint leaves the heads as they were).

Without the table lock (lock-free appends), two appends of one tenant could
read the same head and fork the chain. The chain would then need its own
serialization per tenant: a ``event_chain_heads`` row per tenant locked with
``SELECT … FOR UPDATE`` in the appending transaction (appends of different
tenants still run in parallel), and the chain's order would be the order in
which those row locks were taken — which must also be the position order
within the tenant, so positions would have to be drawn after that lock.

The tenant, the metadata and the recorded time come from the stored payload
(the event's ``meta`` and ``timestamp``, as the library's transcoder wrote
them); the payload bytes themselves are hashed as stored, whatever they hold.
Everything but the position and the previous hash is put in its canonical
bytes before the lock (:func:`linkable`); under the lock only the hash of
those bytes behind the position and previous hash is computed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
from eventsourcing.persistence import StoredEvent

from infra.eventstore.log_verifier import GENESIS, event_tail, tail_hash

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


@dataclass(frozen=True)
class ChainLink:
    """One row of ``event_chain``."""

    position: int
    tenant_id: str
    recorded_at: datetime
    previous_hash: bytes
    hash: bytes


@dataclass(frozen=True)
class Chained:
    """What the chain reads from a stored payload."""

    tenant_id: str
    meta: dict[str, str]
    recorded_at: datetime


@dataclass(frozen=True)
class Linkable:
    """A stored event ready to be linked once its position and its tenant's
    previous hash are known: its tenant, recorded time and the canonical
    form's fields after the position (:func:`event_tail`)."""

    tenant_id: str
    recorded_at: datetime
    tail: bytes


def recorded_time(moment: datetime) -> str:
    """The canonical text of a recorded time (UTC, microseconds, ``Z``)."""
    return moment.astimezone(UTC).strftime(TIME_FORMAT)


def read_payload(state: bytes) -> Chained:
    """Tenant, metadata and time of a payload the library's JSON transcoder
    wrote (``{"meta": {"_data_": {...}}, "timestamp": {"_data_": iso}}``);
    an event without metadata belongs to the tenant ``""``."""
    try:
        body = orjson.loads(state)
    except orjson.JSONDecodeError:  # what only the standard parser reads (NaN)
        body = json.loads(state)
    meta = body.get("meta", {}).get("_data_", {}) if isinstance(body, dict) else {}
    moment = datetime.fromisoformat(body["timestamp"]["_data_"])
    return Chained(
        str(meta.get("tenant_id", "")),
        {str(k): str(v) for k, v in meta.items()},
        moment if moment.tzinfo else moment.replace(tzinfo=UTC),
    )


def linkable(stored: StoredEvent) -> Linkable:
    """What linking ``stored`` needs, made from it alone (before the lock)."""
    chained = read_payload(stored.state)
    tail = event_tail(
        chained.tenant_id,
        str(stored.originator_id),
        stored.originator_version,
        stored.topic,
        recorded_time(chained.recorded_at),
        stored.state,
        chained.meta,
    )
    return Linkable(chained.tenant_id, chained.recorded_at, tail)


def chain_links(
    linkables: Sequence[Linkable],
    positions: Sequence[int],
    heads: Mapping[str, bytes],
) -> list[ChainLink]:
    """The chain rows of events stored at ``positions`` (``linkables``: what
    :func:`linkable` made of each), continuing each tenant's chain from
    ``heads`` (its newest hash; absent: the tenant's first event)."""
    current = dict(heads)
    links = []
    for item, position in sorted(
        zip(linkables, positions, strict=True), key=lambda p: p[1]
    ):
        previous = current.get(item.tenant_id, GENESIS)
        digest = tail_hash(previous, position, item.tail)
        current[item.tenant_id] = digest
        links.append(
            ChainLink(position, item.tenant_id, item.recorded_at, previous, digest)
        )
    return links
