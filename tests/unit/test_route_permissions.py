"""Every endpoint declares who may call it, and the OpenAPI document says so."""

from __future__ import annotations

from unittest.mock import MagicMock

from domain.access import PERMISSIONS, Permission
from read_api.app import ROUTERS, create_app
from read_api.permissions import declare_permissions


def test_no_route_lacks_a_declared_permission():
    assert declare_permissions(ROUTERS) == []


def test_the_openapi_document_shows_each_operations_permission():
    spec = create_app(MagicMock()).openapi()
    declared = {
        (method, path): op.get("x-permission")
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
    }
    assert all(declared.values()), [k for k, v in declared.items() if not v]
    assert declared[("post", "/audits/{audit_id}/decide")] == "audit:decide"
    assert declared[("get", "/health/live")] == "public"
    assert declared[("get", "/dashboard")] == "dashboard:read"
    known = {p.value for p in Permission} | {"public"}
    assert set(declared.values()) <= known


def test_the_only_public_routes_are_health_verification_log_keys_and_the_ways_in():
    spec = create_app(MagicMock()).openapi()
    public = {
        (method, path)
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
        if op.get("x-permission") == "public"
    }
    assert public == {
        ("get", "/health/live"),
        ("get", "/health/ready"),
        ("post", "/public/certificate-verifications"),
        ("get", "/public/certificate-verifications"),
        ("post", "/auth/login"),
        ("post", "/auth/login/mfa"),
        ("post", "/auth/refresh"),
        ("post", "/auth/invitations/accept"),
        ("post", "/auth/password-resets"),
        ("post", "/auth/password-resets/confirm"),
        ("get", "/.well-known/assurehub-log-keys"),
    }


def test_every_permission_is_granted_to_some_role():
    assert all(PERMISSIONS[p] for p in Permission)
