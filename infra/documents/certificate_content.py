"""What a certificate shows: the layout's sections in order, then the QR code.

The QR code is not a section: every certificate carries it, so that anyone
holding a copy can scan it and reach the public verification answer.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time

from domain.document_template import DocumentKind
from infra.documents.blocks import (
    Block,
    Content,
    Heading,
    QrCode,
    Table,
    Text,
    TextStyle,
)
from infra.documents.labels import day
from infra.documents.sections import checked_sections
from infra.documents.views import CertificateView

QR_SIZE_MM = 40.0
"""Printed size of the QR code, quiet zone included: about 240 px at 150 dpi."""


def certificate_content(view: CertificateView) -> Content:
    """The certificate's content.

    Raises:
        RenderError: the layout names a section that is not a certificate
            section.
    """
    sections = checked_sections(view.layout, DocumentKind.CERTIFICATE)
    blocks: list[Block] = [
        Text(view.layout.branding, TextStyle.CENTERED),
        Text(view.layout.title, TextStyle.CENTERED_TITLE),
    ]
    for name in sections:
        blocks.extend(_SECTIONS[name](view))
    blocks.append(
        QrCode(
            view.verification_url,
            QR_SIZE_MM,
            f"Verify this certificate: {view.verification_url}",
        )
    )
    standard = f"{view.standard_name}:{view.standard_edition}"
    return Content(
        title=f"{view.layout.title} {view.number}",
        subject=f"{standard} certificate of {view.holder_name}",
        author=view.tenant_name,
        identifier=f"certificate {view.number} revision {view.revision}",
        keywords=("certificate", standard, f"template v{view.layout.number}"),
        running_head=f"Certificate {view.number} · revision {view.revision}",
        timestamp=datetime.combine(view.issue_date, time(), tzinfo=UTC),
        draft=False,
        blocks=tuple(blocks),
    )


def _holder(view: CertificateView) -> list[Block]:
    return [
        Text("This is to certify that", TextStyle.CENTERED),
        Text(view.holder_name, TextStyle.PROMINENT),
        Text(view.holder_address, TextStyle.CENTERED),
    ]


def _scope(view: CertificateView) -> list[Block]:
    standard = f"{view.standard_name}:{view.standard_edition}"
    scopes = tuple(dict.fromkeys(s.scope for s in view.sites))
    return [
        Text(
            f"operates a management system that conforms to {standard} "
            "for the following scope:",
            TextStyle.CENTERED,
        ),
        *(Text(scope, TextStyle.CENTERED) for scope in scopes),
    ]


def _sites(view: CertificateView) -> list[Block]:
    if not view.sites:
        return [Heading("Certified sites", 2), Text("No sites recorded.")]
    rows = tuple((s.name, f"{s.address}, {s.country}", s.scope) for s in view.sites)
    header = ("Site", "Address", "Certified scope")
    return [Heading("Certified sites", 2), Table(header, rows, (0.25, 0.35, 0.4))]


def _validity(view: CertificateView) -> list[Block]:
    fields = (
        ("Certificate number", view.number),
        ("Revision", str(view.revision)),
        ("Issue date", day(view.issue_date)),
        ("Effective date", day(view.effective_date)),
        ("Expiry date", day(view.expiry_date)),
    )
    return [Heading("Validity", 2), Table(None, fields, (0.35, 0.65))]


def _signatures(view: CertificateView) -> list[Block]:
    return [Heading("Signatures", 2), Text(view.layout.signature_block)]


_SECTIONS: dict[str, Callable[[CertificateView], list[Block]]] = {
    "holder": _holder,
    "scope": _scope,
    "sites": _sites,
    "validity": _validity,
    "signatures": _signatures,
}
