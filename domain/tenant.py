"""A tenant: one assurance provider's workspace, created by a platform admin.

A tenant is named by a slug (``acme-cert``) that every event of the tenant
carries as ``meta.tenant_id``. The tenant aggregate's id is derived from the
slug (:func:`tenant_aggregate_id`), so it is found without an index and two
platform admins creating the same tenant conflict instead of making two.
The slug ``platform`` is reserved for the platform administrators' accounts
and is never created as a tenant.

A tenant's certificate numbers start with its certificate code
(``ACMECERT-2026-000123``), chosen once, when the tenant is created, and
recorded on its creation event. Codes are unique across the platform: the
command creating a tenant claims the code atomically with the events, taking
the next of :func:`certificate_code_candidates` when one is taken. A tenant
created before codes were recorded has none on its event (``None``); its code
is claimed the same way on its first certificate number.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
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
CODE_MAX = 12
_CODE = re.compile(rf"[A-Z0-9]{{2,{CODE_MAX}}}")
_NOT_CODE = re.compile(r"[^A-Z0-9]")
CODE_CANDIDATES = 9999
"""How many codes :func:`certificate_code_candidates` offers a slug."""


def valid_tenant_slug(slug: str) -> str:
    """``slug`` if it is a tenant slug: 3 to 40 of ``a-z``, ``0-9`` and ``-``,
    not starting with ``-`` (``platform`` is a valid slug).

    Raises:
        InvalidValueError: not a slug, naming ``tenant_id``.
    """
    what = (
        "a tenant id: 3 to 40 lower-case letters, digits or '-', not starting with '-'"
    )
    return _matching(_SLUG, slug, "tenant_id", what)


def valid_certificate_code(code: str) -> str:
    """``code`` if it is a certificate code: 2 to 12 of ``A-Z`` and ``0-9``.

    Raises:
        InvalidValueError: not a code, naming ``certificate_code``.
    """
    what = f"a certificate code: 2 to {CODE_MAX} upper-case letters or digits"
    return _matching(_CODE, code, "certificate_code", what)


def _matching(pattern: re.Pattern[str], value: str, field: str, what: str) -> str:
    if not pattern.fullmatch(value):
        raise InvalidValueError(field, f"{value!r} is not {what}")
    return value


def certificate_code_candidates(slug: str) -> Iterator[str]:
    """The codes a tenant may take, in order of preference: the letters and
    digits of its slug (upper-cased, at most 12, padded with ``X`` to 2),
    then the same numbered ``2``, ``3``, … (shortened to fit)."""
    base = _NOT_CODE.sub("", slug.upper())[:CODE_MAX].ljust(2, "X")
    yield base
    for n in range(2, CODE_CANDIDATES + 1):
        suffix = str(n)
        yield base[: CODE_MAX - len(suffix)] + suffix


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
        """A platform administrator created the tenant.

        Version 2 added ``certificate_code``; stored version 1 events are
        upcast on read with none (the code is then claimed on first use).
        """

        TYPE = "tenant.created"
        class_version = 2
        name: str
        certificate_code: str | None

        @staticmethod
        def upcast_v1_v2(state: dict[str, object]) -> None:
            """Version 1 recorded no certificate code."""
            state["certificate_code"] = None

    def __init__(
        self, meta: EventMeta, name: str, certificate_code: str | None
    ) -> None:
        self.tenant_id = meta.tenant_id
        self.name = name
        self.certificate_code = certificate_code

    @classmethod
    def create(
        cls, meta: EventMeta, name: str, certificate_code: str | None = None
    ) -> Tenant:
        """Create the tenant ``meta.tenant_id`` (recorded in its own log) with
        its certificate code (by default the first of
        :func:`certificate_code_candidates`; the caller claims it).

        Raises:
            InvalidValueError: ``meta.tenant_id`` is not a slug or is the
                reserved ``platform``; blank or over-long name; not a
                certificate code.
        """
        slug = valid_tenant_slug(meta.tenant_id)
        if slug == PLATFORM_TENANT:
            raise InvalidValueError(
                "tenant_id",
                f"{PLATFORM_TENANT!r} is reserved for platform administrators",
            )
        if certificate_code is None:
            certificate_code = next(certificate_code_candidates(slug))
        return cls._create(
            cls.Created,
            id=tenant_aggregate_id(slug),
            meta=meta,
            name=bounded_text(name, "name", NAME_MAX),
            certificate_code=valid_certificate_code(certificate_code),
        )
