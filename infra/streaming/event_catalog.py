"""The catalog of public events: every published event class, its public
type name, and which of its fields are personal and whose.

Imports the domain's aggregates; :mod:`infra.streaming.public_events` and
:mod:`infra.streaming.event_schemas` build on it.
"""

from __future__ import annotations

from typing import Any

from domain.access_record import AccessRecord
from domain.account import Account
from domain.api_token import ApiToken
from domain.audit import Audit
from domain.certificate import Certificate
from domain.document import Document
from domain.document_template import DocumentTemplate
from domain.evidence import Evidence
from domain.log_alert import LogAlert
from domain.organization import Organization
from domain.standard_template import StandardTemplate
from domain.tenant import Tenant
from domain.tenant_settings import TenantSettings
from infra.errors import InfrastructureError

TYPE_PREFIX = "assurehub."


class UnpublishableEventError(InfrastructureError, TypeError):
    """The event class lacks a public ``TYPE`` or ``meta``."""


def public_type(event_class: type[Any]) -> str:
    """``assurehub.<TYPE>.v<class_version>`` of an event class."""
    name = getattr(event_class, "TYPE", None)
    if not isinstance(name, str):
        raise UnpublishableEventError(f"{event_class.__qualname__} has no TYPE")
    version = getattr(event_class, "class_version", 1)
    return f"{TYPE_PREFIX}{name}.v{version}"


AGGREGATES: tuple[type[Any], ...] = (
    Organization,
    StandardTemplate,
    DocumentTemplate,
    Audit,
    Certificate,
    Evidence,
    TenantSettings,
    Tenant,
    Account,
    ApiToken,
    Document,
    AccessRecord,
    LogAlert,
)
"""Every aggregate whose events are published on the topic."""


def _published(aggregate: type[Any]) -> list[type[Any]]:
    return [
        value
        for value in vars(aggregate).values()
        if isinstance(value, type) and isinstance(getattr(value, "TYPE", None), str)
    ]


EVENT_CLASSES: tuple[type[Any], ...] = tuple(
    event for aggregate in AGGREGATES for event in _published(aggregate)
)
"""Every event class published on the topic."""

PUBLIC_TYPES: frozenset[str] = frozenset(public_type(c) for c in EVENT_CLASSES)
"""Every public event type (at its current version) the relay publishes: a
record of any other type is not one this code can apply."""

PERSONAL_BY_TYPE: dict[str, tuple[frozenset[str], str]] = {
    public_type(c): (frozenset(c.PERSONAL), getattr(c, "PERSON", "originator_id"))
    for c in EVENT_CLASSES
    if getattr(c, "PERSONAL", None)
}
"""Public type → its personal fields and the attribute naming their person
(``originator_id``: the event's subject), for the types that have any."""
