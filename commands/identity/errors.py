"""Errors of the identity services that say no more than a client may know.

Anonymous operations (login, refresh, invitation acceptance, password reset)
answer every refusal of one kind with one error, whatever the cause, so that
an attacker learns nothing about which accounts or tokens exist.

Exception tree (all under :class:`~commands.errors.CommandError`)::

    CommandError
    ├── LoginRefusedError         unknown e-mail, wrong password, inactive: 401
    ├── LockedOutError            too many failures, wait: 429 + Retry-After
    ├── RefreshRefusedError       refresh token unknown, reused, revoked: 401
    ├── InvalidOneTimeTokenError  invitation/reset token bad, used, expired: 400
    ├── InvalidOtpError           TOTP or recovery code refused: 400
    └── WrongPasswordError        current password wrong on a change: 400
"""

from __future__ import annotations

import math

from commands.errors import CommandError


class LoginRefusedError(CommandError):
    """The login (or its second step) is refused; never says why."""

    def __init__(self) -> None:
        super().__init__("the e-mail address or password is not correct")


class LockedOutError(CommandError):
    """Too many failed attempts for this account or address.

    Args:
        retry_after_seconds: When to try again (whole seconds, at least 1).
    """

    def __init__(self, retry_after_seconds: float) -> None:
        self.retry_after_seconds = max(1, math.ceil(retry_after_seconds))
        super().__init__(
            f"too many failed attempts; try again in {self.retry_after_seconds} s"
        )


class RefreshRefusedError(CommandError):
    """The refresh token cannot be used; the client must log in again."""

    def __init__(self) -> None:
        super().__init__("the refresh token cannot be used; log in again")


class InvalidOneTimeTokenError(CommandError):
    """An invitation or password-reset token is unknown, used or expired."""

    def __init__(self) -> None:
        super().__init__("the link is invalid, used or expired")


class InvalidOtpError(CommandError):
    """A one-time password or recovery code was refused."""

    def __init__(self) -> None:
        super().__init__("the code is not valid")


class WrongPasswordError(CommandError):
    """The current password given to change it is not correct."""

    def __init__(self) -> None:
        super().__init__("the current password is not correct")
