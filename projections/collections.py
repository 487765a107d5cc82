"""The collections of the query API: what each list can be filtered and
sorted by, and which columns narrow it to the caller's scopes.

Each :class:`~projections.listing.Listing` reads one table of a projection.
Filters are the ones a compliance user needs: status and grade, organization,
auditor (team member), standard, date ranges, name prefixes, and free text
on names and numbers; sorts are allowlisted and always end with ``id``.
"""

from __future__ import annotations

from domain.audit_values import AuditStatus, AuditType, FindingStatus, Grade
from domain.certificate_values import CertificateStatus
from domain.document_template import DocumentKind
from domain.document_values import DocumentStatus
from domain.principal import Role
from projections.accounts import ACCOUNTS as ACCOUNTS_TABLE
from projections.accounts import STATUSES as ACCOUNT_STATUSES
from projections.accounts import AccountsProjection
from projections.audit_tables import AUDITS as AUDITS_TABLE
from projections.audit_tables import EVIDENCE as EVIDENCE_TABLE
from projections.audit_tables import FINDINGS as FINDINGS_TABLE
from projections.audits import AuditProjection
from projections.certificates import CERTIFICATES_TABLE, CertificateProjection
from projections.documents import DOCUMENTS_TABLE, DocumentProjection
from projections.listing import Filter, FilterKind, Listing, Sort
from projections.organizations import ORGANIZATIONS as ORGANIZATIONS_TABLE
from projections.organizations import OrganizationProjection
from projections.security_events import (
    KINDS as SECURITY_EVENT_KINDS,
)
from projections.security_events import (
    SECURITY_EVENTS as SECURITY_EVENTS_TABLE,
)
from projections.security_events import SecurityEventsProjection
from projections.templates import DOCUMENTS as DOCUMENT_LAYOUTS
from projections.templates import (
    STANDARDS,
    TemplateProjection,
)
from projections.templates import (
    TABLES as TEMPLATE_TABLES,
)


def _values(enum: type[object]) -> tuple[str, ...]:
    return tuple(str(member.value) for member in enum)  # type: ignore[attr-defined]


ORGANIZATIONS = Listing(
    name="organizations",
    projection=OrganizationProjection.name,
    table=ORGANIZATIONS_TABLE,
    filters=(
        Filter.prefix(
            "name_prefix",
            "name_key",
            description="Start of the name, in any case, taken literally",
        ),
        Filter.exact(
            "country", upper=True, description="ISO 3166-1 alpha-2 code, any case"
        ),
        Filter.flag("archived"),
        Filter.exact("registration_number"),
        Filter.text(
            "q",
            "name",
            "registration_number",
            description="Free text in the name or registration number",
        ),
        Filter.date_range("registered_at"),
    ),
    sorts=(Sort("name", "name_key"), "registered_at", "updated_at"),
    default_sort="name",
    columns=tuple(
        c
        for c in ORGANIZATIONS_TABLE.column_names
        if c not in ("tenant_id", "name_key")
    ),
    organization_column="id",
)
"""``GET /organizations``: the client organizations (sites and certificates
are on the detail)."""

AUDITS = Listing(
    name="audits",
    projection=AuditProjection.name,
    table=AUDITS_TABLE,
    filters=(
        Filter.exact("status", allowed=_values(AuditStatus)),
        Filter.exact("audit_type", allowed=_values(AuditType)),
        Filter.exact("organization_id"),
        Filter.exact("lead_auditor"),
        Filter.member("auditor", "team", description="Someone on the audit team"),
        Filter.exact("standard_name"),
        Filter.exact("decision_outcome", allowed=("grant", "refuse")),
        Filter.date_range("planned_start"),
        Filter.date_range("started_on"),
        Filter.date_range("decided_on"),
        Filter.text(
            "q",
            "scope_statement",
            "standard_name",
            description="Free text in the scope statement or standard name",
        ),
    ),
    sorts=("planned_start", "planned_end", "started_on", "status", "updated_at"),
    default_sort="-planned_start",
    organization_column="organization_id",
    audit_column="id",
    team_column="team",
)
"""``GET /audits``: the audit list."""

FINDINGS = Listing(
    name="findings",
    projection=AuditProjection.name,
    table=FINDINGS_TABLE,
    filters=(
        Filter.exact("grade", allowed=_values(Grade)),
        Filter.exact("status", allowed=_values(FindingStatus)),
        Filter.exact("audit_id"),
        Filter.exact("organization_id"),
        Filter.exact("clause_id"),
        Filter.flag("open", description="Neither closed nor dismissed"),
        Filter.flag("action_due", description="A corrective action is still to do"),
        Filter.date_range("due_date"),
        Filter.date_range("raised_on"),
        Filter.text("q", "description", "clause_id", description="Free text"),
    ),
    sorts=("raised_on", "due_date", "grade", "status", "clause_id", "updated_at"),
    default_sort="-raised_on",
    organization_column="organization_id",
    audit_column="audit_id",
)
"""``GET /findings``: the findings register across audits (``overdue`` is
``action_due=true`` with ``due_date_to`` = yesterday)."""

EVIDENCE = Listing(
    name="evidence",
    projection=AuditProjection.name,
    table=EVIDENCE_TABLE,
    filters=(Filter.exact("audit_id"), Filter.exact("finding_id")),
    sorts=("uploaded_at",),
    default_sort="uploaded_at",
    columns=tuple(c for c in EVIDENCE_TABLE.column_names if c != "tenant_id"),
    organization_column="organization_id",
    audit_column="audit_id",
)
"""An audit's evidence files (read through the audit's detail)."""

