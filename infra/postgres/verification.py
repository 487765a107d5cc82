"""Public certificate verification: the one query that crosses tenants.

A certificate number and the digest of the typed verification code select one
row of ``rm_certificates.verifications`` (index ``(number,
verification_code_sha256)``); the digest is compared in SQL, so a wrong code
and an unknown number are the same empty result. The holder's name and the
site names are joined from the organizations read model of the certificate's
own tenant. The answer carries only what the certificate itself prints: no
ids, no tenant, no audit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from psycopg import sql

from domain.certificate_values import CertificateStatus
from infra.postgres.pool import Database
from infra.postgres.rows import qualified
from projections.certificates import (
    VERIFICATIONS,
    CertificateProjection,
    status_on,
    verification_digest,
)
from projections.organizations import ORGANIZATIONS, SITES, OrganizationProjection

PROJECTIONS = (CertificateProjection.name, OrganizationProjection.name)
"""The read models a verification answer is built from (its cache watermark)."""


@dataclass(frozen=True)
class CertifiedScope:
    """One certified site: its name (``None`` if no longer known) and scope."""

    site: str | None
    scope: str


@dataclass(frozen=True)
class CertificateVerification:
    """The public facts of one certificate revision.

    Attributes:
        number: The certificate number.
        status: ``active``, ``suspended``, ``withdrawn``, ``expired`` or
            ``superseded``, as of the day asked (expired from the expiry date).
        holder: The certified organization's current name (``None`` while its
            read model lacks it).
        standard: The standard's name, e.g. ``ISO 9001``.
        edition: The standard's edition, e.g. ``2015``.
        scopes: The certified scope per site, in the certificate's order.
        effective_date: First day of validity.
        expiry_date: The day it expires.
        revision: The revision the code belongs to (1, 2, …).
        superseded: Whether a later revision of the number exists.
    """

    number: str
    status: str
    holder: str | None
    standard: str
    edition: str
    scopes: tuple[CertifiedScope, ...]
    effective_date: date
    expiry_date: date
    revision: int
    superseded: bool

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (for the cache)."""
        return {
            "number": self.number,
            "status": self.status,
            "holder": self.holder,
            "standard": self.standard,
            "edition": self.edition,
            "scopes": [[s.site, s.scope] for s in self.scopes],
            "effective_date": self.effective_date.isoformat(),
            "expiry_date": self.expiry_date.isoformat(),
            "revision": self.revision,
            "superseded": self.superseded,
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> CertificateVerification:
        """The inverse of :meth:`to_json`."""
        return cls(
            **value
            | {
                "scopes": tuple(CertifiedScope(s, t) for s, t in value["scopes"]),
                "effective_date": date.fromisoformat(value["effective_date"]),
                "expiry_date": date.fromisoformat(value["expiry_date"]),
            }
        )


_VERIFY = sql.SQL("""
SELECT v.number, v.status, o.name, v.standard_name, v.standard_edition,
       v.effective_date, v.expiry_date, v.revision,
       EXISTS (
           SELECT 1 FROM {verifications} n
           WHERE n.number = v.number AND n.tenant_id = v.tenant_id
             AND n.revision > v.revision
       ),
       (SELECT coalesce(json_agg(json_build_array(s.name, e.site->>'scope')
                                 ORDER BY e.i), '[]')
        FROM jsonb_array_elements(v.sites) WITH ORDINALITY AS e(site, i)
        LEFT JOIN {sites} s
          ON s.tenant_id = v.tenant_id AND s.organization_id = v.organization_id
         AND s.id = (e.site->>'site_id')::uuid)
FROM {verifications} v
LEFT JOIN {organizations} o ON o.tenant_id = v.tenant_id AND o.id = v.organization_id
WHERE v.number = %s AND v.verification_code_sha256 = %s
ORDER BY v.revision DESC
LIMIT 1
""").format(
    verifications=qualified(CertificateProjection.name, VERIFICATIONS),
    sites=qualified(OrganizationProjection.name, SITES.name),
    organizations=qualified(OrganizationProjection.name, ORGANIZATIONS.name),
)


_LOCATED = """
SELECT v.tenant_id, v.id, v.organization_id,
       ARRAY(SELECT n.id FROM {verifications} n
             WHERE n.tenant_id = v.tenant_id AND n.number = v.number)
FROM {verifications} v
"""
_VERIFICATIONS = qualified(CertificateProjection.name, VERIFICATIONS)
_LOCATE = sql.SQL(
    _LOCATED + "WHERE v.number = %s AND v.verification_code_sha256 = %s"
    " ORDER BY v.revision DESC LIMIT 1"
).format(verifications=_VERIFICATIONS)
_REVISIONS = sql.SQL(_LOCATED + "WHERE v.tenant_id = %s AND v.id = %s").format(
    verifications=_VERIFICATIONS
)


@dataclass(frozen=True)
class LocatedCertificate:
    """Where a certificate revision's history is: its tenant, its id, its
    holder, and every revision of its number (itself included)."""

    tenant_id: str
    id: UUID
    organization_id: UUID
    revisions: tuple[UUID, ...]


def _located(row: tuple[Any, ...]) -> LocatedCertificate:
    return LocatedCertificate(row[0], row[1], row[2], tuple(row[3]))


class PostgresVerificationView:
    """Looks a certificate up by its number and verification code."""

    def __init__(self, database: Database) -> None:
        self._db = database

    def verify(
        self, number: str, code: str, today: date
    ) -> CertificateVerification | None:
        """The revision ``number`` whose code is ``code``, as of ``today``
        (UTC); ``None`` if the number is unknown or the code does not match."""
        with self._db.connection() as conn:
            row = conn.execute(_VERIFY, (number, verification_digest(code))).fetchone()
        if row is None:
            return None
        status = status_on(row[1], row[6], today)
        return CertificateVerification(
            number=row[0],
            status=status,
            holder=row[2],
            standard=row[3],
            edition=row[4],
            scopes=tuple(CertifiedScope(site, scope) for site, scope in row[9]),
            effective_date=row[5],
            expiry_date=row[6],
            revision=row[7],
            superseded=bool(row[8]) or status == CertificateStatus.SUPERSEDED,
        )

    def locate(self, number: str, code: str) -> LocatedCertificate | None:
        """The revision ``number`` whose code is ``code`` (as :meth:`verify`
        finds it), for looking at its history; ``None`` if none matches."""
        with self._db.connection() as conn:
            row = conn.execute(_LOCATE, (number, verification_digest(code))).fetchone()
        return None if row is None else _located(row)

    def revisions(
        self, tenant_id: str, certificate_id: UUID
    ) -> LocatedCertificate | None:
        """The same for a revision known by its id in ``tenant_id``."""
        with self._db.connection() as conn:
            row = conn.execute(_REVISIONS, (tenant_id, certificate_id)).fetchone()
        return None if row is None else _located(row)
