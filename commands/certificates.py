"""Commands on certificates."""

from __future__ import annotations

from commands.handling import AggregateHandler
from commands.ports import CertificateNumbers, EventStore


class CertificateService:
    """Application service whose methods are the certificate commands."""

    def __init__(self, store: EventStore, numbers: CertificateNumbers) -> None:
        self._handler = AggregateHandler(store)
        self._numbers = numbers
