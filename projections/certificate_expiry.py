"""Which certificates will need their expiry recorded, and when.

The expiry processor reads this to issue ``expire`` commands once a
certificate's expiry date has come; a certificate leaves the list when it is
expired, withdrawn or superseded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol
from uuid import UUID

from projections.envelope import EventEnvelope

_PREFIX = "assurehub.certificate."
ISSUED = f"{_PREFIX}issued.v1"
ENDED = {f"{_PREFIX}{name}.v1" for name in ("expired", "withdrawn", "superseded")}


@dataclass(frozen=True)
class DueCertificate:
    tenant_id: str
    certificate_id: UUID
    expiry_date: date


class ExpiryStore(Protocol):
    """Write port of the expiry list, bound to the runner's transaction."""

    def track(self, tenant_id: str, certificate_id: UUID, expiry_date: date) -> None:
        """Remember a certificate in force and its expiry date."""
        ...

    def forget(self, tenant_id: str, certificate_id: UUID) -> None:
        """Drop a certificate that is no longer in force."""
        ...


class CertificateExpiryProjection:
    """Keeps the list of certificates in force with their expiry dates."""

    name = "certificate_expiry"

    def apply(self, event: EventEnvelope, store: ExpiryStore) -> None:
        """Track issued certificates; forget ended ones."""
        certificate_id = UUID(event.subject)
        if event.type == ISSUED:
            expiry = date.fromisoformat(event.data["expiry_date"])
            store.track(event.tenant_id, certificate_id, expiry)
        elif event.type in ENDED:
            store.forget(event.tenant_id, certificate_id)
