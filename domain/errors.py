"""Domain errors. Each names the rule broken and the ids involved.

Exception tree::

    DomainError
    ├── RuleViolationError       a business rule refused the command (409/422)
    │   ├── InvalidValueError    a value breaks an invariant of its type (422)
    │   └── UnsupportedMediaTypeError  a file of a refused type (415)
    ├── NotFoundError            no such aggregate in the caller's tenant (404)
    ├── VersionConflictError     the caller's expected version is stale (412)
    └── PermissionDeniedError    the caller's roles do not allow it (403)
        └── MfaEnrollmentRequiredError  enroll in MFA first (403)
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the domain raises."""


class RuleViolationError(DomainError):
    """A business rule refused the command.

    Args:
        rule: Short stable code of the rule, e.g. ``organization.site_name_taken``.
        detail: Human-readable explanation naming the ids involved.
    """

    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(detail)
        self.rule = rule
        self.detail = detail


class InvalidValueError(RuleViolationError):
    """A value breaks an invariant of its type.

    Args:
        field: Name of the offending field.
        detail: What is wrong with it.
    """

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(rule=f"invalid-{field}", detail=detail)
        self.field = field


class UnsupportedMediaTypeError(RuleViolationError):
    """A file whose bytes are not of an allowed type."""

    def __init__(self, file_name: str, allowed: str) -> None:
        super().__init__(
            "evidence.media_type_refused", f"{file_name!r} is not {allowed}"
        )


class NotFoundError(DomainError):
    """No aggregate with this id exists in the caller's tenant."""

    def __init__(self, kind: str, aggregate_id: object) -> None:
        super().__init__(f"{kind} {aggregate_id} not found")
        self.kind = kind
        self.aggregate_id = aggregate_id


class VersionConflictError(DomainError):
    """The version the caller expected is not the current one."""

    def __init__(self, aggregate_id: object, expected: int, current: int) -> None:
        super().__init__(
            f"{aggregate_id} is at version {current}, not the expected {expected}"
        )
        self.aggregate_id = aggregate_id
        self.expected = expected
        self.current = current


class PermissionDeniedError(DomainError):
    """The caller's roles do not grant the permission."""

    def __init__(self, permission: str, actor: str) -> None:
        super().__init__(f"{actor} lacks permission {permission}")
        self.permission = permission
        self.actor = actor


class MfaEnrollmentRequiredError(PermissionDeniedError):
    """The tenant requires MFA of the caller, who must enroll before anything
    else."""

    def __init__(self, permission: str, actor: str) -> None:
        super().__init__(permission, actor)
        self.args = (
            f"{actor} must enroll in multi-factor authentication before "
            f"anything else ({permission} refused)",
        )
