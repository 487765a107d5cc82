"""Collections as the query API lists them: filters, sorts, pages, scopes.

A :class:`Listing` declares, per collection, the table it reads, the query
parameters that filter it, the fields that sort it and the columns that
narrow it to the caller's scope. The HTTP edge (``read_api.listing``) turns
query parameters into a typed :class:`ListQuery`; a parameter, value or sort
field the listing does not know is a :class:`QueryError` naming what is
allowed, never silently ignored. A :class:`ListingView` answers a query for a
Principal, whose tenant and scopes it always applies (the SQL is in
``infra.postgres.listing``).

Values are typed by the declared column (``uuid``, ``integer``, ``date``,
``timestamptz``, ``boolean``, text). Every listed table has an ``id`` column,
unique within the tenant, that ends every sort so that pages are stable;
nullable sort columns sort their NULLs last in both directions.

Exception tree::

    QueryError                   a query the listing refuses (400)
    ├── UnknownFilterError       a parameter that is no filter of the listing
    ├── UnknownSortError         a sort field outside the allowlist
    ├── InvalidFilterValueError  a value of the wrong type, or not allowed
    ├── InvalidCursorError       a cursor not issued for this query
    └── ExportTooLargeError      an export past the row cap
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Generator, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, Protocol

from domain.principal import Principal
from projections.rows import Column, Row, Table

RESERVED = frozenset({"sort", "cursor", "limit", "min_position", "format"})
"""Query parameters the API itself uses; no filter may take these names."""


class QueryError(ValueError):
    """A query the listing refuses (400 naming the parameter).

    Args:
        parameter: The offending query parameter.
        detail: What is wrong, for the caller.
        allowed: What the parameter could have been, if that is a short list.
    """

    code: ClassVar[str] = "invalid-query"

    def __init__(
        self, parameter: str, detail: str, allowed: Iterable[str] = ()
    ) -> None:
        super().__init__(detail)
        self.parameter = parameter
        self.detail = detail
        self.allowed = tuple(allowed)


class UnknownFilterError(QueryError):
    """A query parameter that is no filter of the listing."""

    code = "unknown-parameter"


class UnknownSortError(QueryError):
    """A sort field outside the listing's allowlist."""

    code = "unknown-sort"


class InvalidFilterValueError(QueryError):
    """A value of the wrong type, out of range, or not an allowed value."""

    code = "invalid-parameter"


class InvalidCursorError(QueryError):
    """A cursor this API did not issue for the same filters and sort."""

    code = "invalid-cursor"


class ExportTooLargeError(QueryError):
    """An export that would pass the row cap; narrow the filters."""

    code = "export-too-large"


class FilterKind(StrEnum):
    """How a filter matches.

    ``exact``: equal to one of the values (``status=open,closed`` or repeated).
    ``date_range``: ``<name>_from`` / ``<name>_to``, inclusive ISO dates or
    datetimes. ``text``: every whitespace-separated term is a case-insensitive
    substring of one of the columns. ``bool``: ``true`` or ``false``.
    ``member``: a ``text[]`` column holds one of the values. ``prefix``: a
    case-folded key column starts with the case-folded value, taken literally.
    """

    EXACT = "exact"
    DATE_RANGE = "date_range"
    TEXT = "text"
    BOOL = "bool"
    MEMBER = "member"
    PREFIX = "prefix"


class Case(StrEnum):
    """How a filter rewrites each value before it checks and compares it."""

    UPPER = "upper"  # codes stored in upper case, e.g. ISO country codes
    FOLDED = "casefold"  # keys stored case-folded (``str.casefold``)


_KIND_TYPES = {
    FilterKind.EXACT: {"text", "uuid", "integer", "bigint", "date", "boolean"},
    FilterKind.DATE_RANGE: {"date", "timestamptz", "integer", "bigint"},
    FilterKind.TEXT: {"text"},
    FilterKind.BOOL: {"boolean"},
    FilterKind.MEMBER: {"text[]"},
    FilterKind.PREFIX: {"text"},
}


_SORTABLE = {"text", "uuid", "integer", "bigint", "date", "timestamptz", "boolean"}


def base_type(column: Column) -> str:
    """The column's type without its collation: ``text COLLATE "C"`` → ``text``."""
    return column.type.split()[0].lower()


