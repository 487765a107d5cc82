"""The expiry processor: certificates whose expiry date has come get an
``expire`` command, issued in their own tenant by the system actor.

It follows the stream with its own projection (``certificate_expiry``) and
checks the list once per interval. A certificate the command refuses (already
expired, withdrawn or superseded meanwhile) is left to the projection, which
drops it when that event arrives.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime

from commands.certificates import CertificateAction, CertificateService
from commands.context import CommandContext
from domain.errors import DomainError
from domain.principal import Principal, Role
from infra.postgres.certificate_expiry import PostgresDueCertificates

log = logging.getLogger(__name__)

SYSTEM_ACTOR = "system:certificate-expiry"


def expire_due(
    due: PostgresDueCertificates, certificates: CertificateService, today: date
) -> int:
    """Issue ``expire`` for every certificate due on ``today``; return how
    many were expired."""
    expired = 0
    for item in due.due(today):
        ctx = CommandContext(
            principal=Principal(
                item.tenant_id, SYSTEM_ACTOR, frozenset({Role.TENANT_ADMIN})
            ),
            correlation_id=f"expiry-{today.isoformat()}-{item.certificate_id}",
            today=today,
        )
        try:
            certificates.expire(ctx, CertificateAction(item.certificate_id))
            expired += 1
        except DomainError as e:
            log.info(
                "certificate not expired",
                extra={"certificate_id": str(item.certificate_id), "reason": str(e)},
            )
    if expired:
        log.info("certificates expired", extra={"count": expired, "on": str(today)})
    return expired


def run_expiry_checks(
    stop: threading.Event,
    due: PostgresDueCertificates,
    certificates: CertificateService,
    interval_seconds: float,
    today: Callable[[], date] = lambda: datetime.now(UTC).date(),
    beat: Callable[[], None] = lambda: None,
) -> None:
    """Check once per interval until ``stop`` is set."""
    while not stop.is_set():
        beat()
        try:
            expire_due(due, certificates, today())
        except Exception:
            log.exception("expiry check failed; retrying next interval")
        stop.wait(interval_seconds)
