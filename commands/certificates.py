"""Commands on certificates.

Issuing and revising rest on an audit's grant decision; the rule spanning
both aggregates is :mod:`domain.certification`. A revision and the
superseding of the revision it replaces are saved in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from commands.audit_scope import may_see_audit
from commands.context import Accepted, CommandContext
from commands.errors import ClaimTakenError, ConcurrentWriteError
from commands.handling import MAX_ATTEMPTS, AggregateHandler
from commands.ports import JSON, CertificateNumbers, Claim, EventStore, IndexEntry
from domain.access import Permission, authorize
from domain.audit import Audit
from domain.certificate import DEFAULT_MAX_SUSPENSION_DAYS, Certificate
from domain.certification import (
    certification_basis,
    check_audit_not_certified,
    revision_basis,
)
from domain.errors import NotFoundError, RuleViolationError, VersionConflictError


@dataclass(frozen=True)
class SiteScope:
    site_id: UUID
    scope: str


@dataclass(frozen=True)
class IssueCertificate:
    audit_id: UUID
    site_scopes: tuple[SiteScope, ...]
    effective_date: date
    expiry_date: date


@dataclass(frozen=True)
class ReviseCertificate:
    """Renew a certificate or change its scope: issue its next revision."""

    certificate_id: UUID
    audit_id: UUID
    site_scopes: tuple[SiteScope, ...]
    effective_date: date
    expiry_date: date
    standard_edition: str | None = None
    expected_version: int | None = None


@dataclass(frozen=True)
class SuspendCertificate:
    certificate_id: UUID
    reason: str
    max_suspension_days: int | None = None
    expected_version: int | None = None


@dataclass(frozen=True)
class WithdrawCertificate:
    certificate_id: UUID
    reason: str
    expected_version: int | None = None


@dataclass(frozen=True)
class CertificateAction:
    """A command that names only the certificate (reinstate, expire)."""

    certificate_id: UUID
    expected_version: int | None = None


@dataclass(frozen=True)
class Issued(Accepted):
    """A certificate revision was issued; its number and verification code.

    The verification code is the secret printed on the certificate.
    """

    number: str
    verification_code: str


AUDIT_CLAIM = "certificate.audit"
"""Each audit's grant supports one certificate revision (claimed by it)."""


def _index(certificate: Certificate) -> IndexEntry:
    return IndexEntry(
        "certificate",
        certificate.id,
        certificate.tenant_id,
        certificate.organization_id,
        certificate.standard_name,
    )


