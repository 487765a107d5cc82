"""Stored event rows straight to structured CloudEvents, for the event feed.

:class:`StoredCloudEvents` makes of each row exactly the CloudEvent that
``structured(masked(envelope))`` (or, for a caller allowed personal data,
``structured(personal_view(envelope, cipher, reveal=True))``) makes of the
row's public envelope, without the envelope: the state is parsed once by
orjson, turned into public data by :meth:`StoredEnvelopes.content` (the
relay's own conversion of tagged values, digests and meta), its personal
fields masked or opened by the same functions as the envelope's
(:func:`~infra.streaming.personal_fields.masked_data`,
:func:`~infra.streaming.public_events.personal_data`) and its attributes laid
out by :func:`~infra.streaming.cloudevents.structured_of`.

A row that path does not handle exactly (stored at an older class version,
so upcast; a state orjson refuses; an unknown topic; a mapper that is not
the library's plain JSON one) goes through the envelope, which gives the
same CloudEvent or raises its error.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import StoredEvent

from infra.eventstore.store import LibraryEventStore
from infra.streaming.cloudevents import structured, structured_of
from infra.streaming.personal_fields import masked, masked_data
from infra.streaming.public_events import event_id_of, personal_data, personal_view
from infra.streaming.stored_envelopes import StoredEnvelopes

Row = tuple[int, str, int, str, bytes]
"""``(position, originator_id as text, originator_version, topic, state)``."""

_fromisoformat = datetime.fromisoformat


class StoredCloudEvents:
    """Structured CloudEvents of stored rows, as the feed answers them.

    Args:
        store: The event store whose mapper wrote the rows (its cipher opens
            personal fields; taken only when a caller may see them).
        envelopes: The store's row → envelope conversion.
        source: ``source`` of the CloudEvents.
    """

    def __init__(
        self, store: LibraryEventStore, envelopes: StoredEnvelopes, source: str
    ) -> None:
        self._store = store
        self._envelopes = envelopes
        self._source = source
        self.through_envelopes = 0
        """Rows that went through the envelope so far."""

    def events(self, rows: Iterable[Row], *, personal: bool) -> list[dict[str, Any]]:
        """The CloudEvent of each row, in order: personal fields opened
        (``"[erased]"`` once the person's key is destroyed) if ``personal``,
        else ``null``.

        Raises:
            DependencyUnavailableError: the key table cannot be reached.
        """
        content = self._envelopes.content
        plain = self._envelopes.plain_json
        source = self._source
        cipher = self._store.personal if personal else None
        made: list[dict[str, Any]] = []
        for row in rows:
            position, subject, version, topic, state = row
            parts = None
            if plain:
                try:
                    parts = content(topic, orjson.loads(state))
                except orjson.JSONDecodeError:
                    parts = None
            if parts is None:
                made.append(self._through_envelope(row, personal))
                continue
            public, meta, data, timestamp = parts
            tenant = meta["tenant_id"]
            data = (
                masked_data(public, data)
                if cipher is None
                else personal_data(public, subject, tenant, data, cipher, reveal=True)
            )
            made.append(
                structured_of(
                    event_id_of(subject, version),
                    public,
                    source,
                    subject,
                    _fromisoformat(timestamp).isoformat(),
                    tenant,
                    position,
                    version,
                    meta["actor_id"],
                    meta["correlation_id"],
                    meta["causation_id"],
                    data,
                )
            )
        return made

    def _through_envelope(self, row: Row, personal: bool) -> dict[str, Any]:
        self.through_envelopes += 1
        position, subject, version, topic, state = row
        stored = StoredEvent(
            originator_id=UUID(subject),
            originator_version=version,
            topic=topic,
            state=bytes(state),
        )
        envelope = self._envelopes.envelope(stored, position)
        if personal:
            envelope = personal_view(envelope, self._store.personal, reveal=True)
        else:
            envelope = masked(envelope)
        return structured(envelope)
