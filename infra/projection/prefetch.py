"""Which rows a batch of events will read, found before the batch is applied.

A projection reads its rows by key, and the keys come from the events (the
aggregate's id, an id in the event's data). :func:`touched_keys` folds the
batch's events once through the projection over empty
:class:`projections.rows.MemoryRows` that note every key asked for or
written; the runner then reads those rows in one query per table
(:meth:`infra.postgres.buffered_rows.BufferedRows.prefetch`) before it
applies the batch for real, instead of one query per row.

The fold is a guess and never an effect: nothing it does is kept, an event
that raises in it is simply left out, and a key that depends on a row's
stored content (a row that only exists in Postgres) is not found: such rows
are read when the real application asks for them, as without a prefetch.
The runner folds a second time over the rows the first prefetch found, which
finds the keys one stored row leads to (a site of an organization that only
Postgres holds).
"""

from __future__ import annotations

from collections.abc import Iterable

from projections.envelope import EventEnvelope
from projections.ports import TableProjection
from projections.rows import Key, MemoryRows, Row, Table


class _KeyNotingRows(MemoryRows):
    """:class:`MemoryRows` that note the (table, key) of every call."""

    def __init__(self, tables: tuple[Table, ...]) -> None:
        super().__init__(tables)
        self.touched: dict[tuple[str, Key], None] = {}

    def _note(self, table: str, key: Key) -> None:
        self.touched[(table, tuple(key))] = None

    def _note_row(self, table: str, row: Row) -> None:
        t = self.tables.get(table)
        if t is not None and all(name in row for name in t.key):
            self._note(table, t.key_of(row))

    def get(self, table: str, key: Key) -> Row | None:
        self._note(table, key)
        return super().get(table, key)

    def insert(self, table: str, row: Row) -> None:
        self._note_row(table, row)
        super().insert(table, row)

    def upsert(self, table: str, row: Row) -> None:
        self._note_row(table, row)
        super().upsert(table, row)

    def update(self, table: str, key: Key, changes: Row) -> bool:
        self._note(table, key)
        return super().update(table, key, changes)

    def delete(self, table: str, key: Key) -> None:
        self._note(table, key)
        super().delete(table, key)


def touched_keys(
    projection: TableProjection,
    events: Iterable[EventEnvelope],
    stored: Iterable[tuple[str, Row]] = (),
) -> list[tuple[str, Key]]:
    """The (table, key) pairs ``projection`` reads or writes applying
    ``events`` in order, as far as the events and the ``stored`` rows
    (table, row) already read tell."""
    rows = _KeyNotingRows(projection.tables)
    for table, row in stored:
        t = rows.tables[table]
        rows.data[table][t.key_of(row)] = dict(row)
    for event in events:
        try:
            projection.apply(event, rows)
        except Exception:  # noqa: S112 - a guess: the real application decides
            continue
    return list(rows.touched)
