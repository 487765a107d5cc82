"""API tokens of service accounts."""

from __future__ import annotations

import pytest

from commands.identity.api_tokens import IssueApiToken
from domain.errors import NotFoundError, PermissionDeniedError, RuleViolationError
from infra.identity.security.tokens import digest
from tests.unit.test_identity_world import World


@pytest.fixture
def world():
    return World()


@pytest.fixture
def admin(world):
    return world.create_tenant()


READER = IssueApiToken(
    "ERP export", frozenset({"compliance_officer"}), frozenset({"audit:read"}), 30
)


def test_an_issued_token_is_shown_once_and_stored_by_digest(world, admin):
    issued = world.api_tokens.issue(world.ctx_of(admin), READER)

    assert issued.token.startswith("ah_live_")
    record = world.directory.api_token(digest(issued.token))
    assert record is not None
    assert record.token_id == issued.id
    assert (record.roles, record.scopes) == (("compliance_officer",), ("audit:read",))
    assert record.expires_at == world.clock.now().replace(day=1, month=4)
    [event] = world.events("api_token.issued")
    assert event.prefix == issued.token[:12]
    assert issued.token not in repr(event.__dict__)


def test_a_revoked_token_stops_working(world, admin):
    issued = world.api_tokens.issue(world.ctx_of(admin), READER)
    world.api_tokens.revoke(world.ctx_of(admin), issued.id)

    assert world.directory.api_token(digest(issued.token)).revoked_at is not None
    with pytest.raises(RuleViolationError) as twice:
        world.api_tokens.revoke(world.ctx_of(admin), issued.id)
    assert twice.value.rule == "api_token.already_revoked"


def test_tokens_are_listed_without_secrets_per_tenant(world, admin):
    issued = world.api_tokens.issue(world.ctx_of(admin), READER)
    other = world.create_tenant("other-cert")

    assert [t.token_id for t in world.api_tokens.tokens(world.ctx_of(admin))] == [
        issued.id
    ]
    assert world.api_tokens.tokens(world.ctx_of(other)) == []
    with pytest.raises(NotFoundError):
        world.api_tokens.revoke(world.ctx_of(other), issued.id)


def test_a_token_cannot_administer_the_tenant(world, admin):
    with pytest.raises(RuleViolationError) as raised:
        world.api_tokens.issue(
            world.ctx_of(admin), IssueApiToken("x", frozenset({"tenant_admin"}))
        )
    assert raised.value.rule == "api_token.role_not_allowed"


def test_only_tenant_admins_manage_tokens(world, admin):
    rita = world.active_user(admin)
    with pytest.raises(PermissionDeniedError):
        world.api_tokens.issue(world.ctx_of(rita), READER)
