"""What a requested document is built from, loaded at the recorded versions.

A ``document.requested`` event names its subject (the audit or certificate),
its template's layout version and the version of every other aggregate the
file shows (:class:`~domain.document.Document`). These loaders read each one
exactly at that version, within the document's tenant, so a build made today
or in ten years sees the same state. Anything named that is not there is a
:class:`~infra.document_builds.errors.DocumentBuildError`
(``document.source_missing``): a lasting failure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain.account import Account
from domain.audit import Audit
from domain.certificate import Certificate
from domain.document import Document
from domain.document_template import DocumentKind, DocumentLayout, DocumentTemplate
from domain.errors import NotFoundError
from domain.organization import Organization, Site
from domain.standard_template import StandardTemplate
from domain.tenant import Tenant, tenant_aggregate_id
from infra.document_builds.errors import DocumentBuildError

A = TypeVar("A", bound=Aggregate)

MISSING = "document.source_missing"
WRONG_KIND = "document.template_wrong_kind"


class VersionedStore(Protocol):
    """Reads aggregates, now or at one version (the event store)."""

    def load(self, kind: type[A], aggregate_id: UUID) -> A | None:
        """The aggregate at its newest version, or ``None``."""
        ...

    def load_at(self, kind: type[A], aggregate_id: UUID, version: int) -> A | None:
        """The aggregate exactly at ``version``, or ``None``."""
        ...


@dataclass(frozen=True)
class Common:
    """What every document shows besides its subject.

    Attributes:
        layout: The template's layout version the request names.
        tenant_name: The issuer's name (the tenant's slug if it has no record).
        organization: The audited or certified organization at its version.
    """

    layout: DocumentLayout
    tenant_name: str
    organization: Organization


@dataclass(frozen=True)
class ReportSources:
    """An audit report's aggregates, each at its recorded version.

    Attributes:
        names: Name to print for each actor id the request names an account
            of; anyone else is printed by actor id.
    """

    common: Common
    audit: Audit
    standard: StandardTemplate
    names: Mapping[str, str]
    draft: bool


@dataclass(frozen=True)
class CertificateSources:
    """A certificate's aggregates, each at its recorded version."""

    common: Common
    certificate: Certificate


def load_report_sources(store: VersionedStore, document: Document) -> ReportSources:
    """The aggregates ``document`` (an audit report) is built from.

    Raises:
        DocumentBuildError: ``document.source_missing`` or
            ``document.template_wrong_kind``.
    """
    if document.audit_version is None or document.standard_template_id is None:
        raise DocumentBuildError(MISSING, f"document {document.id} names no audit")
    loader = _Loader(store, document.tenant_id)
    audit = loader.at(Audit, document.audit_id, document.audit_version, "audit")
    standard = loader.at(
        StandardTemplate,
        document.standard_template_id,
        document.standard_template_version,
        "standard template",
    )
    names = {
        actor: loader.at(Account, UUID(actor), version, "account").name
        for actor, version in sorted(document.person_versions.items())
    }
    return ReportSources(
        _common(loader, document), audit, standard, names, document.draft
    )


def load_certificate_sources(
    store: VersionedStore, document: Document
) -> CertificateSources:
    """The aggregates ``document`` (a certificate's) is built from.

    Raises:
        DocumentBuildError: ``document.source_missing`` or
            ``document.template_wrong_kind``.
    """
    if document.certificate_id is None:
        raise DocumentBuildError(
            MISSING, f"document {document.id} names no certificate"
        )
    loader = _Loader(store, document.tenant_id)
    certificate = loader.at(
        Certificate,
        document.certificate_id,
        document.certificate_version,
        "certificate",
    )
    return CertificateSources(_common(loader, document), certificate)


def site_of(organization: Organization, site_id: UUID) -> Site:
    """The site ``site_id`` of ``organization``; one removed from it before
    the recorded version (audits and certificates keep naming it) prints as
    a removed site in the organization's country."""
    try:
        return organization.site(site_id)
    except NotFoundError:
        return Site(site_id, f"Removed site {site_id}", "—", organization.country)


def _common(loader: _Loader, document: Document) -> Common:
    organization = loader.at(
        Organization,
        document.organization_id,
        document.organization_version,
        "organization",
    )
    return Common(
        _layout(loader, document),
        _tenant_name(loader, document.tenant_id, document.tenant_version),
        organization,
    )


def _layout(loader: _Loader, document: Document) -> DocumentLayout:
    """The layout version the request names; layouts never change, so the
    template's newest state holds it as it was."""
    template = loader.now(DocumentTemplate, document.template_id, "document template")
    if template.kind is not DocumentKind(document.kind):
        raise DocumentBuildError(
            WRONG_KIND,
            f"document template {template.id} lays out {template.kind.value} "
            f"documents, not {document.kind}",
        )
    try:
        return template.layout_version(document.template_version)
    except NotFoundError as e:
        raise DocumentBuildError(MISSING, str(e)) from e


def _tenant_name(loader: _Loader, tenant_id: str, version: int | None) -> str:
    if version is None:
        return tenant_id
    tenant_key = tenant_aggregate_id(tenant_id)
    return loader.at(Tenant, tenant_key, version, "tenant").name


class _Loader:
    """Loads aggregates of one tenant; a missing one is a lasting failure."""

    def __init__(self, store: VersionedStore, tenant_id: str) -> None:
        self._store = store
        self._tenant = tenant_id

    def at(
        self, kind: type[A], aggregate_id: UUID, version: int | None, what: str
    ) -> A:
        found = None
        if version is not None:
            found = self._store.load_at(kind, aggregate_id, version)
        return self._mine(found, f"{what} {aggregate_id} at version {version}")

    def now(self, kind: type[A], aggregate_id: UUID, what: str) -> A:
        found = self._store.load(kind, aggregate_id)
        return self._mine(found, f"{what} {aggregate_id}")

    def _mine(self, found: A | None, label: str) -> A:
        if found is None or getattr(found, "tenant_id", None) != self._tenant:
            raise DocumentBuildError(
                MISSING, f"{label} is not in the event store of tenant {self._tenant}"
            )
        return found
