"""The client organization being audited.

Lifecycle (this module): registered; renamed; sites added. Every event
carries :class:`~domain.events.EventMeta`, so the tenant travels with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from domain.country import country_code
from domain.errors import RuleViolationError
from domain.events import EventMeta
from domain.values import bounded_text

NAME_MAX = 200
ADDRESS_MAX = 500


@dataclass(frozen=True)
class Site:
    """A location of the organization that audits can cover."""

    id: UUID
    name: str
    address: str
    country: str


class Organization(Aggregate):
    """A client organization of one tenant."""

    class Event(Aggregate.Event):
        """Base of Organization events."""

        TYPE: ClassVar[str]
        meta: EventMeta

    class Registered(Event, Aggregate.Created):
        """The organization became a client of the tenant."""

        TYPE = "organization.registered"
        name: str
        country: str

    class Renamed(Event):
        """The organization's legal or trading name changed."""

        TYPE = "organization.renamed"
        name: str

        def apply(self, aggregate: Organization) -> None:
            aggregate.name = self.name

    class SiteAdded(Event):
        """A site was added to the organization."""

        TYPE = "organization.site_added"
        site_id: UUID
        site_name: str
        address: str
        country: str

        def apply(self, aggregate: Organization) -> None:
            aggregate.sites = (
                *aggregate.sites,
                Site(self.site_id, self.site_name, self.address, self.country),
            )

    def __init__(self, meta: EventMeta, name: str, country: str) -> None:
        self.tenant_id = meta.tenant_id
        self.name = name
        self.country = country
        self.sites: tuple[Site, ...] = ()

    @classmethod
    def register(cls, meta: EventMeta, name: str, country: str) -> Organization:
        """Register a new client organization.

        Raises:
            InvalidValueError: blank or over-long name, unknown country code.
        """
        return cls._create(
            cls.Registered,
            id=uuid4(),
            meta=meta,
            name=bounded_text(name, "name", NAME_MAX),
            country=country_code(country),
        )

    def rename(self, meta: EventMeta, name: str) -> None:
        """Give the organization a new name.

        Raises:
            InvalidValueError: blank or over-long name.
            RuleViolationError: the name is the current one.
        """
        new_name = bounded_text(name, "name", NAME_MAX)
        if new_name == self.name:
            raise RuleViolationError(
                "organization.name_unchanged",
                f"organization {self.id} is already named {new_name!r}",
            )
        self.trigger_event(self.Renamed, meta=meta, name=new_name)

    def add_site(
        self, meta: EventMeta, name: str, address: str, country: str | None = None
    ) -> UUID:
        """Add a site; its name must be unique within the organization.

        Returns:
            The new site's id.

        Raises:
            InvalidValueError: blank or over-long name or address, bad country.
            RuleViolationError: a site of that name exists already.
        """
        site_name = bounded_text(name, "name", NAME_MAX)
        if any(s.name.casefold() == site_name.casefold() for s in self.sites):
            raise RuleViolationError(
                "organization.site_name_taken",
                f"organization {self.id} already has a site named {site_name!r}",
            )
        site_id = uuid4()
        self.trigger_event(
            self.SiteAdded,
            meta=meta,
            site_id=site_id,
            site_name=site_name,
            address=bounded_text(address, "address", ADDRESS_MAX),
            country=country_code(country or self.country),
        )
        return site_id