@dataclass(frozen=True)
class Filter:
    """One filter of a listing; build with the class methods.

    Attributes:
        name: The query parameter (``date_range``: the prefix of two).
        kind: How it matches.
        columns: The columns it reads (several only for ``text``).
        allowed: The only values accepted (an enum's values), if limited.
        description: For the API docs.
        case: How each value is rewritten first (text columns only), if at all.
    """

    name: str
    kind: FilterKind
    columns: tuple[str, ...]
    allowed: tuple[str, ...] | None = None
    description: str = ""
    case: Case | None = None

    @classmethod
    def exact(
        cls,
        name: str,
        column: str | None = None,
        *,
        allowed: Iterable[str] | None = None,
        description: str = "",
        upper: bool = False,
    ) -> Filter:
        """Equal to one value, or to any of a comma-separated or repeated list;
        ``upper``: values are upper-cased first, for a column of upper-case
        codes that callers may type in any case."""
        values = tuple(str(v) for v in allowed) if allowed is not None else None
        case = Case.UPPER if upper else None
        return cls(name, FilterKind.EXACT, (column or name,), values, description, case)

    @classmethod
    def date_range(
        cls, name: str, column: str | None = None, *, description: str = ""
    ) -> Filter:
        """``<name>_from`` and ``<name>_to``, both inclusive."""
        return cls(name, FilterKind.DATE_RANGE, (column or name,), None, description)

    @classmethod
    def text(cls, name: str, *columns: str, description: str = "") -> Filter:
        """Free text: each term a case-insensitive substring of one column."""
        return cls(name, FilterKind.TEXT, columns or (name,), None, description)

    @classmethod
    def flag(
        cls, name: str, column: str | None = None, *, description: str = ""
    ) -> Filter:
        """A boolean column equal to ``true`` or ``false``."""
        return cls(name, FilterKind.BOOL, (column or name,), None, description)

    @classmethod
    def member(cls, name: str, column: str, *, description: str = "") -> Filter:
        """A ``text[]`` column (e.g. an audit team) holds one of the values."""
        return cls(name, FilterKind.MEMBER, (column,), None, description)

    @classmethod
    def prefix(cls, name: str, column: str, *, description: str = "") -> Filter:
        """A case-insensitive, literal start of a case-folded key column (one
        written with ``str.casefold``, ``text COLLATE "C"`` so that a btree
        index serves the match)."""
        return cls(name, FilterKind.PREFIX, (column,), None, description, Case.FOLDED)

    def normalised(self, value: str) -> str:
        """``value`` as the column stores it (see :attr:`case`)."""
        if self.case is Case.UPPER:
            return value.upper()
        if self.case is Case.FOLDED:
            return value.casefold()
        return value

    @property
    def parameters(self) -> tuple[str, ...]:
        """The query parameters this filter reads."""
        if self.kind is FilterKind.DATE_RANGE:
            return (f"{self.name}_from", f"{self.name}_to")
        return (self.name,)


@dataclass(frozen=True)
class Sort:
    """A sortable field: its name in ``sort=`` and the column it orders by."""

    name: str
    column: str | None = None

    @property
    def key_column(self) -> str:
        return self.column or self.name


@dataclass(frozen=True)
class SortKey:
    """One resolved ``ORDER BY`` term."""

    column: str
    descending: bool
    nullable: bool
    type: str


class Op(StrEnum):
    """Comparison of a :class:`Condition`."""

    ANY = "any"  # column equals one of the values
    GTE = "gte"
    LTE = "lte"
    LT = "lt"
    TEXT = "text"  # every value is a substring of one of the columns
    OVERLAPS = "overlaps"  # the array column holds one of the values
    PREFIX = "prefix"  # the column starts with the value, taken literally


@dataclass(frozen=True)
class Condition:
    """One validated, typed restriction of the rows."""

    parameter: str
    op: Op
    columns: tuple[str, ...]
    values: tuple[Any, ...]


