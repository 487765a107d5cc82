"""Certificate commands over the in-memory twins of the event store and the
number allocator."""

from __future__ import annotations

from datetime import date, timedelta
from uuid import uuid4

import pytest

from commands.certificates import (
    CertificateAction,
    CertificateService,
    IssueCertificate,
    ReviseCertificate,
    SiteScope,
    SuspendCertificate,
    WithdrawCertificate,
)
from commands.context import CommandContext
from commands.errors import ConcurrentWriteError
from commands.ports import Idempotency
from domain.certificate import Certificate
from domain.certificate_values import NUMBER_PATTERN, CertificateStatus
from domain.errors import (
    InvalidValueError,
    NotFoundError,
    PermissionDeniedError,
    RuleViolationError,
    VersionConflictError,
)
from domain.events import EventMeta
from domain.principal import Principal, Role
from infra.eventstore.memory import in_memory_env
from infra.eventstore.store import LibraryEventStore
from infra.postgres.certificate_numbers import InMemoryCertificateNumbers
from tests.unit.test_certification import (
    DECIDED,
    MAJOR,
    MINOR,
    ORG,
    SITE_A,
    SITE_B,
    decided,
    granted_audit,
    granted_regardless,
    raise_nc,
    respond,
    reviewed,
    started_audit,
)

DECIDER = Principal("tenant-a", "dora", frozenset({Role.DECISION_MAKER}))
MANAGER = Principal("tenant-a", "mia", frozenset({Role.PROGRAMME_MANAGER}))
AUDITOR = Principal("tenant-a", "arun", frozenset({Role.AUDITOR}))
OTHER_TENANT = Principal("tenant-b", "bob", frozenset({Role.DECISION_MAKER}))
TODAY = date(2026, 1, 12)
EXPIRES = date(2029, 1, 10)
RENEWED = date(2026, 6, 1)
RIVAL = EventMeta("tenant-a", "mia", "req-rival", "req-rival")
TENANT_B = EventMeta("tenant-b", "bob", "req-2", "req-2")


@pytest.fixture
def store():
    return LibraryEventStore(in_memory_env())


@pytest.fixture
def numbers():
    return InMemoryCertificateNumbers()


@pytest.fixture
def service(store, numbers):
    return CertificateService(store, numbers)


def ctx(principal=DECIDER, today=TODAY, key: str | None = None) -> CommandContext:
    idempotency = None if key is None else Idempotency(principal.tenant_id, key, "f")
    return CommandContext(principal, "req-1", today=today, idempotency=idempotency)


def saved(store, audit):
    store.append(audit)
    return audit


def issue_of(audit, *, sites=(SITE_A,), effective=DECIDED, expiry=EXPIRES):
    return IssueCertificate(
        audit.id,
        tuple(SiteScope(s, f"Pumps at {s}") for s in sites),
        effective,
        expiry,
    )


def revise_of(certificate_id, audit, **changes):
    terms = {
        "certificate_id": certificate_id,
        "audit_id": audit.id,
        "site_scopes": (SiteScope(SITE_A, "Pumps and valves"),),
        "effective_date": RENEWED,
        "expiry_date": date(2029, 6, 1),
    }
    return ReviseCertificate(**{**terms, **changes})


@pytest.fixture
def issued(service, store):
    """An active certificate on a clean grant."""
    return service.issue(ctx(), issue_of(saved(store, granted_audit())))


@pytest.fixture
def renewal_audit(store):
    return saved(store, granted_audit(audit_type="recertification", on=RENEWED))


def refused_rule(call) -> str:
    with pytest.raises(RuleViolationError) as raised:
        call()
    return raised.value.rule


# -- issue -------------------------------------------------------------------


def test_issue_rests_on_the_audit_s_grant_and_is_findable(service, store):
    audit = saved(store, granted_audit())
    accepted = service.issue(ctx(), issue_of(audit, sites=(SITE_B, SITE_A)))

    assert accepted.version == 1
    assert NUMBER_PATTERN.fullmatch(accepted.number)
    certificate = store.load(Certificate, accepted.id)
    assert certificate is not None
    assert (certificate.audit_id, certificate.organization_id) == (audit.id, ORG)
    assert certificate.decision_date == DECIDED
    assert certificate.issue_date == TODAY
    assert certificate.standard_edition == "2015"
    assert [s.site_id for s in certificate.sites] == [SITE_B, SITE_A]
    assert certificate.verification_code == accepted.verification_code
    assert store.find("tenant-a", "certificate", ORG, "ISO 9001") == [accepted.id]


