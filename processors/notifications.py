"""The notification processor: e-mails for the events people should hear of.

Once per interval it claims the ``notifications`` projection's intents (one
per event, see :mod:`projections.notification_intents`), waits until the read
models it reads from have reached the event, decides who receives it
(:func:`audience`), renders each recipient's e-mail in their language and
queues the lot in the outbox
(:class:`~infra.postgres.notifications.PostgresNotifications`), which the
outbox dispatcher (:mod:`processors.mail`) sends. The outbox is keyed by
event and recipient: a redelivered event, a restarted processor or two
processors at once queue each person's e-mail once.

Who receives what (active accounts of the event's tenant that did not switch
the kind off; client accounts only for their own organizations):

==========================  =====================================================
team assigned or changed    every member of the new team
submitted for review        the named technical reviewer
returned for rework         the lead auditor
decision needed             the tenant's decision makers (review approved)
finding raised              the organization's client administrators
                            (nonconformities only)
client response submitted   the lead auditor
response rejected           the organization's client administrators
certificate issued,         the organization's client administrators
suspended, reinstated,
withdrawn
surveillance due            the tenant's programme managers (scheduled)
new login (new address)     the account itself (always sent; see
                            :mod:`projections.notification_intents`)
==========================  =====================================================
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from domain.notifications import NotificationKind
from domain.principal import Role
from infra.backoff import poll
from infra.notifications.render import NotificationTemplates
from infra.postgres.notifications import (
    Audience,
    Intent,
    PostgresNotifications,
    QueuedMail,
    Recipient,
)
from infra.postgres.progress import ProjectionProgress

log = logging.getLogger(__name__)

_K = NotificationKind
_CERTIFICATE_KINDS = frozenset(
    {
        _K.CERTIFICATE_ISSUED,
        _K.CERTIFICATE_SUSPENDED,
        _K.CERTIFICATE_REINSTATED,
        _K.CERTIFICATE_WITHDRAWN,
        _K.CERTIFICATE_EXPIRING,
        _K.CERTIFICATE_EXPIRED,
        _K.SURVEILLANCE_DUE,
    }
)
_SCHEDULED_FACTS = ("days", "surveillance_due")
"""Facts a scheduled job passes on to a certificate's e-mail."""
NEW_LOGIN_MAX_AGE = timedelta(days=1)
"""A ``new_login`` intent for an older login is dropped without an e-mail:
news of it would come too late to help, and a rebuild of the ``notifications``
projection, which replays every past login, must not mail them all."""
_FINDING_KINDS = frozenset(
    {
        _K.FINDING_RAISED,
        _K.RESPONSE_SUBMITTED,
        _K.RESPONSE_REJECTED,
        _K.CORRECTIVE_ACTION_DUE,
        _K.CORRECTIVE_ACTION_OVERDUE,
    }
)


@dataclass(frozen=True)
class Tick:
    """What one pass did: intents claimed, e-mails queued."""

    claimed: int
    queued: int


class ContextMissingError(LookupError):
    """A read model has no row for the resource yet (it is behind)."""


@dataclass(frozen=True)
class Context:
    """What an e-mail may say about its resource, and who it goes to."""

    facts: dict[str, Any]
    audience: Audience
    path: str


def audience(
    kind: NotificationKind,
    facts: dict[str, Any],
    organization_id: UUID,
    lead_auditor: str | None = None,
) -> Audience:
    """Who receives ``kind`` (see the table of the module docstring);
    ``facts`` are the event's (team, reviewer)."""
    client = (Role.CLIENT_ADMIN.value,)
    lead = (lead_auditor,) if lead_auditor else ()
    if kind is _K.TEAM_ASSIGNED:
        team = [facts.get("lead_auditor")]
        for group in ("auditors", "technical_experts", "observers"):
            team.extend(facts.get(group, ()))
        return Audience(tuple(m for m in team if m), (), organization_id)
    if kind is _K.SUBMITTED_FOR_REVIEW:
        return Audience((facts["technical_reviewer"],), (), organization_id)
    if kind in (_K.RETURNED_FOR_REWORK, _K.RESPONSE_SUBMITTED):
        return Audience(lead, (), organization_id)
    if kind is _K.DECISION_NEEDED:
        return Audience((), (Role.DECISION_MAKER.value,), organization_id)
    if kind in (_K.CORRECTIVE_ACTION_DUE, _K.CORRECTIVE_ACTION_OVERDUE):
        return Audience(lead, client, organization_id)
    if kind in (_K.CERTIFICATE_EXPIRING, _K.CERTIFICATE_EXPIRED):
        return Audience((), (Role.PROGRAMME_MANAGER.value, *client), organization_id)
    if kind is _K.SURVEILLANCE_DUE:
        return Audience((), (Role.PROGRAMME_MANAGER.value,), organization_id)
    return Audience((), client, organization_id)


def _read_models(kind: NotificationKind) -> tuple[str, ...]:
    """The read models an intent of ``kind`` waits for."""
    if kind is _K.NEW_LOGIN:
        return ("accounts",)
    if kind in _CERTIFICATE_KINDS:
        return ("certificates",)
    return ("audits", "organizations")


