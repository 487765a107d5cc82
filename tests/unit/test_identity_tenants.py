"""Creating tenants, and a tenant's MFA policy."""

from __future__ import annotations

import pytest

from commands.context import CommandContext
from commands.identity.tenants import CreateTenant
from commands.tenant_settings import SetMfaPolicy
from domain.errors import InvalidValueError, PermissionDeniedError, RuleViolationError
from domain.principal import Principal, Role
from tests.unit.test_identity_world import PLATFORM_ADMIN, World

NEW = CreateTenant("beta-audit", "Beta Audit Ltd", "Boss@Beta.test", "Bea Boss")


@pytest.fixture
def world():
    return World()


def platform():
    return CommandContext(PLATFORM_ADMIN, "req-platform")


def test_a_tenant_starts_with_an_invited_administrator(world):
    created = world.tenants.create_tenant(platform(), NEW)

    row = world.directory.account(created.account.id)
    assert (row.tenant_id, row.email, row.status, row.roles) == (
        "beta-audit",
        "boss@beta.test",
        "invited",
        ("tenant_admin",),
    )
    [mail] = world.directory.outbox
    assert mail.recipient == "boss@beta.test"
    assert "Beta Audit Ltd" in mail.body
    assert created.tenant.position == created.account.position


def test_creation_is_recorded_in_the_new_tenants_log_by_the_platform_admin(world):
    world.tenants.create_tenant(platform(), NEW)

    [created] = world.events("tenant.created")
    [invited] = world.events("account.invited")
    for event in (created, invited):
        assert event.meta.tenant_id == "beta-audit"
        assert event.meta.actor_id == PLATFORM_ADMIN.actor_id


def test_tenants_whose_slugs_give_the_same_code_get_different_codes(world):
    acme = world.tenants.create_tenant(
        platform(), CreateTenant("acme-cert", "Acme", "a@acme.test", "Ada")
    )
    other = world.tenants.create_tenant(
        platform(), CreateTenant("acmecert", "Acme Cert", "b@acme.test", "Bob")
    )
    third = world.tenants.create_tenant(
        platform(), CreateTenant("acme--cert", "A C", "c@acme.test", "Cy")
    )
    codes = [t.certificate_code for t in (acme, other, third)]
    assert codes == ["ACMECERT", "ACMECERT2", "ACMECERT3"]
    recorded = [e.certificate_code for e in world.events("tenant.created")]
    assert recorded == codes
    assert len(world.events("account.invited")) == 3


def test_a_tenant_is_created_once(world):
    world.tenants.create_tenant(platform(), NEW)
    with pytest.raises(RuleViolationError) as raised:
        world.tenants.create_tenant(platform(), NEW)
    assert raised.value.rule == "tenant.already_exists"


def test_the_platform_slug_is_reserved(world):
    with pytest.raises(InvalidValueError):
        world.tenants.create_tenant(
            platform(), CreateTenant("platform", "P", "p@p.test", "P")
        )


def test_only_platform_admins_create_tenants(world):
    admin = Principal("acme-cert", "a", frozenset({Role.TENANT_ADMIN}))
    with pytest.raises(PermissionDeniedError):
        world.tenants.create_tenant(CommandContext(admin, "r"), NEW)
    assert not world.events()


def test_the_invited_administrator_can_log_in_after_accepting(world):
    admin = world.create_tenant("beta-audit")
    assert world.logged_in("admin@beta-audit.test", "beta-audit").access_token
    assert world.directory.account(admin).status == "active"


def test_mfa_policy_is_shown_and_unchanged_policy_records_nothing(world):
    admin = world.create_tenant()
    ctx = world.ctx_of(admin)
    world.settings.set_mfa_policy(ctx, SetMfaPolicy(False, frozenset({"auditor"})))
    world.settings.set_mfa_policy(ctx, SetMfaPolicy(False, frozenset({"auditor"})))

    view = world.settings.show(ctx)
    assert (view.mfa_required_for_all, view.mfa_required_roles) == (
        False,
        ("auditor",),
    )
    assert view.time_zone == "UTC"
    assert len(world.events("tenant_settings.mfa_policy_changed")) == 1
    with pytest.raises(InvalidValueError):
        world.settings.set_mfa_policy(ctx, SetMfaPolicy(True, frozenset({"wizard"})))