@pytest.mark.parametrize(
    ("audit", "rule"),
    [
        (lambda: reviewed(started_audit()), "certificate.no_grant_decision"),
        (
            lambda: decided(started_audit(), outcome="refuse"),
            "certificate.no_grant_decision",
        ),
        (
            lambda: granted_regardless(with_finding(MAJOR)),
            "certificate.open_major_nonconformity",
        ),
        (
            lambda: granted_regardless(with_finding(MINOR, responded=True)),
            "certificate.minor_without_accepted_plan",
        ),
    ],
    ids=["no decision", "refused", "open major", "minor without accepted plan"],
)
def test_issue_is_refused_unless_the_audit_grants_without_open_findings(
    service, store, audit, rule
):
    bad = saved(store, audit())
    head = store.head()
    assert refused_rule(lambda: service.issue(ctx(), issue_of(bad))) == rule
    assert store.head() == head
    assert store.find("tenant-a", "certificate", ORG, "ISO 9001") == []
    assert next_number(service, store).endswith("-000001")  # none spent


def with_finding(grade, responded=False):
    audit = started_audit()
    finding = raise_nc(audit, grade)
    if responded:
        respond(audit, finding)
    return audit


def test_a_site_the_audit_did_not_cover_cannot_be_certified(service, store):
    audit = saved(store, granted_audit(site_ids=(SITE_A,)))
    with pytest.raises(InvalidValueError) as raised:
        service.issue(ctx(), issue_of(audit, sites=(SITE_A, SITE_B)))
    assert raised.value.field == "site_scopes"


def test_validity_rules_of_the_certificate_surface(service, store):
    audit = saved(store, granted_audit())
    early = issue_of(audit, effective=DECIDED - timedelta(days=1))
    assert refused_rule(lambda: service.issue(ctx(), early)) == (
        "certificate.effective_before_decision"
    )
    too_long = issue_of(audit, expiry=date(2029, 1, 11))  # DECIDED + 3 years + 1
    assert refused_rule(lambda: service.issue(ctx(), too_long)) == (
        "certificate.validity_too_long"
    )


def test_another_tenant_s_audit_is_not_found(service, store):
    audit = saved(store, granted_audit())
    with pytest.raises(NotFoundError):
        service.issue(ctx(OTHER_TENANT), issue_of(audit))


def test_an_audit_outside_the_caller_s_organizations_is_not_found(service, store):
    audit = saved(store, granted_audit())
    scoped = Principal(
        "tenant-a", "dora", DECIDER.roles, organization_ids=frozenset({uuid4()})
    )
    with pytest.raises(NotFoundError):
        service.issue(ctx(scoped), issue_of(audit))


def next_number(service, store) -> str:
    return service.issue(ctx(), issue_of(saved(store, granted_audit()))).number


def test_only_decision_makers_issue_and_no_number_is_spent(service, store):
    audit = saved(store, granted_audit())
    for principal in (AUDITOR, MANAGER):
        with pytest.raises(PermissionDeniedError):
            service.issue(ctx(principal), issue_of(audit))
    assert next_number(service, store).endswith("-000001")


def test_numbers_are_unique_and_increasing_within_the_tenant_and_year(service, store):
    issued = [next_number(service, store) for _ in range(3)]
    assert issued == sorted(set(issued))
    assert [n.split("-", 1)[1] for n in issued] == [
        "2026-000001",
        "2026-000002",
        "2026-000003",
    ]
    theirs = service.issue(
        ctx(OTHER_TENANT),
        issue_of(saved(store, granted_audit(meta=TENANT_B))),
    )
    assert theirs.number not in issued
    next_year = service.issue(
        ctx(today=date(2027, 1, 4)), issue_of(saved(store, granted_audit()))
    )
    assert next_year.number.split("-")[1:] == ["2027", "000001"]


def test_a_retried_issue_answers_the_same_number_and_code_once_written(service, store):
    audit = saved(store, granted_audit())
    first = service.issue(ctx(key="k-1"), issue_of(audit))
    again = service.issue(ctx(key="k-1"), issue_of(audit))
    assert again == first
    assert store.find("tenant-a", "certificate", ORG, "ISO 9001") == [first.id]
    assert next_number(service, store).endswith("-000002")


# -- lifecycle ---------------------------------------------------------------


def status_of(store, certificate_id) -> CertificateStatus:
    certificate = store.load(Certificate, certificate_id)
    assert certificate is not None
    return certificate.status


