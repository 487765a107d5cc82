"""The expiry processor judges "the expiry date has come" by each tenant's
calendar."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, cast
from uuid import uuid4

from processors.expiry import expire_due
from projections.certificate_expiry import DueCertificate

UTC_TODAY = date(2026, 3, 1)


class Due:
    """The expiry list: certificates with their expiry dates."""

    def __init__(self, *items: DueCertificate) -> None:
        self.items = items
        self.asked: list[date] = []

    def due(self, on: date, limit: int = 500) -> list[DueCertificate]:
        self.asked.append(on)
        return [i for i in self.items if i.expiry_date <= on]


class Certificates:
    """Records the expire commands and the date each was given."""

    def __init__(self) -> None:
        self.expired: list[tuple[str, date]] = []

    def expire(self, ctx, cmd) -> None:
        self.expired.append((ctx.principal.tenant_id, ctx.today))


def test_a_tenant_ahead_of_utc_sees_its_certificate_expire_first():
    tomorrow = UTC_TODAY + timedelta(days=1)
    due = Due(
        DueCertificate("kiritimati", uuid4(), tomorrow),
        DueCertificate("london", uuid4(), tomorrow),
        DueCertificate("london", uuid4(), UTC_TODAY),
    )
    calendars = {"kiritimati": tomorrow, "london": UTC_TODAY}
    certificates = Certificates()

    count = expire_due(
        cast(Any, due), cast(Any, certificates), calendars.__getitem__, UTC_TODAY
    )

    assert count == 2
    assert sorted(certificates.expired) == [
        ("kiritimati", tomorrow),
        ("london", UTC_TODAY),
    ]
    assert due.asked == [tomorrow], "asks for every date any zone may be on"