class CertificateService:
    """Application service whose methods are the certificate commands."""

    def __init__(self, store: EventStore, numbers: CertificateNumbers) -> None:
        self._handler = AggregateHandler(store)
        self._numbers = numbers

    def issue(self, ctx: CommandContext, cmd: IssueCertificate) -> Issued:
        """Issue the first revision of a certificate on an audit's grant.

        The issue date is ``ctx.today``; the number is allocated once the
        audit's outcome has been checked (a command refused later, e.g. for
        its validity period, leaves a gap in the numbers).
        """
        authorize(ctx.principal, Permission.CERTIFICATE_ISSUE)
        replay = self._handler.replay(ctx)
        if replay is not None:
            return self._issued(ctx, replay[0])
        audit = self._audit(ctx, cmd.audit_id)
        basis = certification_basis(audit, (s.site_id for s in cmd.site_scopes))
        check_audit_not_certified(
            audit.id, self._certificates_of(ctx, basis.organization_id, audit)
        )
        number = self._numbers.next_number(ctx.principal.tenant_id, ctx.today.year)
        certificate = Certificate.issue(
            ctx.meta(),
            number=number,
            organization_id=basis.organization_id,
            site_ids=[s.site_id for s in cmd.site_scopes],
            site_scopes=[s.scope for s in cmd.site_scopes],
            standard_name=basis.standard_name,
            standard_edition=basis.standard_edition,
            audit_id=basis.audit_id,
            decision_date=basis.decision_date,
            issue_date=ctx.today,
            effective_date=cmd.effective_date,
            expiry_date=cmd.expiry_date,
        )
        accepted, _ = self._commit(ctx, certificate)
        return self._issued(ctx, accepted, certificate)

    def revise(self, ctx: CommandContext, cmd: ReviseCertificate) -> Issued:
        """Issue the next revision of an active certificate and mark it
        superseded, both in one transaction; answer for the new revision.

        The edition is the audit's unless ``standard_edition`` is given. A
        lost race without expected version is retried on fresh state.
        """
        authorize(ctx.principal, Permission.CERTIFICATE_ISSUE)
        replay = self._handler.replay(ctx)
        if replay is not None:
            return self._issued(ctx, _revision_answer(*replay))
        for attempt in range(1, MAX_ATTEMPTS + 1):
            previous = self._certificate(ctx, cmd.certificate_id)
            _check_version(previous, cmd.expected_version)
            new = self._next_revision(ctx, previous, cmd)
            try:
                accepted, outcome = self._commit(ctx, new, previous)
            except ConcurrentWriteError:
                if cmd.expected_version is not None:
                    current = self._certificate(ctx, cmd.certificate_id).version
                    raise VersionConflictError(
                        previous.id, cmd.expected_version, current
                    ) from None
                if attempt == MAX_ATTEMPTS:
                    raise
                continue
            return self._issued(ctx, _revision_answer(accepted, outcome), new)
        raise AssertionError("unreachable")  # pragma: no cover

    def suspend(self, ctx: CommandContext, cmd: SuspendCertificate) -> Accepted:
        """Suspend an active certificate from today."""
        days = (
            DEFAULT_MAX_SUSPENSION_DAYS
            if cmd.max_suspension_days is None
            else cmd.max_suspension_days
        )
        return self._manage(
            ctx,
            cmd.certificate_id,
            cmd.expected_version,
            lambda c: c.suspend(ctx.meta(), cmd.reason, ctx.today, days),
        )

    def reinstate(self, ctx: CommandContext, cmd: CertificateAction) -> Accepted:
        """Lift a certificate's suspension from today."""
        return self._manage(
            ctx,
            cmd.certificate_id,
            cmd.expected_version,
            lambda c: c.reinstate(ctx.meta(), ctx.today),
        )

    def withdraw(self, ctx: CommandContext, cmd: WithdrawCertificate) -> Accepted:
        """Withdraw a certificate for good."""
        return self._manage(
            ctx,
            cmd.certificate_id,
            cmd.expected_version,
            lambda c: c.withdraw(ctx.meta(), cmd.reason, ctx.today),
        )

    def expire(self, ctx: CommandContext, cmd: CertificateAction) -> Accepted:
        """Record that a certificate reached its expiry date."""
        return self._manage(
            ctx,
            cmd.certificate_id,
            cmd.expected_version,
            lambda c: c.expire(ctx.meta(), ctx.today),
        )

    def _commit(
        self, ctx: CommandContext, new: Certificate, *others: Certificate
    ) -> tuple[Accepted, JSON]:
        """Append a new revision (and ``others``), indexed, claiming its audit:
        of two concurrent issues on one audit, the second is refused here.

        Raises:
            RuleViolationError: ``certificate.audit_already_certified``.
        """
        claim = Claim(new.tenant_id, AUDIT_CLAIM, str(new.audit_id))
        try:
            return self._handler.commit(
                ctx,
                new,
                *others,
                outcome=str(new.id) if others else None,
                index=[_index(new)],
                claims=[claim],
            )
        except ClaimTakenError as e:
            raise RuleViolationError(
                "certificate.audit_already_certified",
                f"audit {new.audit_id} already supports a certificate "
                "(issued concurrently)",
            ) from e

    def _certificates_of(
        self, ctx: CommandContext, organization_id: UUID, audit: Audit
    ) -> list[Certificate]:
        """Every certificate of the organization for the audit's standard."""
        ids = self._handler.store.find(
            ctx.principal.tenant_id, "certificate", organization_id, audit.standard_name
        )
        found = (self._handler.store.load(Certificate, i) for i in ids)
        return [c for c in found if c is not None]

    def _next_revision(
        self, ctx: CommandContext, previous: Certificate, cmd: ReviseCertificate
    ) -> Certificate:
        """The new revision, with ``previous`` marked superseded by it."""
        audit = self._audit(ctx, cmd.audit_id)
        basis = revision_basis(audit, previous, (s.site_id for s in cmd.site_scopes))
        new = Certificate.issue_revision(
            ctx.meta(),
            previous,
            site_ids=[s.site_id for s in cmd.site_scopes],
            site_scopes=[s.scope for s in cmd.site_scopes],
            standard_edition=cmd.standard_edition or basis.standard_edition,
            audit_id=basis.audit_id,
            decision_date=basis.decision_date,
            issue_date=ctx.today,
            effective_date=cmd.effective_date,
            expiry_date=cmd.expiry_date,
        )
        check_audit_not_certified(
            audit.id, self._certificates_of(ctx, basis.organization_id, audit)
        )
        previous.mark_superseded(ctx.meta(), new.id, ctx.today)
        return new

    def _manage(
        self,
        ctx: CommandContext,
        certificate_id: UUID,
        expected_version: int | None,
        decide: Callable[[Certificate], object],
    ) -> Accepted:
        return self._handler.change(
            ctx,
            Permission.CERTIFICATE_MANAGE,
            Certificate,
            certificate_id,
            expected_version,
            decide,
            visible=lambda c: ctx.principal.may_see_organization(c.organization_id),
        )[0]

    def _audit(self, ctx: CommandContext, audit_id: UUID) -> Audit:
        """The audit, if the caller's tenant and scopes admit it."""
        audit = self._handler.load(ctx, Audit, audit_id)
        if not may_see_audit(ctx.principal, audit):
            raise NotFoundError("audit", audit_id)
        return audit

    def _certificate(self, ctx: CommandContext, certificate_id: UUID) -> Certificate:
        """The certificate, if the caller's tenant and scopes admit it."""
        certificate = self._handler.load(ctx, Certificate, certificate_id)
        if not ctx.principal.may_see_organization(certificate.organization_id):
            raise NotFoundError("certificate", certificate_id)
        return certificate

    def _issued(
        self,
        ctx: CommandContext,
        accepted: Accepted,
        certificate: Certificate | None = None,
    ) -> Issued:
        """The answer for the revision ``accepted`` names.

        A replayed answer (or a concurrent request that recorded the key
        first) names another certificate than the one just built: its number
        and code are read from it rather than kept with the recorded answer.
        """
        if certificate is None or certificate.id != accepted.id:
            certificate = self._handler.load(ctx, Certificate, accepted.id)
        return Issued(
            accepted.id,
            accepted.version,
            accepted.position,
            certificate.number,
            certificate.verification_code,
        )


def _check_version(certificate: Certificate, expected: int | None) -> None:
    if expected is not None and certificate.version != expected:
        raise VersionConflictError(certificate.id, expected, certificate.version)


def _revision_answer(accepted: Accepted, outcome: JSON) -> Accepted:
    """The answer for the new revision of a revise command.

    The recorded answer of a multi-aggregate commit names the aggregate of
    the last event stored, here the superseded revision; the new revision's
    id is the command's outcome, and a new revision is at version 1 (its one
    ``Issued`` event).
    """
    return Accepted(UUID(str(outcome)), 1, accepted.position)
