"""The client organization being audited.

Lifecycle: registered; renamed; details changed; sites added, changed,
removed; archived. An archived organization is read-only and accepts no new
audits (checked by the audit planning service). Every event carries
:class:`~domain.events.EventMeta`, so the tenant travels with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from domain.country import country_code
from domain.errors import NotFoundError, RuleViolationError
from domain.events import EventMeta
from domain.values import bounded_text, optional_text

NAME_MAX = 200
ADDRESS_MAX = 500
REGISTRATION_MAX = 64
REASON_MAX = 1000


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
        """The organization became a client of the tenant.

        Version 2 added ``registration_number``; stored version 1 events are
        upcast on read with none.
        """

        TYPE = "organization.registered"
        class_version = 2
        name: str
        country: str
        registration_number: str | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, object]) -> None:
            """Version 1 had no registration number."""
            state["registration_number"] = None

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

    class DetailsChanged(Event):
        """The organization's registered details changed."""

        TYPE = "organization.details_changed"
        country: str
        registration_number: str | None

        def apply(self, aggregate: Organization) -> None:
            aggregate.country = self.country
            aggregate.registration_number = self.registration_number

    class SiteChanged(Event):
        """A site's name, address or country changed."""

        TYPE = "organization.site_changed"
        site_id: UUID
        site_name: str
        address: str
        country: str

        def apply(self, aggregate: Organization) -> None:
            aggregate.sites = tuple(
                Site(s.id, self.site_name, self.address, self.country)
                if s.id == self.site_id
                else s
                for s in aggregate.sites
            )

    class SiteRemoved(Event):
        """A site no longer belongs to the organization."""

        TYPE = "organization.site_removed"
        site_id: UUID

        def apply(self, aggregate: Organization) -> None:
            aggregate.sites = tuple(s for s in aggregate.sites if s.id != self.site_id)

    class Archived(Event):
        """The organization stopped being a client; it is kept read-only."""

        TYPE = "organization.archived"
        reason: str

        def apply(self, aggregate: Organization) -> None:
            aggregate.archived = True

    def __init__(
        self,
        meta: EventMeta,
        name: str,
        country: str,
        registration_number: str | None,
    ) -> None:
        self.tenant_id = meta.tenant_id
        self.name = name
        self.country = country
        self.registration_number = registration_number
        self.sites: tuple[Site, ...] = ()
        self.archived = False

    def site(self, site_id: UUID) -> Site:
        """The site with ``site_id``.

        Raises:
            NotFoundError: no such site.
        """
        for s in self.sites:
            if s.id == site_id:
                return s
        raise NotFoundError("site", site_id)

    def _check_not_archived(self) -> None:
        if self.archived:
            raise RuleViolationError(
                "organization.archived",
                f"organization {self.id} is archived and cannot be changed",
            )

    def _check_site_name_free(self, name: str, except_id: UUID | None = None) -> None:
        if any(
            s.name.casefold() == name.casefold() and s.id != except_id
            for s in self.sites
        ):
            raise RuleViolationError(
                "organization.site_name_taken",
                f"organization {self.id} already has a site named {name!r}",
            )

    @classmethod
    def register(
        cls,
        meta: EventMeta,
        name: str,
        country: str,
        registration_number: str | None = None,
    ) -> Organization:
        """Register a new client organization.

        Raises:
            InvalidValueError: blank or over-long name or registration number,
                unknown country code.
        """
        return cls._create(
            cls.Registered,
            id=uuid4(),
            meta=meta,
            name=bounded_text(name, "name", NAME_MAX),
            country=country_code(country),
            registration_number=optional_text(
                registration_number, "registration_number", REGISTRATION_MAX
            ),
        )

    def rename(self, meta: EventMeta, name: str) -> None:
        """Give the organization a new name.

        Raises:
            InvalidValueError: blank or over-long name.
            RuleViolationError: the name is the current one.
        """
        self._check_not_archived()
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
        self._check_not_archived()
        site_name = bounded_text(name, "name", NAME_MAX)
        self._check_site_name_free(site_name)
        site_id = uuid4()
        self.trigger_event(
            self.SiteAdded,
            meta=meta,
            site_id=site_id,
            site_name=site_name,
            address=bounded_text(address, "address", ADDRESS_MAX, multiline=True),
            country=country_code(country or self.country),
        )
        return site_id

    def change_details(
        self, meta: EventMeta, country: str, registration_number: str | None
    ) -> None:
        """Change the registered country and registration number.

        Raises:
            InvalidValueError: unknown country, over-long registration number.
            RuleViolationError: archived, or nothing would change.
        """
        self._check_not_archived()
        new_country = country_code(country)
        new_number = optional_text(
            registration_number, "registration_number", REGISTRATION_MAX
        )
        if (new_country, new_number) == (self.country, self.registration_number):
            raise RuleViolationError(
                "organization.details_unchanged",
                f"organization {self.id} already has these details",
            )
        self.trigger_event(
            self.DetailsChanged,
            meta=meta,
            country=new_country,
            registration_number=new_number,
        )

    def change_site(
        self,
        meta: EventMeta,
        site_id: UUID,
        name: str,
        address: str,
        country: str | None = None,
    ) -> None:
        """Change a site's name, address or country.

        Raises:
            NotFoundError: no such site.
            InvalidValueError: blank or over-long values, bad country.
            RuleViolationError: archived, name taken, or nothing would change.
        """
        self._check_not_archived()
        current = self.site(site_id)
        site_name = bounded_text(name, "name", NAME_MAX)
        self._check_site_name_free(site_name, except_id=site_id)
        changed = Site(
            site_id,
            site_name,
            bounded_text(address, "address", ADDRESS_MAX, multiline=True),
            country_code(country or current.country),
        )
        if changed == current:
            raise RuleViolationError(
                "organization.site_unchanged",
                f"site {site_id} of organization {self.id} already has these values",
            )
        self.trigger_event(
            self.SiteChanged,
            meta=meta,
            site_id=site_id,
            site_name=changed.name,
            address=changed.address,
            country=changed.country,
        )

    def remove_site(self, meta: EventMeta, site_id: UUID) -> None:
        """Remove a site (audits that covered it keep their own record).

        Raises:
            NotFoundError: no such site.
            RuleViolationError: archived.
        """
        self._check_not_archived()
        self.site(site_id)
        self.trigger_event(self.SiteRemoved, meta=meta, site_id=site_id)

    def archive(self, meta: EventMeta, reason: str) -> None:
        """Archive the organization: read-only from now on, no new audits.

        Raises:
            InvalidValueError: blank reason.
            RuleViolationError: already archived.
        """
        self._check_not_archived()
        self.trigger_event(
            self.Archived,
            meta=meta,
            reason=bounded_text(reason, "reason", REASON_MAX, multiline=True),
        )