def test_suspend_and_reinstate_are_dated_today(service, store, issued):
    later = TODAY + timedelta(days=30)
    service.suspend(
        ctx(MANAGER, later), SuspendCertificate(issued.id, "No surveillance", 10)
    )
    certificate = store.load(Certificate, issued.id)
    assert certificate is not None
    assert certificate.suspended_until == later + timedelta(days=10)
    accepted = service.reinstate(
        ctx(MANAGER, later + timedelta(days=2)), CertificateAction(issued.id)
    )
    assert accepted.version == 3
    assert status_of(store, issued.id) is CertificateStatus.ACTIVE


def test_a_suspension_of_zero_days_is_refused(service, issued):
    with pytest.raises(InvalidValueError) as raised:
        service.suspend(ctx(MANAGER), SuspendCertificate(issued.id, "Why", 0))
    assert raised.value.field == "max_suspension_days"


def test_withdrawal_is_irrevocable(service, store, issued, renewal_audit):
    service.withdraw(ctx(MANAGER), WithdrawCertificate(issued.id, "Client closed"))
    later = ctx(MANAGER, RENEWED)
    for attempt in (
        lambda: service.reinstate(later, CertificateAction(issued.id)),
        lambda: service.suspend(later, SuspendCertificate(issued.id, "Again")),
        lambda: service.withdraw(later, WithdrawCertificate(issued.id, "Again")),
        lambda: service.expire(ctx(MANAGER, EXPIRES), CertificateAction(issued.id)),
        lambda: service.revise(ctx(today=RENEWED), revise_of(issued.id, renewal_audit)),
    ):
        assert refused_rule(attempt) == "certificate.withdrawn"
    assert status_of(store, issued.id) is CertificateStatus.WITHDRAWN


def test_expiry_is_recorded_only_from_the_expiry_date(service, store, issued):
    early = ctx(MANAGER, EXPIRES - timedelta(days=1))
    assert refused_rule(
        lambda: service.expire(early, CertificateAction(issued.id))
    ) == ("certificate.not_yet_expired")
    service.expire(ctx(MANAGER, EXPIRES), CertificateAction(issued.id))
    assert status_of(store, issued.id) is CertificateStatus.EXPIRED


def test_auditors_cannot_manage_and_other_tenants_cannot_see(service, issued):
    with pytest.raises(PermissionDeniedError):
        service.suspend(ctx(AUDITOR), SuspendCertificate(issued.id, "Why"))
    with pytest.raises(NotFoundError):
        service.suspend(ctx(OTHER_TENANT), SuspendCertificate(issued.id, "Why"))


def test_a_stale_expected_version_is_a_conflict(service, issued):
    with pytest.raises(VersionConflictError):
        service.suspend(ctx(MANAGER), SuspendCertificate(issued.id, "Why", None, 2))


# -- revise ------------------------------------------------------------------


def test_revise_issues_the_next_revision_and_supersedes_the_previous(
    service, store, issued, renewal_audit
):
    new = service.revise(
        ctx(today=RENEWED),
        revise_of(issued.id, renewal_audit, standard_edition="2015 + A1"),
    )
    assert new.id != issued.id
    assert new.version == 1
    assert (new.number, new.position) == (issued.number, store.head())
    assert new.verification_code != issued.verification_code

    revision = store.load(Certificate, new.id)
    previous = store.load(Certificate, issued.id)
    assert revision is not None
    assert previous is not None
    assert (revision.revision, revision.supersedes) == (2, issued.id)
    assert (revision.audit_id, revision.decision_date) == (renewal_audit.id, RENEWED)
    assert revision.standard_edition == "2015 + A1"
    assert previous.status is CertificateStatus.SUPERSEDED
    assert previous.superseded_by == new.id
    assert store.find("tenant-a", "certificate", ORG, "ISO 9001") == [
        issued.id,
        new.id,
    ]

    again = ctx(today=RENEWED)
    assert refused_rule(
        lambda: service.revise(again, revise_of(issued.id, renewal_audit))
    ) == ("certificate.superseded")


def test_a_suspended_certificate_is_revised_only_once_reinstated(
    service, store, issued, renewal_audit
):
    manager = ctx(MANAGER, RENEWED)
    service.suspend(manager, SuspendCertificate(issued.id, "No surveillance"))
    command = revise_of(issued.id, renewal_audit)
    assert refused_rule(lambda: service.revise(ctx(today=RENEWED), command)) == (
        "certificate.suspended"
    )
    service.reinstate(manager, CertificateAction(issued.id))
    assert service.revise(ctx(today=RENEWED), command).version == 1


