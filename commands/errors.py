"""Errors of the command layer (besides the domain errors it lets through).

Exception tree::

    CommandError
    ├── ConcurrentWriteError      another writer appended to the aggregate first
    ├── NotAuthenticatedError     (commands.http.edge) no acceptable caller: 401
    └── InvalidPreconditionError  (commands.http.edge) malformed If-Match: 400
"""

from __future__ import annotations


class CommandError(Exception):
    """Base of errors raised by command services and their ports."""


class ConcurrentWriteError(CommandError):
    """Another command appended to the same aggregate between load and save."""

    def __init__(self, aggregate_id: object) -> None:
        super().__init__(f"concurrent write to {aggregate_id}")
        self.aggregate_id = aggregate_id
