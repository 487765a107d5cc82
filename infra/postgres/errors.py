"""Which Postgres failures mean "the database cannot be reached", which
mean "the transaction lost a deadlock or serialization conflict", and which
mean "a parameter holds text Postgres cannot hold".

Only the first become :class:`DependencyUnavailableError` (503 with
Retry-After); a lock timeout or bad statement is a different problem and
must not be reported as an outage. The second (SQLSTATE ``40P01``,
``40001``) become :class:`DatabaseContentionError`: nothing was written and
the same work may simply be run again. The third become
:class:`UnstorableTextError`: psycopg refuses a NUL in a text parameter
(a ``DataError`` raised before anything is sent), Python refuses to encode an
unpaired surrogate as UTF-8 (``UnicodeEncodeError``), and the server refuses
characters its encoding lacks (SQLSTATE ``22021``, ``22P05``).
"""

from __future__ import annotations

import psycopg
import psycopg_pool

from infra.errors import (
    DatabaseContentionError,
    DependencyUnavailableError,
    UnstorableTextError,
)

_UNREACHABLE_SQLSTATE_CLASSES = ("08", "57P")
"""Connection exceptions, and operator intervention (shutdown, starting up)."""

_UNSTORABLE_SQLSTATES = ("22021", "22P05")
"""character_not_in_repertoire, untranslatable_character."""


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


def is_contended(error: BaseException) -> bool:
    """Whether ``error`` (or what caused it) is a transaction Postgres
    aborted to end a deadlock or a serialization conflict."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(
            seen, psycopg.errors.DeadlockDetected | psycopg.errors.SerializationFailure
        ):
            return True
        seen = seen.__cause__
    return False


def raise_if_contended(error: BaseException) -> None:
    """Raise :class:`DatabaseContentionError` from ``error`` if Postgres
    aborted the transaction to end a conflict; otherwise return."""
    if is_contended(error):
        raise DatabaseContentionError(str(error)) from error


def is_unstorable(error: BaseException) -> bool:
    """Whether ``error`` (or what caused it) means a parameter holds text
    Postgres cannot hold."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, UnicodeEncodeError):
            return True
        if isinstance(seen, psycopg.DataError):
            if seen.sqlstate is None:  # refused by psycopg before sending
                return "NUL" in str(seen)
            return seen.sqlstate in _UNSTORABLE_SQLSTATES
        seen = seen.__cause__
    return False


def raise_if_unstorable(error: BaseException) -> None:
    """Raise :class:`UnstorableTextError` from ``error`` if a parameter held
    text Postgres cannot hold; otherwise return (the caller re-raises)."""
    if is_unstorable(error):
        raise UnstorableTextError(str(error)) from error
