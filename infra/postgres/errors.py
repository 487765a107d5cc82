"""Which Postgres failures mean "the database cannot be reached".

Only those become :class:`DependencyUnavailableError` (503 with Retry-After);
a lock timeout, deadlock or bad statement is a different problem and must
not be reported as an outage.
"""

from __future__ import annotations

import psycopg
import psycopg_pool

from infra.errors import DependencyUnavailableError

_UNREACHABLE_SQLSTATE_CLASSES = ("08", "57P")
"""Connection exceptions, and operator intervention (shutdown, starting up)."""


def is_unreachable(error: BaseException) -> bool:
    """Whether ``error`` (or what caused it) means Postgres cannot be reached."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, psycopg_pool.PoolTimeout | psycopg.InterfaceError):
            return True
        if isinstance(seen, psycopg.errors.PipelineAborted):
            return False  # an earlier statement failed; that error matters
        if isinstance(seen, psycopg.OperationalError):
            state = seen.sqlstate
            return state is None or state.startswith(_UNREACHABLE_SQLSTATE_CLASSES)
        seen = seen.__cause__
    return False


def raise_if_unreachable(error: BaseException) -> None:
    """Raise :class:`DependencyUnavailableError` from ``error`` if it means
    Postgres cannot be reached; otherwise return (the caller re-raises)."""
    if is_unreachable(error):
        raise DependencyUnavailableError("postgres", str(error)) from error
