"""A collection's rows answered from in-memory rows the way the listing view
answers them from Postgres: the caller's tenant and scopes applied, equal
columns matched, the listing's default order, its output columns.

As-of answers (:mod:`read_api.as_of`) read the rows a projection held at a
moment from a :class:`~projections.rows.MemoryRows` and must shape them like
the live detail reads them from the read model; this is that reading.
Text sorts by code point, as the read model's ``COLLATE "C"`` sort keys do.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from domain.principal import Principal
from projections.listing import Listing
from projections.rows import Row, Table


def _visible(principal: Principal, listing: Listing, row: Row) -> bool:
    scopes = (
        (principal.organization_ids, listing.organization_column),
        (principal.audit_ids, listing.audit_column),
    )
    for ids, column in scopes:
        if ids is None:
            continue
        if column is None or row.get(column) not in ids:
            return False
    client = listing.client_column
    return not (
        principal.is_client and client is not None and row.get(client) is not True
    )


def _sorted(rows: list[Row], keys: Iterable[tuple[str, bool]]) -> list[Row]:
    """``rows`` in ``keys`` order, nulls last in both directions."""
    for column, descending in reversed(list(keys)):
        present = [r for r in rows if r.get(column) is not None]
        absent = [r for r in rows if r.get(column) is None]
        present.sort(key=lambda r: r[column], reverse=descending)
        rows = present + absent
    return rows


def listed(
    principal: Principal,
    listing: Listing,
    rows: Iterable[Row],
    where: Mapping[str, Any],
) -> list[Row]:
    """The rows of ``listing`` whose columns equal ``where``, in the
    caller's tenant and scopes, in the listing's default order, with its
    output columns."""
    found = [
        r
        for r in rows
        if r.get("tenant_id") == principal.tenant_id
        and all(r.get(c) == v for c, v in where.items())
        and _visible(principal, listing, r)
    ]
    keys = [(k.column, k.descending) for k in listing.sort_keys(None)]
    return [{c: row[c] for c in listing.output_columns} for row in _sorted(found, keys)]


def child_rows(
    principal: Principal,
    table: Table,
    rows: Iterable[Row],
    parent: Mapping[str, Any],
    order_by: tuple[str, ...],
) -> list[Row]:
    """Rows of a child table under ``parent`` in ``order_by`` order, without
    ``tenant_id`` (what the live detail reads of a keyless child table)."""
    found = [
        r
        for r in rows
        if r.get("tenant_id") == principal.tenant_id
        and all(r.get(c) == v for c, v in parent.items())
    ]
    names = [c for c in table.column_names if c != "tenant_id"]
    ordered = _sorted(found, [(c, False) for c in order_by])
    return [{c: row.get(c) for c in names} for row in ordered]
