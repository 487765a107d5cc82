"""A person's own second factor: TOTP enrollment and recovery codes.

Enrollment is two steps: :meth:`MfaService.start_enrollment` makes a secret
on the server and remembers it (encrypted) as pending; only a valid first
code confirms it (:meth:`MfaService.confirm_enrollment`), which records
``account.mfa_enrolled`` with the secret, the code's step (so the code cannot
be used again) and ten recovery codes shown once. A session that was held to
enrollment by the tenant's policy may do everything its roles allow from then
on.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from commands.context import Accepted, CommandContext
from commands.identity.account_writer import AccountWriter
from commands.identity.attempts import guarded_check
from commands.identity.crypto import Clock, LoginGuard, RecoveryCodeBook, TotpEngine
from commands.identity.errors import InvalidOtpError
from commands.identity.ports import (
    AccountRecord,
    IdentityDirectory,
    IdentityRecord,
    RecoveryCodesReplaced,
    SideRecordRefusedError,
    TotpActivated,
    TotpStepUsed,
)
from commands.ports import EventStore
from domain.access import Permission, authorize
from domain.account import Account
from domain.errors import NotFoundError, RuleViolationError

RECOVERY_CODES = 10
ISSUER = "AssureHub"


@dataclass(frozen=True)
class Enrollment:
    """What an authenticator app needs to enroll (shown once).

    Attributes:
        secret: The base32 secret, for typing in by hand.
        provisioning_uri: The ``otpauth://`` URI.
        qr_svg: The URI as a QR code (SVG document).
        qr_png_base64: The URI as a QR code (PNG, base64).
    """

    secret: str
    provisioning_uri: str
    qr_svg: str
    qr_png_base64: str


@dataclass(frozen=True)
class RecoveryCodesIssued(Accepted):
    """The command was accepted; here are the recovery codes, shown once."""

    recovery_codes: tuple[str, ...]


class MfaService:
    """Application service for the caller's own second factor.

    Args:
        store: The event store.
        directory: The identity side tables.
        totp: Makes secrets and checks codes.
        recovery: Makes recovery codes.
        guard: Counts wrong codes (keys ``otp:acct:<account id>``).
        clock: The present.
        issuer: The name authenticator apps show.
        recovery_codes: How many recovery codes to issue.
    """

    def __init__(
        self,
        store: EventStore,
        directory: IdentityDirectory,
        totp: TotpEngine,
        recovery: RecoveryCodeBook,
        guard: LoginGuard,
        clock: Clock,
        issuer: str = ISSUER,
        recovery_codes: int = RECOVERY_CODES,
    ) -> None:
        self._writer = AccountWriter(store)
        self._directory = directory
        self._totp = totp
        self._recovery = recovery
        self._guard = guard
        self._clock = clock
        self._issuer = issuer
        self._count = recovery_codes

    def start_enrollment(self, ctx: CommandContext) -> Enrollment:
        """Make a new TOTP secret for the caller (replacing an unconfirmed one).

        Raises:
            RuleViolationError: ``account.mfa_already_enrolled``.
        """
        record = self._own_account(ctx)
        if record.mfa_enrolled:
            raise RuleViolationError(
                "account.mfa_already_enrolled",
                f"account {record.account_id} is enrolled already",
            )
        secret = self._totp.new_secret()
        sealed = self._totp.encrypt(secret, record.account_id)
        self._directory.set_pending_totp(record.account_id, sealed)
        uri = self._totp.provisioning_uri(secret, record.email, self._issuer)
        png = base64.b64encode(self._totp.qr_png(uri)).decode()
        return Enrollment(secret, uri, self._totp.qr_svg(uri), png)

    def confirm_enrollment(self, ctx: CommandContext, code: str) -> RecoveryCodesIssued:
        """Confirm the pending secret with its first code.

        Raises:
            InvalidOtpError: the code is not valid for the pending secret.
            RuleViolationError: ``account.mfa_enrollment_not_started``,
                ``account.mfa_already_enrolled``.
        """
        record = self._own_account(ctx)
        pending = record.totp_pending
        if pending is None:
            raise RuleViolationError(
                "account.mfa_enrollment_not_started",
                f"account {record.account_id} has no enrollment to confirm",
            )
        step = self._checked_code(record, pending, code, None)
        codes, hashes = self._recovery.generate(self._count)

        def decide(account: Account) -> Sequence[IdentityRecord]:
            account.enroll_mfa(ctx.meta())
            return (TotpActivated(account.id, pending, step, tuple(hashes)),)

        accepted = self._writer.change(ctx, record.account_id, decide)
        if ctx.principal.session_id is not None:
            self._finish(ctx.principal.session_id)
        return RecoveryCodesIssued(
            accepted.id, accepted.version, accepted.position, tuple(codes)
        )

    def regenerate_recovery_codes(
        self, ctx: CommandContext, code: str
    ) -> RecoveryCodesIssued:
        """Replace the caller's recovery codes; needs a valid TOTP code.

        Raises:
            InvalidOtpError: the code is refused (wrong or already used).
            LockedOutError: too many wrong codes.
            RuleViolationError: ``account.mfa_not_enrolled``.
        """
        record = self._own_account(ctx)
        if not record.mfa_enrolled:
            raise RuleViolationError(
                "account.mfa_not_enrolled",
                f"account {record.account_id} has no second factor to renew codes of",
            )
        step = self._checked_code(
            record, record.totp_secret, code, record.totp_last_step
        )
        codes, hashes = self._recovery.generate(self._count)

        def decide(account: Account) -> Sequence[IdentityRecord]:
            account.regenerate_recovery_codes(ctx.meta())
            return (
                TotpStepUsed(account.id, step),
                RecoveryCodesReplaced(account.id, tuple(hashes)),
            )

        try:
            accepted = self._writer.change(ctx, record.account_id, decide)
        except SideRecordRefusedError as e:  # the code was used concurrently
            raise InvalidOtpError() from e
        return RecoveryCodesIssued(
            accepted.id, accepted.version, accepted.position, tuple(codes)
        )

    def _checked_code(
        self,
        record: AccountRecord,
        secret: bytes | None,
        code: str,
        last_step: int | None,
    ) -> int:
        """The time step of ``code`` for the encrypted ``secret``, checked one
        attempt at a time per account and counted toward its code lockout.

        Raises:
            LockedOutError: the account's codes are locked (or being tried).
            InvalidOtpError: the code is wrong or already used.
        """

        def step() -> int | None:
            if secret is None:
                return None
            plain = self._totp.decrypt(secret, record.account_id)
            now = self._clock.now().timestamp()
            return self._totp.verify(plain, code, now, last_step)

        return guarded_check(
            self._guard, f"otp:acct:{record.account_id}", step, InvalidOtpError
        )

    def _own_account(self, ctx: CommandContext) -> AccountRecord:
        authorize(ctx.principal, Permission.SELF_SERVICE)
        actor = ctx.principal.actor_id
        try:
            record = self._directory.account(UUID(actor))
        except ValueError:
            record = None
        if record is None or record.tenant_id != ctx.principal.tenant_id:
            raise NotFoundError("account", actor)
        return record

    def _finish(self, session_id: str) -> None:
        try:
            self._directory.finish_enrollment(UUID(session_id))
        except ValueError:  # not a login session (an API token)
            return
