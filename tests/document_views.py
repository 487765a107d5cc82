"""Report and certificate views for the document rendering tests.

Names and places use letters outside ASCII (Göteborg, Łódź, İstanbul,
Ærøskøbing, Zürich) so that a missing glyph or a lost character shows.
Run as a script, it prints the SHA-256 of each sample rendered in each
format, so a test can compare renders made in other processes.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from datetime import date
from uuid import UUID

from domain.document_template import SECTIONS, DocumentKind, DocumentLayout
from infra.documents import (
    CertificateView,
    CertifiedSiteView,
    ClauseAssessmentView,
    DecisionView,
    FindingView,
    ReportView,
    SiteView,
    TeamMemberView,
    render_certificate,
    render_report,
)

CITIES = ("Göteborg", "Łódź", "İstanbul", "Ærøskøbing", "Zürich")
VERIFICATION_URL = (
    "https://verify.assurehub.example/certificates/NCAB-2026-000123/"
    "7K3M9QXW2RTZ5HJP8NVB"
)
RESULTS = ("conforming", "nonconforming", "not_applicable", "not_assessed")
GRADES = ("major_nonconformity", "minor_nonconformity", "observation")


def report_layout(sections: tuple[str, ...] | None = None) -> DocumentLayout:
    return DocumentLayout(
        number=3,
        title="Audit report",
        branding="Nordic Certification AB\nAccredited by SWEDAC",
        sections=SECTIONS[DocumentKind.AUDIT_REPORT] if sections is None else sections,
        signature_block="For Nordic Certification AB\nÅsa Öberg, certification manager",
    )


def finding(number: int) -> FindingView:
    city = CITIES[number % len(CITIES)]
    return FindingView(
        clause_id=f"7.1.{number}",
        grade=GRADES[number % len(GRADES)],
        status="response_accepted",
        description=f"Calibration records of gauges at {city} were missing ({number}).",
        objective_evidence="Records of gauges G-1 to G-12 were not available.",
        raised_on=date(2026, 12, 1),
        root_cause="Nobody owned the calibration schedule.",
        correction="The gauges were recalibrated.",
        corrective_action="The QA manager owns the schedule and reviews it monthly.",
        action_due=date(2027, 1, 31),
        verified_by="Zeynep Yılmaz" if number % 2 else None,  # noqa: RUF001
        verified_on=date(2027, 2, 2) if number % 2 else None,
    )


def assessment(number: int) -> ClauseAssessmentView:
    city = CITIES[number % len(CITIES)]
    return ClauseAssessmentView(
        clause_id=f"{4 + number // 100}.{number % 100}",
        title=f"Requirement {number} on control of documented information",
        result=RESULTS[number % len(RESULTS)],
        notes=None if number % 4 == 0 else f"Sampled five records at {city}. " * 3,
    )


def report_view(
    clauses: int = 80, findings: int = 6, *, draft: bool = True
) -> ReportView:
    decision = DecisionView(
        "grant", "All majors verified.", "Åsa Öberg", date(2026, 12, 4)
    )
    return ReportView(
        tenant_name="Nordic Certification AB",
        audit_id=UUID("0b6f2a8e-61c1-4d7e-9a51-1f3f2c9d4e77"),
        audit_version=57,
        as_of=date(2026, 12, 4),
        draft=draft,
        layout=report_layout(),
        organization_name="Nordic Valves Łódź Sp. z o.o.",
        organization_address="ul. Piotrkowska 1\n90-001 Łódź",
        sites=tuple(
            SiteView(f"Plant {c}", f"Main street 1, {c}", "SE") for c in CITIES
        ),
        standard_name="ISO 9001",
        standard_edition="2015",
        standard_version=4,
        audit_type="stage_2",
        audit_status="report_drafted" if draft else "decided",
        planned_start=date(2026, 11, 30),
        planned_end=date(2026, 12, 2),
        started_on=date(2026, 11, 30),
        team=(
            TeamMemberView("Zeynep Yılmaz", "lead_auditor"),  # noqa: RUF001
            TeamMemberView("Søren Ærø", "auditor"),
            TeamMemberView("Jürgen Brunner", "technical_expert"),
        ),
        scope_statement="Design and manufacture of industrial valves at "
        + ", ".join(CITIES),
        assessments=tuple(assessment(n) for n in range(clauses)),
        findings=tuple(finding(n) for n in range(findings)),
        conclusion="The management system is effective, apart from the findings.",
        decision=None if draft else decision,
    )


def certificate_view() -> CertificateView:
    return CertificateView(
        tenant_name="Nordic Certification AB",
        certificate_id=UUID("5d0c7b0e-2f4a-4e55-8f0e-6a1c9b3d2e10"),
        layout=DocumentLayout(
            number=2,
            title="Certificate of registration",
            branding="Nordic Certification AB",
            sections=SECTIONS[DocumentKind.CERTIFICATE],
            signature_block="For Nordic Certification AB\nÅsa Öberg",
        ),
        holder_name="Nordic Valves Łódź Sp. z o.o.",
        holder_address="ul. Piotrkowska 1, 90-001 Łódź, PL",
        sites=tuple(
            CertifiedSiteView(f"Plant {c}", f"Main street 1, {c}", "SE", f"Valves, {c}")
            for c in CITIES
        ),
        standard_name="ISO 9001",
        standard_edition="2015",
        number="NCAB-2026-000123",
        revision=2,
        issue_date=date(2026, 12, 4),
        effective_date=date(2026, 12, 5),
        expiry_date=date(2029, 12, 4),
        verification_url=VERIFICATION_URL,
    )


def digests() -> dict[str, str]:
    """SHA-256 of every sample in every format, by ``kind.format``."""
    report, certificate = report_view(), certificate_view()
    return {
        **{f"report.{f}": render_report(report, f).sha256 for f in ("pdf", "docx")},
        **{
            f"certificate.{f}": render_certificate(certificate, f).sha256
            for f in ("pdf", "docx")
        },
    }


def with_finding_changed(view: ReportView) -> ReportView:
    """``view`` with one word of its last finding's description changed."""
    last = view.findings[-1]
    changed = replace(last, description=last.description.replace("missing", "lost"))
    return replace(view, findings=(*view.findings[:-1], changed))


if __name__ == "__main__":
    for name, digest in sorted(digests().items()):
        sys.stdout.write(f"{name} {digest}\n")