CERTIFICATES = Listing(
    name="certificates",
    projection=CertificateProjection.name,
    table=CERTIFICATES_TABLE,
    filters=(
        Filter.exact("status", allowed=_values(CertificateStatus)),
        Filter.exact("organization_id"),
        Filter.exact("audit_id"),
        Filter.exact("standard_name"),
        Filter.exact("number"),
        Filter.date_range("issue_date"),
        Filter.date_range("effective_date"),
        Filter.date_range("expiry_date"),
        Filter.text("q", "number", "scope_text", description="Number or scope text"),
    ),
    sorts=(
        Sort("number", "number_sort"),
        "issue_date",
        "effective_date",
        "expiry_date",
        "updated_at",
    ),
    default_sort="number",
    columns=tuple(
        c
        for c in CERTIFICATES_TABLE.column_names
        if c not in ("tenant_id", "number_sort", "site_ids")
    ),
    organization_column="organization_id",
    audit_column="audit_id",
)
"""``GET /certificates``: the certificate registry, one row per revision."""

DOCUMENTS = Listing(
    name="documents",
    projection=DocumentProjection.name,
    table=DOCUMENTS_TABLE,
    filters=(
        Filter.exact("audit_id"),
        Filter.exact("certificate_id"),
        Filter.exact("organization_id"),
        Filter.exact("kind", allowed=_values(DocumentKind)),
        Filter.exact("status", allowed=_values(DocumentStatus)),
        Filter.flag("draft", description="Requested before the audit was decided"),
        Filter.date_range("requested_at"),
    ),
    sorts=("requested_at", "rendered_at", "certificate_version", "status"),
    default_sort="-requested_at",
    columns=tuple(
        c
        for c in DOCUMENTS_TABLE.column_names
        if c not in ("tenant_id", "client_visible", "position")
    ),
    organization_column="organization_id",
    audit_column="audit_id",
    client_column="client_visible",
)
"""``GET /documents``: audit reports and certificate documents, newest first;
a client sees its organizations' certificate documents, and their audits'
reports once the audit is closed."""

_TEMPLATES = {t.name: t for t in TEMPLATE_TABLES}

STANDARD_TEMPLATES = Listing(
    name="standard-templates",
    projection=TemplateProjection.name,
    table=_TEMPLATES[STANDARDS],
    filters=(
        Filter.exact("status", allowed=("draft", "published", "retired")),
        Filter.exact("standard_name"),
        Filter.exact("edition"),
        Filter.text("q", "title", "standard_name", description="Title or standard"),
    ),
    sorts=(Sort("title", "title_sort"), "updated_at"),
    default_sort="title",
    columns=tuple(
        c
        for c in _TEMPLATES[STANDARDS].column_names
        if c not in ("tenant_id", "title_sort", "draft_clauses")
    ),
)
"""``GET /standard-templates``."""

DOCUMENT_TEMPLATES = Listing(
    name="document-templates",
    projection=TemplateProjection.name,
    table=_TEMPLATES[DOCUMENT_LAYOUTS],
    filters=(
        Filter.exact("status", allowed=("active", "retired")),
        Filter.exact("kind", allowed=("audit_report", "certificate")),
        Filter.text("q", "title", description="Title"),
    ),
    sorts=(Sort("title", "title_sort"), "updated_at"),
    default_sort="title",
    columns=tuple(
        c
        for c in _TEMPLATES[DOCUMENT_LAYOUTS].column_names
        if c not in ("tenant_id", "title_sort")
    ),
)
"""``GET /document-templates``."""

SECURITY_EVENTS = Listing(
    name="security-events",
    projection=SecurityEventsProjection.name,
    table=SECURITY_EVENTS_TABLE,
    filters=(
        Filter.exact(
            "kind",
            allowed=SECURITY_EVENT_KINDS,
            description="What happened, e.g. account.login_failed",
        ),
        Filter.exact(
            "subject_id", description="The account, API token or tenant it concerns"
        ),
        Filter.exact("actor_id", description="Who did it"),
        Filter.date_range("occurred_at", description="When it happened"),
    ),
    sorts=("occurred_at", "position"),
    default_sort="-occurred_at",
)
"""``GET /security-events``: the tenant's security trail (logins, lockouts,
sessions, MFA, roles, account lifecycle, API tokens, MFA policy), newest
first; ``id`` is the event's id. Nothing in it is scoped below the tenant,
so a caller limited to organizations or audits sees none of it."""

USERS = Listing(
    name="users",
    projection=AccountsProjection.name,
    table=ACCOUNTS_TABLE,
    filters=(
        Filter.exact("status", allowed=ACCOUNT_STATUSES),
        Filter(
            "role",
            FilterKind.MEMBER,
            ("roles",),
            allowed=_values(Role),
            description="Holds one of these roles",
        ),
        Filter.flag("mfa_enrolled", description="Enrolled a second factor"),
        Filter.text("q", "email", "name", description="Free text in email or name"),
    ),
    sorts=("email", Sort("name", "name_key"), "invited_at", "last_login_at"),
    default_sort="email",
    columns=tuple(
        c for c in ACCOUNTS_TABLE.column_names if c not in ("tenant_id", "name_key")
    ),
)
"""``GET /users``: the tenant's accounts. Nothing in it is scoped below the
tenant, so a caller limited to organizations or audits sees none of it."""
