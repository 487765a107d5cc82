"""As it was, for certificates, organizations, standard and document
templates: random command sequences; after each command the live detail is
recorded, then ``as_of_version`` of every version must answer it, field for
field, joined data included (a certificate's other revisions, an
organization's certificates in force).

The live detail is each projection applied to each new event as the runner
applies it, read by the route's own code; the as-of detail is the same
projection folded from the event store by
:class:`infra.projection.as_of.AsOfFolds`, from fold snapshots (every two
versions here) and without them. What "right after version N" means follows
the route: an organization's certificates are those recorded by the time of
its version N (the detail right after it); a certificate's other revisions
are those recorded before its version N + 1 (the detail while it stayed at
N); a template joins nothing, so the two are the same.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from functools import partial
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic_core import to_jsonable_python

from domain.certificate import Certificate
from domain.document_template import DocumentTemplate
from domain.errors import DomainError
from domain.events import EventMeta
from domain.organization import Organization
from domain.principal import Principal, Role
from domain.standard_template import StandardTemplate
from infra.eventstore.memory import in_memory_env
from infra.eventstore.store import LibraryEventStore
from infra.projection.as_of import AsOfFolds, AtTime, AtVersion, Folded, Target
from infra.projection.memory_fold import MemoryFold
from infra.streaming.stored_envelopes import StoredEnvelopes
from projections.certificates import CertificateProjection
from projections.collections import CERTIFICATES, DOCUMENT_TEMPLATES, STANDARD_TEMPLATES
from projections.memory_listing import listed
from projections.organizations import OrganizationProjection
from projections.ports import TableProjection
from projections.templates import (
    DOCUMENT_VERSIONS,
    STANDARD_VERSIONS,
    TemplateProjection,
)
from read_api.certificates import certificate_detail_of
from read_api.organizations import (
    organization_detail,
    organization_detail_at,
    record_of,
)
from read_api.templates import template_detail_of
from tests.unit.test_document_template import BRANDING, REPORT_SECTIONS, SIGNATURES

ADMIN = Principal("tenant-a", "alice", frozenset({Role.TENANT_ADMIN}))
META = EventMeta("tenant-a", "alice", "req-1", "req-1")
DAY0 = date(2026, 1, 5)
picks = st.integers(0, 5)


class World:
    """Aggregates appended to an in-memory store, the projections folded
    live event by event, and the subject's live detail after each command:
    ``first`` right after each version, ``last`` while it stayed there."""

    def __init__(self, *projections: TableProjection) -> None:
        self.store = LibraryEventStore(in_memory_env())
        self.envelopes = StoredEnvelopes(self.store, "test")
        self.live = {p.name: MemoryFold(p) for p in projections}
        self.seen = 0
        self.first: dict[int, dict[str, Any]] = {}
        self.last: dict[int, dict[str, Any]] = {}

    def save(self, *aggregates: Aggregate) -> None:
        self.store.append(*aggregates)
        for n in self.store.read_after(self.seen, 10_000):
            envelope = self.envelopes.envelope(n, n.id)
            for fold in self.live.values():
                fold.apply(envelope)
            self.seen = n.id

    def record(self, detail: dict[str, Any] | None) -> None:
        assert detail is not None
        answer = to_jsonable_python(detail)
        self.first.setdefault(answer["version"], answer)
        self.last[answer["version"]] = answer

    def attempt(self, command: Callable[[], object]) -> bool:
        try:
            command()
        except DomainError:
            return False
        return True

    def folds(self) -> tuple[AsOfFolds, AsOfFolds]:
        return (
            AsOfFolds(self.store, self.envelopes, interval=2),
            AsOfFolds(self.store, self.envelopes, snapshots=False),
        )


def _check(
    world: World, as_of: Callable[[AsOfFolds, AtVersion], dict[str, Any]], *, last: bool
) -> None:
    snapshotting, replaying = world.folds()
    expected = world.last if last else world.first
    assert expected
    for version in sorted(expected):
        # twice with snapshots: the first fold stores them, the second uses them
        for folds in (snapshotting, snapshotting, replaying):
            assert as_of(folds, AtVersion(version)) == expected[version]


def _folded(
    folds: AsOfFolds,
    projection: TableProjection,
    subject: UUID,
    related: list[UUID],
    target: Target,
) -> Folded:
    folded = folds.fold(projection, subject, related, target)
    assert isinstance(folded, Folded)
    return folded


# -- standard templates ---------------------------------------------------

STANDARD_STEPS = ("add", "change", "remove", "publish", "new_draft", "retire")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(STANDARD_STEPS), picks), max_size=25))
def test_standard_template_as_of_every_version_is_its_live_detail(steps):
    world = World(TemplateProjection())
    template = StandardTemplate.draft(META, "ISO 9001", "2015", "QMS checklist")

    _template_check(
        world, template, STANDARD_TEMPLATES, STANDARD_VERSIONS, _standard_step, steps
    )
    assert world.first == world.last  # nothing joined


def _template_check(
    world: World,
    template: Any,
    table: Any,
    versions: Any,
    step: Any,
    steps: list[tuple[str, int]],
) -> None:
    """Run ``steps`` on ``template`` (each through ``step``), then hold every
    version's as-of detail equal to the live detail recorded after it."""

    def live() -> dict[str, Any] | None:
        memory = world.live[TemplateProjection.name].memory
        return template_detail_of(ADMIN, memory, table, template.id, versions)

    world.save(template)
    world.record(live())
    for name, pick in steps:
        done = world.attempt(partial(step, template, name, pick))
        if done and template.pending_events:
            world.save(template)
            world.record(live())

    def as_of(folds: AsOfFolds, target: AtVersion) -> dict[str, Any]:
        folded = _folded(folds, TemplateProjection(), template.id, [], target)
        detail = template_detail_of(ADMIN, folded.rows, table, template.id, versions)
        assert detail is not None
        return to_jsonable_python(detail)

    _check(world, as_of, last=False)


