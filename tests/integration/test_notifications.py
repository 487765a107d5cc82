"""The notification processor on real Postgres and Kafka: each event's people
hear of it once, in their language, and no client hears of another
organization's affairs.

The tenant's records are written with the domain's own commands through the
session's event store; the relay, the read models and the ``notifications``
projection bring them to the processor, which each test drives by ``tick``.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from domain.account import Account
from domain.audit import Audit
from domain.certificate import Certificate
from domain.events import EventMeta
from domain.organization import Organization
from infra.bootstrap import Container
from infra.postgres.rows import qualified
from processors.workers import notification_processor
from projections.notification_intents import (
    INTENTS,
    LOGIN_ADDRESSES,
    NotificationIntentsProjection,
    address_hash,
)

START = date(2026, 11, 30)
WAIT_SECONDS = 60


@dataclass
class Scene:
    """A tenant with staff and two client organizations' administrators, and
    an audit of organization A."""

    tenant: str = field(default_factory=lambda: f"notify-{uuid.uuid4().hex[:10]}")
    accounts: dict[str, Account] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.meta = EventMeta(self.tenant, "setup", "scene", "scene")
        self.org_a = Organization.register(self.meta, "Nordic Valves", "SE")
        self.org_b = Organization.register(self.meta, "Other Pumps", "DE")
        self.site = self.org_a.add_site(self.meta, "Plant", "Main street 1, Malmö")
        people = {
            "lead": (["auditor"], []),
            "member": (["auditor"], []),
            "reviewer": (["technical_reviewer"], []),
            "decider": (["decision_maker"], []),
            "manager": (["programme_manager"], []),
            "client_a": (["client_admin"], [self.org_a.id]),
            "client_b": (["client_admin"], [self.org_b.id]),
            "user_a": (["client_user"], [self.org_a.id]),
        }
        for label, (roles, orgs) in people.items():
            account = Account.invite(
                self.meta,
                f"{label}-{uuid.uuid4().hex[:6]}@example.test",
                label.title(),
                roles,
                orgs,
                datetime(2099, 1, 1, tzinfo=UTC),
            )
            account.activate(self.meta, datetime.now(UTC))
            self.accounts[label] = account
        self.audit = self.plan(self.org_a, "ISO 9001", "stage_2", START)

    def plan(
        self, organization: Organization, standard: str, audit_type: str, start: date
    ) -> Audit:
        """A two-day audit of ``organization`` against ``standard``."""
        return Audit.plan(
            self.meta,
            organization_id=organization.id,
            site_ids=(self.site,),
            standard_template_id=uuid.uuid4(),
            standard_version=1,
            standard_name=standard,
            standard_edition="2015",
            audit_type=audit_type,
            planned_start=start,
            planned_end=start + timedelta(days=2),
            scope_statement="Valves",
        )

    def id(self, label: str) -> str:
        return str(self.accounts[label].id)

    def as_(self, label: str) -> EventMeta:
        return EventMeta(self.tenant, self.id(label), "scene", "scene")


def settle(container: Container, position: int) -> None:
    """Wait until the read models and the intents have reached ``position``."""
    names = ("audits", "organizations", "accounts", "certificates", "notifications")
    deadline = time.monotonic() + WAIT_SECONDS
    while not all(container.progress.has_reached(n, position) for n in names):
        assert time.monotonic() < deadline, "the pipeline did not catch up"
        time.sleep(0.05)


def drain(container: Container, tenant: str) -> None:
    """Tick a processor until the tenant has no intent left."""
    processor = notification_processor(container)
    deadline = time.monotonic() + WAIT_SECONDS
    while intents(container, tenant):
        assert time.monotonic() < deadline, "intents were not handled"
        if processor.tick().claimed == 0:
            time.sleep(0.1)


def intents(container: Container, tenant: str) -> int:
    table = qualified(NotificationIntentsProjection.name, INTENTS.name)
    with container.database.connection() as conn:
        row = conn.execute(
            f"SELECT count(*) FROM {table.as_string(conn)} WHERE tenant_id = %s",
            (tenant,),
        ).fetchone()
    return int(row[0]) if row else 0


def outbox(container: Container, tenant: str) -> list[tuple]:
    with container.database.connection() as conn:
        return conn.execute(
            "SELECT kind, account_id, recipient, subject, body, html_body,"
            " unsubscribe_url FROM notification_outbox WHERE tenant_id = %s",
            (tenant,),
        ).fetchall()


def by_person(scene: Scene, rows: list[tuple]) -> dict[str, Counter[str]]:
    labels = {a.id: label for label, a in scene.accounts.items()}
    found: dict[str, Counter[str]] = {}
    for kind, account, *_ in rows:
        found.setdefault(labels[account], Counter())[kind] += 1
    return found


def test_each_event_notifies_its_people_once_and_clients_only_their_own(notifying):
    scene = Scene()
    with notifying.database.connection() as conn:
        conn.execute(
            "INSERT INTO account_languages (tenant_id, account_id, language)"
            " VALUES (%s, %s, 'de')",
            (scene.tenant, scene.accounts["client_a"].id),
        )
        conn.execute(
            "INSERT INTO notification_preferences (tenant_id, account_id, kind,"
            " enabled) VALUES (%s, %s, 'certificate_suspended', false)",
            (scene.tenant, scene.accounts["client_a"].id),
        )
    audit, meta = scene.audit, scene.meta
    audit.assign_team(meta, scene.id("lead"), (scene.id("member"),))
    audit.start(meta, START)
    major = audit.raise_finding(meta, "7.1", "major_nonconformity", "No", "Seen", START)
    audit.raise_finding(meta, "9.1", "observation", "Note", "Seen", START)
    audit.submit_response(
        scene.as_("client_a"), major, "Cause", "Fix", "Action", START + timedelta(9)
    )
    audit.reject_response(scene.as_("lead"), major, "Too shallow")
    audit.draft_report(meta, "Draft")
    audit.submit_for_review(meta, scene.id("reviewer"))
    audit.approve_review(scene.as_("reviewer"))
    certificate = Certificate.issue(
        meta,
        number=f"NV-2026-{uuid.uuid4().int % 10**6:06d}",
        organization_id=scene.org_a.id,
        site_ids=(scene.site,),
        site_scopes=("Valves",),
        standard_name="ISO 9001",
        standard_edition="2015",
        audit_id=audit.id,
        decision_date=START,
        issue_date=START,
        effective_date=START,
        expiry_date=START + timedelta(days=3 * 365),
    )
    certificate.suspend(meta, "Surveillance missed", START + timedelta(days=1))
    recorded = notifying.event_store.append(
        scene.org_a, scene.org_b, *scene.accounts.values(), audit, certificate
    )
    settle(notifying, recorded)
    drain(notifying, scene.tenant)

    rows = outbox(notifying, scene.tenant)
    assert by_person(scene, rows) == {
        "lead": Counter({"team_assigned": 1, "response_submitted": 1}),
        "member": Counter({"team_assigned": 1}),
        "reviewer": Counter({"submitted_for_review": 1}),
        "decider": Counter({"decision_needed": 1}),
        # the observation asks nothing of the client; suspension switched off
        "client_a": Counter(
            {"finding_raised": 1, "response_rejected": 1, "certificate_issued": 1}
        ),
    }
    german = next(r for r in rows if r[0] == "finding_raised")
    assert german[3].startswith("Neue Feststellung zu Abschnitt 7.1")
    assert "Hauptabweichung" in german[4]
    assert f"/audits/{audit.id}/findings/{major}" in german[4]
    assert german[6].endswith("?unsubscribe=finding_raised")
    lead = scene.accounts["lead"].id
    english = next(r for r in rows if r[0] == "team_assigned" and r[1] == lead)
    assert english[3] == "You are on the audit team: ISO 9001 at Nordic Valves"
    assert "<p>Hello Lead,</p>" in english[5]

    # Handling the same event again (a redelivery that slipped past the
    # tracking, a second processor) queues nothing new.
    table = qualified(NotificationIntentsProjection.name, INTENTS.name)
    with notifying.database.connection() as conn:
        event_id = conn.execute(
            "SELECT occurrence FROM notification_outbox WHERE tenant_id = %s"
            " AND kind = 'team_assigned' LIMIT 1",
            (scene.tenant,),
        ).fetchone()[0]
        conn.execute(
            f"INSERT INTO {table.as_string(conn)} (tenant_id, event_id, kind,"
            " subject_id, facts, position, attempts)"
            " VALUES (%s, %s, 'team_assigned', %s, %s, 1, 0)",
            (
                scene.tenant,
                event_id,
                audit.id,
                json.dumps(
                    {"lead_auditor": scene.id("lead"), "auditors": [scene.id("member")]}
                ),
            ),
        )
    drain(notifying, scene.tenant)
    assert len(outbox(notifying, scene.tenant)) == len(rows)


def test_two_processors_at_once_queue_each_mail_once(notifying):
    scene = Scene()
    team = tuple(scene.id(label) for label in ("member", "reviewer", "manager"))
    scene.audit.assign_team(scene.meta, scene.id("lead"), team)
    recorded = notifying.event_store.append(
        scene.org_a, *scene.accounts.values(), scene.audit
    )
    settle(notifying, recorded)
    first, second = notification_processor(notifying), notification_processor(notifying)
    first.batch = second.batch = 1
    deadline = time.monotonic() + WAIT_SECONDS
    while intents(notifying, scene.tenant):
        assert time.monotonic() < deadline
        first.tick()
        second.tick()
    kinds = Counter(r[1] for r in outbox(notifying, scene.tenant))
    assert sorted(kinds.values()) == [1, 1, 1, 1]


def test_a_client_user_never_receives_another_organizations_mail(notifying):
    scene = Scene()
    # A careless team assignment names client people of both organizations:
    # only those of the audited organization may hear of it.
    scene.audit.assign_team(
        scene.meta, scene.id("lead"), (), (), (scene.id("client_b"), scene.id("user_a"))
    )
    recorded = notifying.event_store.append(
        scene.org_a, scene.org_b, *scene.accounts.values(), scene.audit
    )
    settle(notifying, recorded)
    drain(notifying, scene.tenant)
    people = by_person(scene, outbox(notifying, scene.tenant))
    assert set(people) == {"lead", "user_a"}


def test_a_tenant_default_switches_a_kind_off_unless_the_person_wants_it(notifying):
    scene = Scene()
    with notifying.database.connection() as conn:
        conn.execute(
            "INSERT INTO notification_preferences (tenant_id, account_id, kind,"
            " enabled) VALUES (%s, NULL, 'team_assigned', false),"
            " (%s, %s, 'team_assigned', true)",
            (scene.tenant, scene.tenant, scene.accounts["member"].id),
        )
    scene.audit.assign_team(scene.meta, scene.id("lead"), (scene.id("member"),))
    recorded = notifying.event_store.append(*scene.accounts.values(), scene.audit)
    settle(notifying, recorded)
    drain(notifying, scene.tenant)
    assert set(by_person(scene, outbox(notifying, scene.tenant))) == {"member"}


def test_a_login_from_a_new_address_tells_the_person_once_whatever_they_chose(
    notifying,
):
    scene = Scene()
    person = scene.accounts["client_a"]
    with notifying.database.connection() as conn:
        conn.execute(
            "INSERT INTO account_languages (tenant_id, account_id, language)"
            " VALUES (%s, %s, 'de')",
            (scene.tenant, person.id),
        )
        conn.execute(
            "INSERT INTO notification_preferences (tenant_id, account_id, kind,"
            " enabled) VALUES (%s, NULL, 'new_login', false),"
            " (%s, %s, 'new_login', false)",
            (scene.tenant, scene.tenant, person.id),
        )
    me = scene.as_("client_a")
    for address in ("203.0.113.5", "203.0.113.5", "198.51.100.7"):
        person.record_login_succeeded(me, "password", address, uuid.uuid4())
    recorded = notifying.event_store.append(*scene.accounts.values())
    settle(notifying, recorded)
    drain(notifying, scene.tenant)

    # The first login and the same address again sent nothing; the new
    # address one e-mail, in German, with its time and address.
    rows = outbox(notifying, scene.tenant)
    assert [(r[0], r[1]) for r in rows] == [("new_login", person.id)]
    _, _, recipient, subject, body, html, unsubscribe = rows[0]
    assert recipient == person.email
    assert subject == "Neue Anmeldung bei Ihrem AssureHub-Konto von 198.51.100.7"
    assert "198.51.100.7" in html
    assert "203.0.113.5" not in body
    told = r"Am \d{4}-\d\d-\d\d \d\d:\d\d UTC hat sich jemand von 198\.51\.100\.7 "
    assert re.search(told, body)
    assert unsubscribe is None

    # Handling the event again queues nothing new.
    table = qualified(NotificationIntentsProjection.name, INTENTS.name)
    with notifying.database.connection() as conn:
        event_id = conn.execute(
            "SELECT occurrence FROM notification_outbox WHERE tenant_id = %s",
            (scene.tenant,),
        ).fetchone()[0]
        conn.execute(
            f"INSERT INTO {table.as_string(conn)} (tenant_id, event_id, kind,"
            " subject_id, facts, position, attempts)"
            " VALUES (%s, %s, 'new_login', %s, %s, 1, 0)",
            (
                scene.tenant,
                event_id,
                person.id,
                json.dumps(
                    {"address": "198.51.100.7", "at": datetime.now(UTC).isoformat()}
                ),
            ),
        )
    drain(notifying, scene.tenant)
    assert len(outbox(notifying, scene.tenant)) == 1

    # A login older than a day (a rebuild replaying the past) sends nothing.
    long_ago = datetime.now(UTC) - timedelta(days=2)
    with notifying.database.connection() as conn:
        conn.execute(
            f"INSERT INTO {table.as_string(conn)} (tenant_id, event_id, kind,"
            " subject_id, facts, position, attempts)"
            " VALUES (%s, %s, 'new_login', %s, %s, 1, 0)",
            (
                scene.tenant,
                str(uuid.uuid4()),
                person.id,
                json.dumps({"address": "192.0.2.1", "at": long_ago.isoformat()}),
            ),
        )
    drain(notifying, scene.tenant)
    assert len(outbox(notifying, scene.tenant)) == 1

    # What the projection remembers of the addresses is their digests.
    known = qualified(NotificationIntentsProjection.name, LOGIN_ADDRESSES.name)
    with notifying.database.connection() as conn:
        kept = conn.execute(
            f"SELECT address_hash FROM {known.as_string(conn)}"
            " WHERE tenant_id = %s AND account_id = %s ORDER BY 1",
            (scene.tenant, person.id),
        ).fetchall()
    expected = sorted(address_hash(a) for a in ("203.0.113.5", "198.51.100.7"))
    assert [k for (k,) in kept] == expected
