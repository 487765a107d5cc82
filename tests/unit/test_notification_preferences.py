"""Notification preferences: people switch optional kinds, tenant defaults
apply where they did not choose, security messages stay on."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from uuid import UUID

import pytest

from commands.context import CommandContext
from commands.notification_preferences import NotificationPreferencesService
from domain.errors import InvalidValueError, NotFoundError, PermissionDeniedError
from domain.notifications import NotificationKind
from domain.principal import Principal, Role
from tests.in_process import app_in_process, send


class MemoryPreferences:
    def __init__(self) -> None:
        self.kinds: dict[tuple[str, UUID | None], dict[str, bool]] = {}
        self.languages: dict[tuple[str, UUID], str] = {}

    def choices(self, tenant_id: str, account_id: UUID | None) -> dict[str, bool]:
        return dict(self.kinds.get((tenant_id, account_id), {}))

    def language(self, tenant_id: str, account_id: UUID) -> str | None:
        return self.languages.get((tenant_id, account_id))

    def is_account(self, tenant_id: str, account_id: UUID) -> bool:
        return tenant_id == "acme"

    def save(self, tenant_id, account_id, kinds: Mapping[str, bool], language):
        self.kinds.setdefault((tenant_id, account_id), {}).update(kinds)
        if account_id is not None and language is not None:
            self.languages[(tenant_id, account_id)] = language

    def sent(self, tenant_id, status, kind, limit, before=None):
        return []


def ctx(*roles: Role, actor: str | None = None) -> CommandContext:
    principal = Principal("acme", actor or str(uuid.uuid4()), frozenset(roles))
    return CommandContext(principal, "req-1")


def test_defaults_apply_where_a_person_has_not_chosen():
    svc = NotificationPreferencesService(MemoryPreferences())
    admin, person = ctx(Role.TENANT_ADMIN), ctx(Role.AUDITOR)
    svc.change_defaults(admin, {"team_assigned": False, "finding_raised": False})
    svc.change_mine(person, {"team_assigned": True}, "de")
    mine = svc.mine(person)
    assert mine.kinds[NotificationKind.TEAM_ASSIGNED] is True
    assert mine.kinds[NotificationKind.FINDING_RAISED] is False
    assert mine.kinds[NotificationKind.CERTIFICATE_EXPIRING] is True
    assert mine.language == "de"
    assert NotificationKind.INVITATION not in mine.kinds


@pytest.mark.parametrize("kind", ["password_reset", "invitation", "new_login", "spam"])
def test_security_and_unknown_kinds_cannot_be_switched(kind):
    svc = NotificationPreferencesService(MemoryPreferences())
    with pytest.raises(InvalidValueError) as raised:
        svc.change_mine(ctx(Role.AUDITOR), {kind: False}, None)
    assert raised.value.field == "kinds"
    with pytest.raises(InvalidValueError):
        svc.change_defaults(ctx(Role.TENANT_ADMIN), {kind: False})


def test_a_language_without_templates_is_refused():
    svc = NotificationPreferencesService(MemoryPreferences())
    with pytest.raises(InvalidValueError) as raised:
        svc.change_mine(ctx(Role.AUDITOR), {}, "fr")
    assert raised.value.field == "language"


def test_only_tenant_administrators_set_defaults_or_read_the_outbox():
    svc = NotificationPreferencesService(MemoryPreferences())
    with pytest.raises(PermissionDeniedError):
        svc.change_defaults(ctx(Role.PROGRAMME_MANAGER), {"team_assigned": False})
    with pytest.raises(PermissionDeniedError):
        svc.sent(ctx(Role.COMPLIANCE_OFFICER), None, None, 10)
    assert svc.sent(ctx(Role.TENANT_ADMIN), None, None, 10) == []


def test_a_caller_that_is_no_person_has_no_preferences():
    svc = NotificationPreferencesService(MemoryPreferences())
    with pytest.raises(NotFoundError):
        svc.mine(ctx(Role.AUDITOR, actor="token:ci"))


@pytest.mark.parametrize("cursor", ["bogus", "WzEsMl0", "bnVsbA", "W10"])
def test_a_forged_notifications_cursor_is_400_naming_it(cursor):
    [r] = send(
        app_in_process(),
        [{"method": "GET", "url": "/notifications", "params": {"cursor": cursor}}],
    )
    assert r.status_code == 400, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in r.json()["errors"]] == ["cursor"]
