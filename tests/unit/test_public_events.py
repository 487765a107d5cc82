"""What leaves the store: the public JSON of an event."""

from __future__ import annotations

import hashlib

from domain.certificate import Certificate
from infra.streaming.public_events import to_envelope
from tests.unit.test_certificate import META, issue_terms


def test_a_certificate_verification_code_is_published_only_as_its_digest():
    certificate = Certificate.issue(META, **issue_terms())
    [event] = certificate.collect_events()
    envelope = to_envelope(event, position=7, source="/assurehub")
    assert "verification_code" not in envelope.data
    assert (
        envelope.data["verification_code_sha256"]
        == hashlib.sha256(certificate.verification_code.encode()).hexdigest()
    )
    assert envelope.data["number"] == certificate.number
