"""A certificate's view, built from its sources at the recorded versions.

Pure: the same sources and public base URL give the same
:class:`~infra.documents.CertificateView`. The holder's address printed is
that of the first site the certificate covers (an organization records
addresses per site only). The QR code encodes :func:`verification_url`.
"""

from __future__ import annotations

from urllib.parse import urlencode

from infra.document_builds.sources import CertificateSources, site_of
from infra.documents import CertificateView, CertifiedSiteView

VERIFICATION_PATH = "/public/certificate-verifications"
"""The public verification route; ``GET`` with ``number`` and ``code``."""


def verification_url(public_base_url: str, number: str, code: str) -> str:
    """The URL a certificate's QR code encodes: opening it answers the public
    verification of that certificate (``GET`` :data:`VERIFICATION_PATH`)."""
    query = urlencode({"number": number, "code": code})
    return f"{public_base_url.rstrip('/')}{VERIFICATION_PATH}?{query}"


def certificate_view(
    sources: CertificateSources, public_base_url: str
) -> CertificateView:
    """The certificate of ``sources.certificate`` at its recorded version."""
    certificate = sources.certificate
    organization = sources.common.organization
    sites = tuple(
        CertifiedSiteView(site.name, site.address, site.country, certified.scope)
        for certified in certificate.sites
        for site in (site_of(organization, certified.site_id),)
    )
    return CertificateView(
        tenant_name=sources.common.tenant_name,
        certificate_id=certificate.id,
        layout=sources.common.layout,
        holder_name=organization.name,
        holder_address=f"{sites[0].address}, {sites[0].country}",
        sites=sites,
        standard_name=certificate.standard_name,
        standard_edition=certificate.standard_edition,
        number=certificate.number,
        revision=certificate.revision,
        issue_date=certificate.issue_date,
        effective_date=certificate.effective_date,
        expiry_date=certificate.expiry_date,
        verification_url=verification_url(
            public_base_url, certificate.number, certificate.verification_code
        ),
    )