@dataclass(frozen=True)
class ListQuery:
    """A validated query of one listing.

    Attributes:
        conditions: Every restriction, ANDed.
        sort: The order, ending with the ``id`` tiebreaker.
        cursor: Opaque position after which the page starts.
        limit: Page size.
    """

    conditions: tuple[Condition, ...]
    sort: tuple[SortKey, ...]
    cursor: str | None = None
    limit: int = 50

    @property
    def fingerprint(self) -> str:
        """A digest of the filters and sort; a cursor is valid only with these."""
        conditions = sorted(
            [c.parameter, c.op.value, sorted(str(v) for v in c.values)]
            for c in self.conditions
        )
        sort = [[k.column, k.descending] for k in self.sort]
        text = json.dumps([conditions, sort], separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Page:
    """One page: rows as column → value dicts, and the cursor of the next."""

    items: list[Row]
    next_cursor: str | None


@dataclass(frozen=True)
class Listing:
    """A collection of the query API.

    Attributes:
        name: The collection (``audits``); names CSV downloads.
        projection: The projection that writes the table (its schema is
            ``rm_<projection>`` unless ``schema`` says otherwise; its name is
            what ``min_position`` waits for).
        table: The table's declaration.
        filters: Every filter a caller may use.
        sorts: The sortable fields (names, or :class:`Sort` to map a name to
            another column, e.g. a case-folded key).
        default_sort: ``sort=`` when the caller gives none, e.g. ``-issue_date``.
        columns: The output columns; default every column but ``tenant_id``.
        organization_column: The client organization, for organization scopes.
        audit_column: The audit, for audit scopes.
        team_column: The audit team (``text[]`` of actor ids), for
            ``Filter.member`` filters such as ``auditor``.
        client_column: A boolean column; a caller holding a client role sees
            only the rows where it is true (e.g. a report once its audit is
            closed), besides the organization scope.
        schema: Overrides ``rm_<projection>``.
    """

    name: str
    projection: str
    table: Table
    filters: tuple[Filter, ...] = ()
    sorts: tuple[str | Sort, ...] = ()
    default_sort: str = "id"
    columns: tuple[str, ...] | None = None
    organization_column: str | None = None
    audit_column: str | None = None
    team_column: str | None = None
    client_column: str | None = None
    schema: str | None = None
    _types: dict[str, Column] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_types", {c.name: c for c in self.table.columns})
        _check(self)

    @property
    def qualified_table(self) -> tuple[str, str]:
        """``(schema, table)``."""
        return (self.schema or f"rm_{self.projection}", self.table.name)

    @property
    def output_columns(self) -> tuple[str, ...]:
        if self.columns is not None:
            return self.columns
        return tuple(n for n in self.table.column_names if n != "tenant_id")

    @property
    def sort_fields(self) -> dict[str, Sort]:
        """Sortable fields by name."""
        made = [s if isinstance(s, Sort) else Sort(s) for s in self.sorts]
        return {"id": Sort("id")} | {s.name: s for s in made}

    @property
    def parameters(self) -> dict[str, Filter]:
        """Every filter query parameter, with its filter."""
        return {p: f for f in self.filters for p in f.parameters}

    def column(self, name: str) -> Column:
        """The declared column ``name``."""
        return self._types[name]

    def sort_keys(self, sort: str | None) -> tuple[SortKey, ...]:
        """The order ``sort`` (``-a,b``) asks for, ending with ``id``.

        Raises:
            UnknownSortError: A field outside the allowlist, or repeated.
        """
        fields = self.sort_fields
        allowed = [v for n in sorted(fields) for v in (n, f"-{n}")]
        keys: list[SortKey] = []
        for part in (sort if sort is not None else self.default_sort).split(","):
            name = part.strip().removeprefix("-")
            column = fields[name].key_column if name in fields else None
            if column is None or any(k.column == column for k in keys):
                raise UnknownSortError(
                    "sort",
                    f"cannot sort by {part.strip()!r}; allowed: {', '.join(allowed)}"
                    " (comma-separated, each once)",
                    allowed,
                )
            keys.append(self._key(column, part.strip().startswith("-")))
        if all(k.column != "id" for k in keys):
            keys.append(self._key("id", keys[-1].descending))
        return tuple(keys)

    def _key(self, column: str, descending: bool) -> SortKey:
        c = self.column(column)
        return SortKey(column, descending, c.nullable, base_type(c))


def _check(listing: Listing) -> None:
    """Refuse a declaration that names unknown columns or mismatched types."""
    types = listing._types
    if "id" not in types or types["id"].nullable:
        raise ValueError(f"listing {listing.name}: needs a NOT NULL id column")
    named = [
        *listing.output_columns,
        *(s.key_column for s in listing.sort_fields.values()),
        *(c for f in listing.filters for c in f.columns),
        *(c for c in (listing.organization_column, listing.audit_column) if c),
        *([listing.team_column] if listing.team_column else []),
        *([listing.client_column] if listing.client_column else []),
    ]
    missing = sorted(set(named) - set(types))
    if missing:
        raise ValueError(f"listing {listing.name}: undeclared columns {missing}")
    client = listing.client_column
    if client is not None and base_type(types[client]) != "boolean":
        raise ValueError(f"listing {listing.name}: client column {client} not boolean")
    for f in listing.filters:
        for column in f.columns:
            if base_type(types[column]) not in _KIND_TYPES[f.kind]:
                raise ValueError(f"listing {listing.name}: {f.kind} filter on {column}")
            if f.case is not None and base_type(types[column]) != "text":
                raise ValueError(f"listing {listing.name}: {f.case} on {column}")
    parameters = [p for f in listing.filters for p in f.parameters]
    clashes = set(parameters) & RESERVED
    if clashes or len(set(parameters)) != len(parameters):
        raise ValueError(f"listing {listing.name}: filter names clash {parameters}")
    for sort in listing.sort_fields.values():
        if base_type(types[sort.key_column]) not in _SORTABLE:
            raise ValueError(f"listing {listing.name}: cannot sort by {sort.name}")
    try:
        listing.sort_keys(None)
    except QueryError as e:
        raise ValueError(f"listing {listing.name}: default sort: {e}") from e


class ListingView(Protocol):
    """Read port of every listing: answers a query within the caller's tenant
    and scopes."""

    def page(self, principal: Principal, listing: Listing, query: ListQuery) -> Page:
        """One page of rows after ``query.cursor``.

        Raises:
            InvalidCursorError: The cursor was not issued for this query.
        """
        ...

    def stream(
        self, principal: Principal, listing: Listing, query: ListQuery
    ) -> Generator[list[Row], None, None]:
        """Every matching row in order, in batches, never all in memory
        (cursor and limit ignored); closing it releases the connection.

        Raises:
            ExportTooLargeError: More rows than the view's cap (mid-stream).
        """
        ...
