"""The data-key port: one contract, held by the Postgres table and by the
in-memory twin the unit tests use."""

from __future__ import annotations

import uuid

import pytest

from infra.erasure.memory import MemoryPersonKeys
from infra.postgres.person_keys import PostgresPersonKeys, destroy_key


class PersonKeysContract:
    """What every :class:`~infra.erasure.keys.PersonKeys` does."""

    def keys(self):
        raise NotImplementedError

    def destroy(self, keys, tenant: str, person: uuid.UUID) -> None:
        raise NotImplementedError

    def test_a_key_is_made_once_and_found_again(self):
        keys, tenant, person = self.keys(), f"t-{uuid.uuid4().hex[:8]}", uuid.uuid4()
        assert keys.keys(tenant, [person]) == {}

        made = keys.key_for(tenant, person)

        assert made is not None
        assert len(made) == 32
        assert keys.key_for(tenant, person) == made
        assert keys.keys(tenant, [person, uuid.uuid4()]) == {person: made}
        assert keys.keys("another-tenant", [person]) == {}

    def test_a_destroyed_key_stays_destroyed(self):
        keys, tenant, person = self.keys(), f"t-{uuid.uuid4().hex[:8]}", uuid.uuid4()
        keys.key_for(tenant, person)

        self.destroy(keys, tenant, person)

        assert keys.keys(tenant, [person]) == {person: None}
        assert keys.key_for(tenant, person) is None


class TestMemoryPersonKeys(PersonKeysContract):
    def keys(self):
        return MemoryPersonKeys()

    def destroy(self, keys, tenant, person):
        keys.destroy(tenant, person)


class TestPostgresPersonKeys(PersonKeysContract):
    @pytest.fixture(autouse=True)
    def _database(self, container):
        self.database = container.database

    def keys(self):
        return PostgresPersonKeys(self.database.connection)

    def destroy(self, keys, tenant, person):
        with self.database.connection() as conn, conn.transaction():
            destroy_key(conn.cursor(), tenant, person)