def _standard_step(template: StandardTemplate, name: str, pick: int) -> None:
    clause = f"{4 + pick % 3}"
    if name == "add":
        template.add_clause(META, clause, f"T{pick}", "Text")
    elif name == "change":
        template.change_clause(META, clause, f"T{pick}!", f"Text {pick}")
    elif name == "remove":
        template.remove_clause(META, clause)
    elif name == "publish":
        template.publish(META, DAY0 + timedelta(pick))
    elif name == "new_draft":
        template.start_new_draft(META)
    elif name == "retire" and pick == 5:
        template.retire(META, DAY0)


# -- document templates ---------------------------------------------------

DOCUMENT_STEPS = ("revise", "retire")


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(DOCUMENT_STEPS), picks), max_size=12))
def test_document_template_as_of_every_version_is_its_live_detail(steps):
    world = World(TemplateProjection())
    template = DocumentTemplate.create(
        META, "audit_report", "Audit report", BRANDING, REPORT_SECTIONS, SIGNATURES
    )

    _template_check(
        world, template, DOCUMENT_TEMPLATES, DOCUMENT_VERSIONS, _document_step, steps
    )


def _document_step(template: DocumentTemplate, name: str, pick: int) -> None:
    if name == "revise":
        sections = REPORT_SECTIONS[: 1 + pick % len(REPORT_SECTIONS)]
        template.revise(META, f"Report {pick}", BRANDING, sections, SIGNATURES)
    elif name == "retire" and pick == 5:
        template.retire(META, DAY0)


# -- certificates and organizations ---------------------------------------


def _terms(audit: UUID, sites: tuple[UUID, ...], lag: int) -> dict[str, Any]:
    return {
        "site_ids": sites,
        "site_scopes": tuple(f"Scope {i}" for i in range(len(sites))),
        "standard_edition": "2015",
        "audit_id": audit,
        "decision_date": DAY0 + timedelta(lag),
        "issue_date": DAY0 + timedelta(lag),
        "effective_date": DAY0 + timedelta(lag),
        "expiry_date": DAY0 + timedelta(lag + 900),
    }


