"""The expiry processor: certificates whose expiry date has come get an
``expire`` command, issued in their own tenant by the system actor.

It follows the stream with its own projection (``certificate_expiry``); the
scheduler's ``certificate_expiry`` job checks the list once per tenant and
day (``processors/scheduler.py``). "Has come" is judged by each tenant's
calendar (its time zone), so a certificate expiring on the 1st is expired
once the 1st has begun where its tenant works. A certificate the command
refuses (already expired, withdrawn or superseded meanwhile) is left to the
projection, which drops it when that event arrives.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from commands.certificates import CertificateAction, CertificateService
from commands.context import CommandContext
from domain.errors import DomainError
from domain.principal import Principal, Role
from infra.postgres.certificate_expiry import PostgresDueCertificates

log = logging.getLogger(__name__)

SYSTEM_ACTOR = "system:certificate-expiry"


LATEST_ZONE_AHEAD = timedelta(days=1)
"""No time zone is more than a day ahead of UTC (UTC+14 is the furthest)."""


def expire_due(
    due: PostgresDueCertificates,
    certificates: CertificateService,
    today: Callable[[str], date],
    now_utc: date | None = None,
) -> int:
    """Issue ``expire`` for every certificate whose expiry date has come in
    its tenant (``today(tenant_id)``); return how many were expired."""
    utc = now_utc if now_utc is not None else datetime.now(UTC).date()
    expired = 0
    for item in due.due(utc + LATEST_ZONE_AHEAD):
        local = today(item.tenant_id)
        if item.expiry_date <= local:
            expired += _expire(certificates, item.tenant_id, item.certificate_id, local)
    if expired:
        log.info("certificates expired", extra={"count": expired, "utc_date": str(utc)})
    return expired


def expire_tenant(
    due: PostgresDueCertificates,
    certificates: CertificateService,
    tenant_id: str,
    today: date,
) -> int:
    """Issue ``expire`` for ``tenant_id``'s certificates whose expiry date is
    ``today`` (its calendar) or earlier; return how many were expired."""
    return sum(
        _expire(certificates, item.tenant_id, item.certificate_id, today)
        for item in due.due(today)
        if item.tenant_id == tenant_id
    )


def _expire(
    certificates: CertificateService, tenant_id: str, certificate_id: UUID, local: date
) -> int:
    ctx = CommandContext(
        principal=Principal(tenant_id, SYSTEM_ACTOR, frozenset({Role.TENANT_ADMIN})),
        correlation_id=f"expiry-{local.isoformat()}-{certificate_id}",
        today=local,
    )
    try:
        certificates.expire(ctx, CertificateAction(certificate_id))
    except DomainError as e:
        log.info(
            "certificate not expired",
            extra={"certificate_id": str(certificate_id), "reason": str(e)},
        )
        return 0
    return 1
