"""The expiry processor records a certificate's expiry once its date has come."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

from domain.certificate import Certificate
from domain.certificate_values import CertificateStatus
from infra.postgres.progress import ProjectionProgress
from processors.expiry import expire_due
from tests.kafka_helpers import new_topic
from tests.unit.test_certificate import EXPIRES, META, issue_terms


def project(container, runner, topic, position):
    progress = ProjectionProgress(container.database, topic)
    deadline = time.monotonic() + 60
    while not progress.has_reached(runner.projection.name, position):
        assert time.monotonic() < deadline, "expiry projection did not catch up"
        runner.step()


def test_a_certificate_is_expired_on_its_expiry_date_and_not_before(
    container, migrated, make_relay
):
    certificate = Certificate.issue(
        META, **issue_terms(number=f"EXP-2026-{uuid.uuid4().int % 10**6:06d}")
    )
    position = container.event_store.append(certificate)
    topic = new_topic(migrated)
    relay = make_relay(topic)
    while relay.step() is not None:
        pass
    runner = container.expiry_runner(topic, group=f"g-{uuid.uuid4().hex[:8]}")
    due = container.due_certificates()
    certificates = container.services.certificates
    try:
        project(container, runner, topic, position)
        expire_due(due, certificates, lambda _: EXPIRES - timedelta(days=1), EXPIRES)
        before = container.event_store.load(Certificate, certificate.id)
        assert before is not None
        assert before.status is CertificateStatus.ACTIVE

        assert expire_due(due, certificates, lambda _: EXPIRES, EXPIRES) >= 1
        after = container.event_store.load(Certificate, certificate.id)
        assert after is not None
        assert after.status is CertificateStatus.EXPIRED

        # The expired event reaches the projection, which drops it from the list.
        while relay.step() is not None:
            pass
        project(container, runner, topic, container.event_store.head())
        assert certificate.id not in {d.certificate_id for d in due.due(EXPIRES)}
    finally:
        runner.close()
