"""The OpenAPI document lists every error each operation can answer, and an
example for every command's request."""

from __future__ import annotations

from unittest.mock import MagicMock

import pytest

from read_api.app import create_app
from read_api.rule_codes import rule_codes


@pytest.fixture(scope="module")
def spec():
    return create_app(MagicMock()).openapi()


def operations(spec):
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            yield path, method, op


def test_every_protected_operation_documents_401_403_and_503(spec):
    for path, method, op in operations(spec):
        if op.get("x-permission") == "public" or path.startswith("/health"):
            continue
        assert {"401", "403", "503"} <= set(op["responses"]), (method, path)


def test_ids_in_the_path_mean_404_and_if_match_means_412(spec):
    for path, method, op in operations(spec):
        names = {p["name"].lower() for p in op.get("parameters", [])}
        if "{" in path:
            assert "404" in op["responses"], (method, path)
        if "if-match" in names:
            assert {"400", "412"} <= set(op["responses"]), (method, path)


def test_commands_list_the_rule_codes_they_can_break(spec):
    close = spec["paths"]["/audits/{audit_id}/close"]["post"]["responses"]["409"]
    assert "`audit.unverified_major_nonconformity`" in close["description"]
    issue = spec["paths"]["/certificates"]["post"]["responses"]["409"]
    assert "`certificate.open_major_nonconformity`" in issue["description"]
    assert "`certificate.audit_type_not_certifying`" in issue["description"]
    assert "audit.unverified_major_nonconformity" in rule_codes("/audits/{audit_id}")
    assert (
        "409"
        not in spec["paths"]["/public/certificate-verifications"]["post"]["responses"]
    )


def test_every_error_answer_is_a_problem_document(spec):
    for path, method, op in operations(spec):
        for status, response in op["responses"].items():
            if status.startswith(("4", "5")):
                content = response.get("content", {})
                assert "application/problem+json" in content, (method, path, status)


def test_every_command_request_has_an_example(spec):
    schemas = spec["components"]["schemas"]
    for path, method, op in operations(spec):
        body = op.get("requestBody")
        if body is None:
            continue
        schema = next(iter(body["content"].values()))["schema"]
        refs = [schema.get("$ref")] + [s.get("$ref") for s in schema.get("anyOf", [])]
        [name] = [r.rsplit("/", 1)[1] for r in refs if r]
        component = schemas[name]
        fields = component.get("properties", {}).values()
        assert "examples" in component or any(
            "examples" in f or any("examples" in a for a in f.get("anyOf", []))
            for f in fields
        ), (method, path, name)


def test_protected_operations_name_the_security_schemes_and_public_ones_none(spec):
    schemes = spec["components"]["securitySchemes"]
    assert schemes["accessToken"]["scheme"] == "bearer"
    assert schemes["accessToken"]["bearerFormat"] == "JWT"
    assert schemes["apiToken"]["scheme"] == "bearer"
    for path, method, op in operations(spec):
        public = op.get("x-permission") == "public" or path.startswith("/health")
        if public:
            assert "security" not in op, (method, path)
        else:
            assert op["security"] == [{"accessToken": []}, {"apiToken": []}], (
                method,
                path,
            )
    login = spec["paths"]["/auth/login"]["post"]
    assert login["x-permission"] == "public"
    assert spec["paths"]["/users/invitations"]["post"]["x-permission"] == "user:manage"
