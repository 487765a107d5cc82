"""Schemathesis against the running API: generated requests for every
operation in /openapi.json find no server error and no response that breaks
the documented schema."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

CALLER = {
    "X-Dev-Tenant": "e2e-fuzz",
    "X-Dev-Actor": "fuzzer",
    "X-Dev-Roles": "tenant_admin,programme_manager,auditor,technical_reviewer,"
    "decision_maker,client_admin",
}
EXAMPLES_PER_OPERATION = 30


def test_no_server_error_and_every_answer_matches_its_schema(base_url):
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) > 40

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def exercise(case) -> None:
            case.call_and_validate(
                base_url=base_url,
                headers=CALLER,
                checks=[not_a_server_error, response_schema_conformance],
            )

        exercise()
