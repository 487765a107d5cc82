"""The log watcher: re-verifies each tenant's newest segment and signs
checkpoints, raising an alert on a mismatch.

Each round, for every tenant, it verifies the chain from its second newest
checkpoint to its newest event (the export's own lines through the offline
verifier, keys from the database), and signs the head when the tenant is due
(``log_checkpoint_events`` new events, or the oldest unsigned one is
``log_checkpoint_seconds`` old). Only a verified head is signed. It also
looks for stored events that have no chain link. A mismatch is an alert: an
error log line marked ``security_event``, a row in ``log_alerts`` (which
``/health/ready`` reports as degraded until an operator resolves it with
``assurehub log-alerts resolve``), and a security event
``event_log.mismatch_detected`` in the tenant's own log, which ``GET
/security-events`` lists. The head of a segment that does not verify is not
signed.

The security event is appended once per alert row, not once per round: a
round records every alert whose event is not yet appended (the event's id is
derived from the alert's number, so a retry appends nothing twice). It is
chained after the tenant's stored head like any event, so the verifier still
names the first bad position, which lies before it. A stored event with no
chain link has no tenant the chain can name: its alert has no security event.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from commands.log_alerts import DetectedMismatch, LogAlertService
from infra.backoff import poll
from infra.eventlog.export import export_lines
from infra.eventlog.signing import CheckpointSigner
from infra.eventstore.log_verifier import Problem, Report, verify
from infra.postgres import event_log
from infra.postgres.pool import Database

log = logging.getLogger("assurehub.security")

UNCHAINED_WINDOW = 10_000
"""How far back from the head the watcher looks for unchained events."""


def database_keys(database: Database) -> dict[str, Ed25519PublicKey]:
    """Every published public key by id."""
    with database.connection() as conn:
        return {
            k.key_id: Ed25519PublicKey.from_public_bytes(k.public_key)
            for k in event_log.public_keys(conn)
        }


def verify_tenant(database: Database, tenant_id: str, from_position: int = 1) -> Report:
    """Verify the tenant's chain in place from ``from_position`` to its
    newest event (events after the newest checkpoint are accepted)."""
    lines = export_lines(database, tenant_id, from_position, None)
    return verify(lines, database_keys(database), allow_uncovered_tail=True)


@dataclass(frozen=True)
class Round:
    """What one round found and did."""

    reports: dict[str, Report]
    signed: list[str]
    unchained: list[int]


class LogWatcher:
    def __init__(
        self,
        database: Database,
        signer: CheckpointSigner,
        every_events: int,
        every_seconds: float,
        recorder: LogAlertService | None = None,
    ) -> None:
        self._db = database
        self._recorder = recorder
        self._signer = signer
        self._every_events = every_events
        self._every = timedelta(seconds=every_seconds)

    def check(self) -> Round:
        """One round: verify the newest segments, sign what is due."""
        with self._db.connection() as conn:
            due = {
                p.tenant_id: p
                for p in event_log.pending(conn)
                if p.count >= self._every_events
                or datetime.now(UTC) - p.oldest >= self._every
            }
            tenants = event_log.tenants(conn)
            starts = {t: event_log.newest_checkpoints(conn, t, 2) for t in tenants}
            head = conn.execute(
                "SELECT coalesce(max(position), 0) FROM event_chain"
            ).fetchone()
            orphans = event_log.unchained(
                conn, max(0, (head[0] if head else 0) - UNCHAINED_WINDOW)
            )
        reports, signed = {}, []
        for tenant in tenants:
            start = starts[tenant][0] if starts[tenant] else 1
            report = verify_tenant(self._db, tenant, start)
            reports[tenant] = report
            if not report.ok:
                with self._db.connection() as conn:
                    end = event_log.chain_head(conn, tenant)
                self._alert(
                    tenant,
                    report.position,
                    report.problem,
                    report.detail,
                    (start, end),
                )
            elif tenant in due and report.last_position is not None and report.head:
                self._signer.sign(
                    tenant, report.last_position, bytes.fromhex(report.head)
                )
                signed.append(tenant)
        for position in orphans:
            self._alert("", position, Problem.EVENT_INSERTED, "no chain link")
        self._record_alerts()
        return Round(reports, signed, orphans)

    def _record_alerts(self) -> None:
        """Append the security event of every open alert that has none yet."""
        if self._recorder is None:
            return
        with self._db.connection() as conn:
            todo = event_log.unrecorded_alerts(conn)
        for alert in todo:
            record_alert(self._db, self._recorder, alert)

    def _alert(
        self,
        tenant: str,
        position: int | None,
        problem: Problem | None,
        detail: str,
        segment: tuple[int, int | None] = (1, None),
    ) -> None:
        name = problem.value if problem else "unknown"
        with self._db.connection() as conn:
            new = event_log.raise_alert(conn, tenant, position, name, detail, segment)
        if new:
            log.error(
                "event log mismatch",
                extra={
                    "security_event": "event_log.mismatch",
                    "tenant_id": tenant,
                    "position": position,
                    "problem": name,
                    "detail": detail,
                },
            )


def record_alert(
    database: Database, recorder: LogAlertService, alert: event_log.AlertRow
) -> None:
    """Append ``alert``'s security event to its tenant's log (nothing if it
    is there already) and mark the alert recorded."""
    recorder.record(
        DetectedMismatch(
            alert.id,
            alert.tenant_id,
            alert.position,
            alert.problem,
            alert.detail,
            (alert.segment_from, alert.segment_to),
        )
    )
    with database.connection() as conn:
        event_log.mark_recorded(conn, alert.id)


def run_log_watch(
    stop: threading.Event,
    watcher: LogWatcher,
    interval_seconds: float,
    beat: Callable[[], None] = lambda: None,
) -> None:
    """Run rounds until ``stop``; a round that fails is retried next interval."""

    def once() -> bool:
        watcher.check()
        return False  # one pass per interval

    poll(
        stop,
        once,
        interval_seconds,
        beat,
        log,
        "event log watch failed; retrying next interval",
    )
