"""The in-memory twin of the key table (tests, the in-memory event store)."""

from __future__ import annotations

import os
import threading
from collections.abc import Collection
from uuid import UUID


class MemoryPersonKeys:
    """:class:`~infra.erasure.keys.PersonKeys` in a dict."""

    def __init__(self) -> None:
        self._keys: dict[tuple[str, UUID], bytes | None] = {}
        self._lock = threading.Lock()

    def keys(
        self, tenant_id: str, person_ids: Collection[UUID]
    ) -> dict[UUID, bytes | None]:
        with self._lock:
            return {
                p: self._keys[(tenant_id, p)]
                for p in person_ids
                if (tenant_id, p) in self._keys
            }

    def key_for(self, tenant_id: str, person_id: UUID) -> bytes | None:
        with self._lock:
            return self._keys.setdefault((tenant_id, person_id), os.urandom(32))

    def new_key(self, tenant_id: str, person_id: UUID) -> bytes:
        key = self.key_for(tenant_id, person_id)
        assert key is not None, "a new person has no erased key"
        return key

    def destroy(self, tenant_id: str, person_id: UUID) -> None:
        """Destroy the person's key (leaving the tombstone)."""
        with self._lock:
            self._keys[(tenant_id, person_id)] = None
