"""Errors of the command layer (besides the domain errors it lets through).

Exception tree::

    CommandError
    ├── ConcurrentWriteError      another writer appended to the aggregate first
    ├── DuplicateIdempotencyKeyError  a concurrent request recorded the key first
    ├── ClaimTakenError           another aggregate holds a unique claim already
    ├── IdempotencyKeyReusedError the key was used with another request: 422
    ├── FileTooLargeError         an upload over the size limit: 413
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


class DuplicateIdempotencyKeyError(CommandError):
    """A concurrent request recorded the same idempotency key first."""

    def __init__(self, key: str) -> None:
        super().__init__(f"idempotency key {key!r} was recorded concurrently")
        self.key = key


class ClaimTakenError(CommandError):
    """Another aggregate already holds the claim (scope, key) in the tenant."""

    def __init__(self, scope: str, key: str) -> None:
        super().__init__(f"{scope} {key!r} is claimed already")
        self.scope = scope
        self.key = key


class IdempotencyKeyReusedError(CommandError):
    """The idempotency key was used before with a different request."""

    def __init__(self, key: str) -> None:
        super().__init__(
            f"Idempotency-Key {key!r} was already used with a different request"
        )
        self.key = key


class FileTooLargeError(CommandError):
    """An uploaded file is larger than allowed."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(f"the file is larger than {max_bytes} bytes")
        self.max_bytes = max_bytes
