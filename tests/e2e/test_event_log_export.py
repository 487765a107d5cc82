"""A compliance officer exports the tenant's log over HTTP and checks it
offline with the published keys, as an assessor would."""

from __future__ import annotations

import json
import uuid

from infra.eventlog.signing import CheckpointSigner, signing_keys
from infra.eventlog.watch import LogWatcher
from infra.eventstore.log_verifier import public_keys, verify
from tests.e2e.conftest import as_user


def test_an_exported_log_verifies_offline_with_the_published_keys(http, pipeline):
    tenant, other = f"e2e-log-{uuid.uuid4().hex[:8]}", f"e2e-x-{uuid.uuid4().hex[:8]}"
    for name, owner in (("Alpha AB", tenant), ("Other AB", other), ("Beta AB", tenant)):
        created = http.post(
            "/organizations",
            json={"name": name, "country": "SE"},
            headers=as_user(owner),
        )
        assert created.status_code == 201, created.text
    signer = CheckpointSigner(pipeline.database, signing_keys(pipeline.settings))
    LogWatcher(pipeline.database, signer, 1, 60).check()

    keys = http.get("/.well-known/assurehub-log-keys")
    assert keys.status_code == 200, keys.text
    officer = as_user(tenant, "compliance_officer")
    exported = http.get("/audit-log/export", headers=officer)
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"] == "application/jsonl"
    lines = exported.text.splitlines()
    events = [json.loads(line) for line in lines if '"kind":"event"' in line]
    assert [e["tenant_id"] for e in events] == [tenant, tenant]

    report = verify(lines, public_keys(keys.json()))
    assert report.ok, report.text()
    assert (report.events, report.checkpoints) == (2, 1)

    refused = http.get("/audit-log/export", headers=as_user(tenant, "tenant_admin"))
    assert refused.status_code == 403