def test_revise_checks_the_audit_as_issue_does(service, store, issued):
    refusal = saved(
        store, decided(started_audit(audit_type="recertification"), outcome="refuse")
    )
    assert refused_rule(
        lambda: service.revise(ctx(today=RENEWED), revise_of(issued.id, refusal))
    ) == ("certificate.no_grant_decision")
    elsewhere = saved(
        store,
        granted_audit(
            organization_id=uuid4(), on=RENEWED, audit_type="recertification"
        ),
    )
    with pytest.raises(InvalidValueError) as raised:
        service.revise(ctx(today=RENEWED), revise_of(issued.id, elsewhere))
    assert raised.value.field == "audit_id"
    assert status_of(store, issued.id) is CertificateStatus.ACTIVE


def test_a_lost_race_on_the_previous_revision_leaves_no_new_revision(
    service, store, issued, renewal_audit
):
    """Another manager suspends the certificate between load and save: the
    revision and the superseding fail together, and the retry on fresh state
    meets the suspension."""
    real_append = store.append
    attempted: list[Certificate] = []

    def racing_append(*aggregates, **kwargs):
        attempted.extend(a for a in aggregates if a.id != issued.id)
        if len(attempted) == 1:
            rival = store.load(Certificate, issued.id)
            rival.suspend(RIVAL, "Complaint", RENEWED)
            real_append(rival)
        return real_append(*aggregates, **kwargs)

    store.append = racing_append
    with pytest.raises(RuleViolationError) as raised:
        service.revise(ctx(today=RENEWED), revise_of(issued.id, renewal_audit))
    assert raised.value.rule == "certificate.suspended"
    [lost] = attempted
    assert store.load(Certificate, lost.id) is None
    assert status_of(store, issued.id) is CertificateStatus.SUSPENDED
    assert store.find("tenant-a", "certificate", ORG, "ISO 9001") == [issued.id]


def test_a_lost_race_with_an_expected_version_is_a_conflict(
    service, store, issued, renewal_audit
):
    real_append = store.append

    def failing_append(*aggregates, **kwargs):
        raise ConcurrentWriteError(aggregates[0].id)

    store.append = failing_append
    command = revise_of(issued.id, renewal_audit, expected_version=1)
    with pytest.raises(VersionConflictError):
        service.revise(ctx(today=RENEWED), command)
    store.append = real_append
    assert status_of(store, issued.id) is CertificateStatus.ACTIVE


def test_a_retried_revise_answers_for_the_same_new_revision(
    service, store, issued, renewal_audit
):
    command = revise_of(issued.id, renewal_audit)
    first = service.revise(ctx(today=RENEWED, key="k-2"), command)
    head = store.head()
    again = service.revise(ctx(today=RENEWED, key="k-2"), command)
    assert again == first
    assert store.head() == head


def test_only_decision_makers_revise(service, issued, renewal_audit):
    with pytest.raises(PermissionDeniedError):
        service.revise(ctx(MANAGER, RENEWED), revise_of(issued.id, renewal_audit))


def test_one_audit_supports_one_certificate(service, store):
    audit = saved(store, granted_audit())
    service.issue(ctx(), issue_of(audit))
    head = store.head()
    assert (
        refused_rule(lambda: service.issue(ctx(), issue_of(audit)))
        == "certificate.audit_already_certified"
    )
    assert store.head() == head


class RacingStore:
    """The event store as a command sees it when another command issued on
    the same audit after this one read the index: the index looks empty."""

    def __init__(self, store):
        self._store = store

    def __getattr__(self, name):
        return getattr(self._store, name)

    def find(self, *args):
        return []


def test_two_racing_issues_on_one_audit_make_one_certificate(store, numbers):
    audit = saved(store, granted_audit())
    racing = CertificateService(RacingStore(store), numbers)
    racing.issue(ctx(), issue_of(audit))
    head = store.head()
    assert (
        refused_rule(lambda: racing.issue(ctx(), issue_of(audit)))
        == "certificate.audit_already_certified"
    )
    assert store.head() == head


def test_an_audit_that_supports_a_revision_supports_no_other_certificate(
    service, store, issued, renewal_audit
):
    renewed = service.revise(ctx(today=RENEWED), revise_of(issued.id, renewal_audit))
    head = store.head()
    command = revise_of(renewed.id, renewal_audit)
    assert (
        refused_rule(lambda: service.revise(ctx(today=RENEWED), command))
        == "certificate.audit_already_certified"
    )
    assert store.head() == head
