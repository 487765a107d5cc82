"""A tenant's certificate template: the document template its certificates
are rendered with."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest

from commands.context import CommandContext
from commands.tenant_settings import (
    SetCertificateTemplate,
    SetTimeZone,
    TenantCalendar,
    TenantSettingsService,
)
from domain.document_template import DocumentTemplate
from domain.errors import NotFoundError, PermissionDeniedError, RuleViolationError
from domain.events import EventMeta
from domain.principal import Principal, Role
from domain.tenant_settings import TenantSettings, certificate_template_of
from infra.eventstore.memory import in_memory_env
from infra.eventstore.store import LibraryEventStore

META = EventMeta("tenant-a", "alice", "req-1", "req-1")
ADMIN = Principal("tenant-a", "alice", frozenset({Role.TENANT_ADMIN}))
MANAGER = Principal("tenant-a", "mia", frozenset({Role.PROGRAMME_MANAGER}))
OTHER_ADMIN = Principal("tenant-b", "bob", frozenset({Role.TENANT_ADMIN}))


def layout(kind: str = "certificate", meta: EventMeta = META) -> DocumentTemplate:
    sections = ("holder",) if kind == "certificate" else ("summary",)
    return DocumentTemplate.create(meta, kind, "Certificate", "ACME", sections, "Sig")


def rule_of(call) -> str:
    with pytest.raises(RuleViolationError) as raised:
        call()
    return raised.value.rule


def test_a_chosen_template_is_recorded_once():
    template = layout()
    settings = TenantSettings.with_certificate_template(META, template)
    assert settings.certificate_template_id == template.id
    assert settings.time_zone == "UTC"
    version = settings.version
    settings.choose_certificate_template(META, template)
    assert settings.version == version


def test_only_a_live_certificate_template_can_be_chosen():
    settings = TenantSettings.configure(META, "UTC")
    report = layout("audit_report")
    retired = layout()
    retired.retire(META, date(2026, 1, 1))
    assert rule_of(lambda: settings.choose_certificate_template(META, report)) == (
        "document.template_wrong_kind"
    )
    assert rule_of(lambda: settings.choose_certificate_template(META, retired)) == (
        "document.template_retired"
    )
    assert settings.certificate_template_id is None


def test_a_tenant_that_chose_none_has_no_certificate_template():
    assert rule_of(lambda: certificate_template_of(None, "tenant-a")) == (
        "tenant_settings.no_certificate_template"
    )
    settings = TenantSettings.configure(META, "UTC")
    assert rule_of(lambda: certificate_template_of(settings, "tenant-a")) == (
        "tenant_settings.no_certificate_template"
    )


@pytest.fixture
def store():
    return LibraryEventStore(in_memory_env())


@pytest.fixture
def service(store):
    return TenantSettingsService(store, TenantCalendar(store))


def ctx(principal: Principal = ADMIN) -> CommandContext:
    return CommandContext(principal, "req-1")


def test_an_admin_chooses_the_template_before_or_after_other_settings(store, service):
    first, second = layout(), layout()
    store.append(first, second)
    service.set_certificate_template(ctx(), SetCertificateTemplate(first.id))
    assert service.show(ctx()).certificate_template_id == first.id
    service.set_time_zone(ctx(), SetTimeZone("Europe/Berlin"))
    accepted = service.set_certificate_template(
        ctx(), SetCertificateTemplate(second.id)
    )
    shown = service.show(ctx())
    assert (shown.certificate_template_id, shown.time_zone) == (
        second.id,
        "Europe/Berlin",
    )
    assert shown.version == accepted.version == 4


def test_the_template_must_be_the_tenant_s_and_a_certificate_s(store, service):
    report = layout("audit_report")
    theirs = layout(meta=EventMeta("tenant-b", "bob", "req-2", "req-2"))
    store.append(report, theirs)
    head = store.head()
    with pytest.raises(NotFoundError):
        service.set_certificate_template(ctx(), SetCertificateTemplate(theirs.id))
    with pytest.raises(NotFoundError):
        service.set_certificate_template(ctx(), SetCertificateTemplate(uuid4()))
    assert rule_of(
        lambda: service.set_certificate_template(
            ctx(), SetCertificateTemplate(report.id)
        )
    ) == ("document.template_wrong_kind")
    assert store.head() == head


def test_only_tenant_admins_choose_it(store, service):
    template = layout()
    store.append(template)
    with pytest.raises(PermissionDeniedError):
        service.set_certificate_template(
            ctx(MANAGER), SetCertificateTemplate(template.id)
        )
