"""What an audit report shows: the cover, then the layout's sections in order.

A section with nothing recorded prints a "none recorded" line; a section
name that is not a report section is a :class:`RenderError` (raised by
:func:`~infra.documents.sections.checked_sections`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time

from domain.document_template import DocumentKind
from infra.documents.blocks import (
    Block,
    Content,
    Heading,
    PageBreak,
    Table,
    Text,
    TextStyle,
)
from infra.documents.labels import CLAUSE_RESULTS, GRADES, counts, day, label
from infra.documents.sections import checked_sections
from infra.documents.views import FindingView, ReportView

_FIELD_WIDTHS = (0.3, 0.7)


def report_content(view: ReportView) -> Content:
    """The report's content.

    Raises:
        RenderError: the layout names a section that is not a report section.
    """
    sections = checked_sections(view.layout, DocumentKind.AUDIT_REPORT)
    blocks: list[Block] = [*_cover(view), PageBreak()]
    for name in sections:
        blocks.extend(_SECTIONS[name](view))
    standard = f"{view.standard_name}:{view.standard_edition}"
    audit_type = label(view.audit_type)
    subject = f"{audit_type} audit of {view.organization_name}, {standard}"
    return Content(
        title=view.layout.title,
        subject=subject,
        author=view.tenant_name,
        identifier=f"audit {view.audit_id} version {view.audit_version}",
        keywords=("audit report", standard, f"template v{view.layout.number}"),
        running_head=f"{view.organization_name} · {standard} · {audit_type}",
        timestamp=datetime.combine(view.as_of, time(), tzinfo=UTC),
        draft=view.draft,
        blocks=tuple(blocks),
    )


def _cover(view: ReportView) -> list[Block]:
    sites = "\n".join(f"{s.name}, {s.address}, {s.country}" for s in view.sites)
    team = "\n".join(f"{m.name} ({label(m.role)})" for m in view.team)
    fields = (
        ("Organization", view.organization_name),
        ("Address", view.organization_address or "—"),
        ("Sites", sites or "None recorded."),
        ("Standard", f"{view.standard_name}:{view.standard_edition}"),
        ("Standard version", f"Template version {view.standard_version}"),
        ("Audit type", label(view.audit_type)),
        ("Planned dates", f"{day(view.planned_start)} to {day(view.planned_end)}"),
        ("Started on", day(view.started_on, "Not started")),
        ("Audit team", team or "None recorded."),
        ("Report as of", day(view.as_of)),
        ("Audit", f"{view.audit_id}, version {view.audit_version}"),
    )
    return [
        Text(view.layout.branding, TextStyle.SMALL),
        Text(view.layout.title, TextStyle.TITLE),
        Text(
            f"{view.organization_name}: {label(view.audit_type)} audit",
            TextStyle.SUBTITLE,
        ),
        Table(None, fields, _FIELD_WIDTHS),
    ]


def _summary(view: ReportView) -> list[Block]:
    decision = view.decision
    fields = (
        ("Audit status", label(view.audit_status)),
        (
            "Clauses assessed",
            counts([a.result for a in view.assessments], CLAUSE_RESULTS),
        ),
        ("Findings", counts([f.grade for f in view.findings], GRADES)),
        ("Decision", "Not decided" if decision is None else label(decision.outcome)),
    )
    return [Heading("Summary"), Table(None, fields, _FIELD_WIDTHS)]


def _scope(view: ReportView) -> list[Block]:
    blocks: list[Block] = [Heading("Scope"), Text(view.scope_statement)]
    if not view.sites:
        return [*blocks, Text("No sites recorded.")]
    rows = tuple((s.name, s.address, s.country) for s in view.sites)
    return [*blocks, Table(("Site", "Address", "Country"), rows, (0.3, 0.55, 0.15))]


def _team(view: ReportView) -> list[Block]:
    if not view.team:
        return [Heading("Audit team"), Text("No audit team recorded.")]
    rows = tuple((m.name, label(m.role)) for m in view.team)
    return [Heading("Audit team"), Table(("Name", "Role"), rows, (0.6, 0.4))]


def _assessment(view: ReportView) -> list[Block]:
    heading = Heading("Clause-by-clause assessment")
    if not view.assessments:
        return [heading, Text("No clause assessments recorded.")]
    rows = tuple(
        (a.clause_id, a.title, label(a.result), a.notes or "") for a in view.assessments
    )
    header = ("Clause", "Title", "Result", "Notes")
    return [heading, Table(header, rows, (0.11, 0.3, 0.16, 0.43))]


def _findings(view: ReportView) -> list[Block]:
    if not view.findings:
        return [Heading("Findings"), Text("No findings recorded.")]
    overview = tuple(
        (str(n), f.clause_id, label(f.grade), label(f.status))
        for n, f in enumerate(view.findings, 1)
    )
    blocks: list[Block] = [
        Heading("Findings"),
        Table(("No.", "Clause", "Grade", "Status"), overview, (0.1, 0.2, 0.4, 0.3)),
    ]
    for number, finding in enumerate(view.findings, 1):
        blocks.append(_finding(number, finding))
    return blocks


def _finding(number: int, f: FindingView) -> Table:
    header = (
        f"Finding {number}",
        f"{label(f.grade)}, clause {f.clause_id}: {label(f.status)}",
    )
    response = "\n".join(
        f"{name}: {text}"
        for name, text in (("Root cause", f.root_cause), ("Correction", f.correction))
        if text
    )
    action = f.corrective_action and f"{f.corrective_action}\nDue {day(f.action_due)}"
    if f.implemented_on is not None:
        action = f"{action or '—'}\nImplemented on {day(f.implemented_on)}"
    verification = (
        f.verified_by
        and f"Verified effective by {f.verified_by} on {day(f.verified_on)}"
    )
    rows: tuple[tuple[str, str], ...] = (
        ("Raised on", day(f.raised_on)),
        ("Description", f.description),
        ("Objective evidence", f.objective_evidence),
        ("Client response", response or "None recorded."),
        ("Corrective action", action or "None recorded."),
        ("Verification", verification or "None recorded."),
    )
    if f.dismissal_reason:
        rows = (*rows, ("Dismissed because", f.dismissal_reason))
    return Table(header, rows, _FIELD_WIDTHS)


def _conclusion(view: ReportView) -> list[Block]:
    blocks: list[Block] = [
        Heading("Conclusion and decision"),
        Text(view.conclusion or "No conclusion recorded."),
    ]
    decision = view.decision
    if decision is None:
        return [*blocks, Text("No certification decision recorded.")]
    fields = (
        ("Decision", label(decision.outcome)),
        ("Reasons", decision.reasons),
        ("Decided by", decision.decided_by),
        ("Decided on", day(decision.decided_on)),
    )
    return [*blocks, Table(None, fields, _FIELD_WIDTHS)]


def _signatures(view: ReportView) -> list[Block]:
    return [Heading("Signatures"), Text(view.layout.signature_block)]


_SECTIONS: dict[str, Callable[[ReportView], list[Block]]] = {
    "summary": _summary,
    "scope": _scope,
    "team": _team,
    "assessment": _assessment,
    "findings": _findings,
    "conclusion": _conclusion,
    "signatures": _signatures,
}