class NotificationProcessor:
    """Turns intents into outbox messages.

    Args:
        store: Intents, read models and the outbox.
        progress: Whether the read models have reached an event.
        templates: The e-mail templates.
        frontend_base_url: Base of the links in the e-mails.
        batch: Intents claimed per tick.
        now: The clock (a ``new_login`` intent older than
            :data:`NEW_LOGIN_MAX_AGE` is dropped).
    """

    def __init__(
        self,
        store: PostgresNotifications,
        progress: ProjectionProgress,
        templates: NotificationTemplates,
        frontend_base_url: str,
        batch: int = 50,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._now = now
        self._progress = progress
        self._templates = templates
        self._base = frontend_base_url.rstrip("/")
        self.batch = batch

    def tick(self) -> Tick:
        """Handle one batch of intents."""
        queued = 0
        intents = self._store.claim(self.batch)
        if not intents:
            return Tick(0, 0)
        progress = self._progress.snapshot()
        for intent in intents:
            needed = _read_models(intent.kind)
            if not all(progress.reached(p, intent.position) for p in needed):
                self._store.retry(intent, "read models behind the event")
                continue
            try:
                queued += self._handle(intent)
            except Exception as e:  # one intent's failure holds up no other
                log.warning(
                    "notification not queued; will retry",
                    extra={"event_id": intent.event_id, "error": repr(e)},
                )
                self._store.retry(intent, f"{type(e).__name__}: {e}")
        if queued:
            log.info("notifications queued", extra={"count": queued})
        return Tick(len(intents), queued)

    def _handle(self, intent: Intent) -> int:
        if intent.kind is _K.NEW_LOGIN and self._stale(intent.facts["at"]):
            log.info(
                "login notice too old; dropped", extra={"event_id": intent.event_id}
            )
            return self._store.queue(
                intent.tenant_id, intent.kind, intent.event_id, [], intent
            )
        context = self.context(
            intent.tenant_id, intent.kind, intent.subject_id, intent.facts
        )
        mails = self.render(intent.tenant_id, intent.kind, context)
        return self._store.queue(
            intent.tenant_id, intent.kind, intent.event_id, mails, intent
        )

    def _stale(self, at: str) -> bool:
        return self._now() - datetime.fromisoformat(at) > NEW_LOGIN_MAX_AGE

    def queue(
        self,
        tenant_id: str,
        kind: NotificationKind,
        occurrence: str,
        mails: list[QueuedMail],
    ) -> int:
        """Queue ``occurrence``'s e-mails (those not queued before)."""
        return self._store.queue(tenant_id, kind, occurrence, mails)

    def context(
        self,
        tenant_id: str,
        kind: NotificationKind,
        subject_id: UUID,
        facts: dict[str, Any],
    ) -> Context:
        """The facts, audience and link of ``kind`` about ``subject_id``.

        Raises:
            ContextMissingError: a read model has no row for it yet.
        """
        if kind is _K.NEW_LOGIN:
            at = datetime.fromisoformat(facts["at"]).astimezone(UTC)
            shown = {
                "address": facts["address"],
                "time": at.strftime("%Y-%m-%d %H:%M UTC"),
            }
            account = Audience((str(subject_id),))
            return Context(shown, account, "/settings/security")
        if kind in _CERTIFICATE_KINDS:
            certificate = self._need(self._store.certificate(tenant_id, subject_id))
            shown = {
                "certificate": {
                    k: certificate[k]
                    for k in ("number", "standard_name", "expiry_date")
                },
                **{k: v for k, v in facts.items() if k in _SCHEDULED_FACTS},
            }
            return Context(
                shown,
                audience(kind, facts, certificate["organization_id"]),
                f"/certificates/{subject_id}",
            )
        audit = self._need(self._store.audit(tenant_id, subject_id))
        shown = {
            "audit": {
                k: audit[k]
                for k in (
                    "standard_name",
                    "organization_name",
                    "planned_start",
                    "planned_end",
                )
            }
        }
        path = f"/audits/{subject_id}"
        if kind in _FINDING_KINDS:
            finding_id = UUID(facts["finding_id"])
            finding = self._need(self._store.finding(tenant_id, finding_id))
            shown["finding"] = {
                k: finding[k] for k in ("clause_id", "grade", "due_date")
            }
            path = f"{path}/findings/{finding_id}"
        lead = audit["lead_auditor"]
        return Context(
            shown, audience(kind, facts, audit["organization_id"], lead), path
        )

    @staticmethod
    def _need(row: dict[str, Any] | None) -> dict[str, Any]:
        if row is None:
            raise ContextMissingError("the read model has no row for it yet")
        return row

    def render(
        self, tenant_id: str, kind: NotificationKind, context: Context
    ) -> list[QueuedMail]:
        """Each recipient's e-mail of ``kind``."""
        recipients = self._store.recipients(tenant_id, kind, context.audience)
        return [self._mail(kind, context, r) for r in recipients]

    def _mail(
        self, kind: NotificationKind, context: Context, recipient: Recipient
    ) -> QueuedMail:
        unsubscribe = (
            f"{self._base}/settings/notifications?unsubscribe={kind.value}"
            if kind.optional
            else None
        )
        facts = {
            **context.facts,
            "name": recipient.name,
            "link": f"{self._base}{context.path}",
            "unsubscribe_url": unsubscribe,
        }
        rendered = self._templates.render(kind, recipient.language, facts)
        return QueuedMail(
            recipient, rendered.subject, rendered.text, rendered.html, unsubscribe
        )


def run_notifications(
    stop: threading.Event,
    processor: NotificationProcessor,
    interval_seconds: float,
    beat: Callable[[], None] = lambda: None,
) -> None:
    """Queue notifications until ``stop`` is set: again at once after a busy
    tick, else after ``interval_seconds``."""
    poll(
        stop,
        lambda: processor.tick().claimed >= processor.batch,
        interval_seconds,
        beat,
        log,
        "notification processing failed; retrying next interval",
    )