class Registry:
    """One organization and the revisions of its certificate."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.organization = Organization.register(META, "Acme", "GB")
        self.sites = [self.organization.add_site(META, "Plant", "1 Road")]
        world.save(self.organization)
        self.revisions: list[Certificate] = []
        self.audits = 0

    def certificate(self, pick: int) -> Certificate:
        return self.revisions[pick % len(self.revisions)]

    def step(self, name: str, pick: int) -> Aggregate | None:
        """Do one command; the aggregates it changed (``None``: refused)."""
        org, on = self.organization, DAY0 + timedelta(pick * 40)
        self.audits += 1
        audit = UUID(int=self.audits)
        actions: dict[str, Callable[[], Any]] = {
            "rename": lambda: org.rename(META, f"Acme {pick}"),
            "add_site": lambda: self.sites.append(
                org.add_site(META, f"Site {pick}", f"{pick} Street")
            ),
            "change_site": lambda: org.change_site(
                META, self.sites[pick % len(self.sites)], f"Plant {pick}", "2 Road"
            ),
            "details": lambda: org.change_details(META, "FR", f"R{pick}"),
            "issue": lambda: self.revisions.append(
                Certificate.issue(
                    META,
                    number=f"ACME-2026-{pick:06d}",
                    organization_id=org.id,
                    standard_name="ISO 9001",
                    **_terms(audit, tuple(self.sites[:1]), pick),
                )
            ),
            "suspend": lambda: self.certificate(pick).suspend(META, "Misuse", on, 90),
            "reinstate": lambda: self.certificate(pick).reinstate(META, on),
            "withdraw": lambda: self.certificate(pick).withdraw(META, "Fraud", on),
            "revise": lambda: self._revise(pick, audit),
        }
        if name in REGISTRY_STEPS[5:] and not self.revisions:
            return None
        if not self.world.attempt(actions[name]):
            return None
        changed = [a for a in (org, *self.revisions) if a.pending_events]
        if not changed:
            return None
        self.world.save(*changed)
        return changed[0]

    def _revise(self, pick: int, audit: UUID) -> None:
        previous = self.certificate(pick)
        revision = Certificate.issue_revision(
            META, previous, **_terms(audit, tuple(self.sites), pick + 1)
        )
        previous.mark_superseded(META, revision.id, revision.issue_date)
        self.revisions.append(revision)


REGISTRY_STEPS = (
    "rename",
    "add_site",
    "change_site",
    "details",
    "issue",
    "suspend",
    "reinstate",
    "withdraw",
    "revise",
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(REGISTRY_STEPS), picks), max_size=25))
def test_organization_as_of_every_version_is_its_live_detail(steps):
    world = World(OrganizationProjection(), CertificateProjection())
    registry = Registry(world)
    org = registry.organization.id

    def live() -> dict[str, Any]:
        record = record_of(ADMIN, world.live[OrganizationProjection.name].memory, org)
        assert record is not None
        memory = world.live[CertificateProjection.name].memory
        held = listed(
            ADMIN,
            CERTIFICATES,
            memory.rows(CERTIFICATES.table.name),
            {"organization_id": org},
        )
        return organization_detail(record, held).model_dump(
            mode="json", exclude_unset=True
        )

    world.record(live())
    for name, pick in steps:
        if registry.step(name, pick) is not None:
            world.record(live())

    def as_of(folds: AsOfFolds, target: AtVersion) -> dict[str, Any]:
        folded = _folded(folds, OrganizationProjection(), org, [], target)
        ids = [c.id for c in registry.revisions]
        detail = organization_detail_at(folds, ADMIN, org, ids, folded, target)
        assert detail is not None
        answer = detail.model_dump(mode="json", exclude_unset=True)
        assert answer.pop("as_of")["version"] == target.version
        return answer

    _check(world, as_of, last=False)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(st.sampled_from(REGISTRY_STEPS[4:]), picks), max_size=25),
    picks,
)
def test_certificate_as_of_every_version_is_its_live_detail(steps, which):
    world = World(CertificateProjection())
    registry = Registry(world)
    registry.step("issue", which)
    subject = registry.revisions[0]

    def live() -> dict[str, Any] | None:
        memory = world.live[CertificateProjection.name].memory
        return certificate_detail_of(ADMIN, memory, subject.id)

    world.record(live())
    for name, pick in steps:
        if registry.step(name, pick) is not None:
            world.record(live())  # another revision's change shows in the chain

    def as_of(folds: AsOfFolds, target: AtVersion) -> dict[str, Any]:
        others = [c.id for c in registry.revisions if c.id != subject.id]
        folded = _folded(folds, CertificateProjection(), subject.id, others, target)
        detail = certificate_detail_of(ADMIN, folded.rows, subject.id)
        assert detail is not None
        return to_jsonable_python(detail)

    _check(world, as_of, last=True)


def test_as_of_a_time_uses_the_version_in_force_then():
    world = World(OrganizationProjection())
    registry = Registry(world)
    org = registry.organization
    times = []
    for n in range(6):
        org.rename(META, f"Acme {n}")
        world.save(org)
        times.append(org.modified_on)
    snapshotting, replaying = world.folds()
    for folds in (snapshotting, snapshotting, replaying):
        for n, moment in enumerate(times):
            folded = _folded(
                folds, OrganizationProjection(), org.id, [], AtTime(moment)
            )
            assert folded.moment.version == n + 3  # registered, site added, renames
            record = record_of(ADMIN, folded.rows, org.id)
            assert record is not None
            assert record.name == f"Acme {n}"
        before = AtTime(registry.organization.created_on - timedelta(microseconds=1))
        assert folds.fold(OrganizationProjection(), org.id, [], before) is None
