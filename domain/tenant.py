"""A tenant: one assurance provider's workspace, created by a platform admin.

A tenant is named by a slug (``acme-cert``) that every event of the tenant
carries as ``meta.tenant_id``. The tenant aggregate's id is derived from the
slug (:func:`tenant_aggregate_id`), so it is found without an index and two
platform admins creating the same tenant conflict instead of making two.
The slug ``platform`` is reserved for the platform administrators' accounts
and is never created as a tenant.
"""

from __future__ import annotations

import re
from typing import ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from domain.errors import InvalidValueError
from domain.events import EventMeta
from domain.values import bounded_text

PLATFORM_TENANT = "platform"
"""The tenant of the platform administrators' accounts; never a customer."""

NAME_MAX = 200
_SLUG = re.compile(r"[a-z0-9][a-z0-9-]{2,39}")


def valid_tenant_slug(slug: str) -> str:
    """``slug`` if it is a tenant slug: 3 to 40 of ``a-z``, ``0-9`` and ``-``,
    not starting with ``-`` (``platform`` is a valid slug).

    Raises:
        InvalidValueError: not a slug, naming ``tenant_id``.
    """
    if not _SLUG.fullmatch(slug):
        raise InvalidValueError(
            "tenant_id",
            f"{slug!r} is not a tenant id: 3 to 40 lower-case letters, digits "
            "or '-', not starting with '-'",
        )
    return slug


def tenant_aggregate_id(slug: str) -> UUID:
    """The id of the tenant aggregate of ``slug``."""
    return uuid5(NAMESPACE_URL, f"assurehub:tenant:{slug}")


class Tenant(Aggregate):
    """An assurance provider's workspace."""

    class Event(Aggregate.Event):
        """Base of Tenant events."""

        TYPE: ClassVar[str]
        meta: EventMeta

    class Created(Event, Aggregate.Created):
        """A platform administrator created the tenant."""

        TYPE = "tenant.created"
        name: str

    def __init__(self, meta: EventMeta, name: str) -> None:
        self.tenant_id = meta.tenant_id
        self.name = name

    @classmethod
    def create(cls, meta: EventMeta, name: str) -> Tenant:
        """Create the tenant ``meta.tenant_id`` (recorded in its own log).

        Raises:
            InvalidValueError: ``meta.tenant_id`` is not a slug or is the
                reserved ``platform``; blank or over-long name.
        """
        slug = valid_tenant_slug(meta.tenant_id)
        if slug == PLATFORM_TENANT:
            raise InvalidValueError(
                "tenant_id",
                f"{PLATFORM_TENANT!r} is reserved for platform administrators",
            )
        return cls._create(
            cls.Created,
            id=tenant_aggregate_id(slug),
            meta=meta,
            name=bounded_text(name, "name", NAME_MAX),
        )
