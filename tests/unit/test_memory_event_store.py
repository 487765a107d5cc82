"""The in-memory event store twin fulfils the event store contract."""

from __future__ import annotations

import pytest

from infra.eventstore.memory import in_memory_env
from infra.eventstore.store import LibraryEventStore
from tests.event_store_contract import EventStoreContract


class TestMemoryEventStore(EventStoreContract):
    @pytest.fixture
    def store(self):
        return LibraryEventStore(in_memory_env())
