"""Every table projection the application runs, in one place.

``assurehub projectors`` runs one :class:`ProjectionRunner` per entry of
:data:`READ_MODELS` (each with :class:`PostgresRows` on ``rm_<name>``);
``assurehub processors`` runs :data:`PROCESSOR_MODELS`. ``assurehub migrate``
creates (or builds) the schema of every one, and ``assurehub projections
status|rebuild|replay`` know them by name.

To add a read model, import its projection and add one line to
:data:`READ_MODELS`::

    AuditProjection(),
"""

from __future__ import annotations

from projections.accounts import AccountsProjection
from projections.audits import AuditProjection
from projections.certificate_expiry import CertificateExpiryProjection
from projections.certificates import CertificateProjection
from projections.document_jobs import DocumentJobsProjection
from projections.documents import DocumentProjection
from projections.notification_intents import NotificationIntentsProjection
from projections.organizations import OrganizationProjection
from projections.ports import TableProjection
from projections.security_events import SecurityEventsProjection
from projections.templates import TemplateProjection

READ_MODELS: tuple[TableProjection, ...] = (
    OrganizationProjection(),
    AuditProjection(),
    CertificateProjection(),
    TemplateProjection(),
    AccountsProjection(),
    SecurityEventsProjection(),
    DocumentProjection(),
)
"""Projections behind the query API, run by ``assurehub projectors``."""

PROCESSOR_MODELS: tuple[TableProjection, ...] = (
    CertificateExpiryProjection(),
    DocumentJobsProjection(),
    NotificationIntentsProjection(),
)
"""Projections that feed processors, run by ``assurehub processors``."""


class UnknownProjectionError(LookupError):
    """No registered projection has that name."""


def all_projections() -> tuple[TableProjection, ...]:
    """Every registered projection, read models first."""
    return READ_MODELS + PROCESSOR_MODELS


def by_name(name: str) -> TableProjection:
    """The registered projection called ``name``.

    Raises:
        UnknownProjectionError: none is.
    """
    for projection in all_projections():
        if projection.name == name:
            return projection
    known = ", ".join(p.name for p in all_projections())
    raise UnknownProjectionError(f"no projection {name!r} (known: {known})")
