"""Which certificates will need their expiry recorded, and when.

The expiry processor reads this to issue ``expire`` commands once a
certificate's expiry date has come; a certificate leaves the list when it is
expired, withdrawn or superseded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from projections.envelope import EventEnvelope
from projections.rows import Column, Rows, Table

_PREFIX = "assurehub.certificate."
ISSUED = f"{_PREFIX}issued.v1"
ENDED = {f"{_PREFIX}{name}.v1" for name in ("expired", "withdrawn", "superseded")}


@dataclass(frozen=True)
class DueCertificate:
    tenant_id: str
    certificate_id: UUID
    expiry_date: date


DUE = Table(
    "certificates",
    (
        Column("tenant_id", "text", False),
        Column("certificate_id", "uuid", False),
        Column("expiry_date", "date", False),
    ),
    key=("tenant_id", "certificate_id"),
    indexes=(("expiry_date",),),
)


class CertificateExpiryProjection:
    """Keeps the list of certificates in force with their expiry dates."""

    name = "certificate_expiry"
    tables: tuple[Table, ...] = (DUE,)

    def apply(self, event: EventEnvelope, store: Rows) -> None:
        """Track issued certificates; forget ended ones."""
        certificate_id = UUID(event.subject)
        if event.type == ISSUED:
            expiry = date.fromisoformat(event.data["expiry_date"])
            store.insert(
                DUE.name,
                {
                    "tenant_id": event.tenant_id,
                    "certificate_id": certificate_id,
                    "expiry_date": expiry,
                },
            )
        elif event.type in ENDED:
            store.delete(DUE.name, (event.tenant_id, certificate_id))
