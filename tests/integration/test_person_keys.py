"""The data-key port: one contract, held by the Postgres table and by the
in-memory twin the unit tests use; and the Postgres table's keys wrapped with
a key-encryption key: a copy of the table alone opens no sealed value,
rotation keeps older keys readable, keys stored in the clear keep working
until rewrapped, and erasure still destroys the row's key."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from domain.account import Account
from domain.events import EventMeta
from infra.erasure.memory import MemoryPersonKeys
from infra.erasure.sealing import PersonalCipher, open_with
from infra.erasure.wrapping import KeyWrapping, WrappingKeyError
from infra.postgres.person_keys import (
    PostgresPersonKeys,
    destroy_key,
    insert_key,
    rewrap,
)

OLD, NEW = ("old", os.urandom(32)), ("new", os.urandom(32))


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
        return PostgresPersonKeys(self.database.connection, KeyWrapping([OLD]))

    def destroy(self, keys, tenant, person):
        with self.database.connection() as conn, conn.transaction():
            destroy_key(conn.cursor(), tenant, person)


class TestWrappedPersonKeys:
    @pytest.fixture(autouse=True)
    def _database(self, container):
        self.database = container.database
        self.tenant = f"t-{uuid.uuid4().hex[:8]}"

    def keys(self, *wrapping: tuple[str, bytes]) -> PostgresPersonKeys:
        return PostgresPersonKeys(self.database.connection, KeyWrapping(wrapping))

    def row(self, person: uuid.UUID) -> tuple[bytes | None, str | None]:
        with self.database.connection() as conn:
            found = conn.execute(
                "SELECT data_key, wrapping_key_id FROM person_keys"
                " WHERE tenant_id = %s AND person_id = %s",
                (self.tenant, person),
            ).fetchone()
        assert found is not None
        return (None if found[0] is None else bytes(found[0])), found[1]

    def test_a_dump_of_the_table_without_the_wrapping_key_opens_no_sealed_field(
        self,
    ):
        person = uuid.uuid4()
        values = {"email": "ada@example.com"}
        PersonalCipher(self.keys(OLD)).seal(self.tenant, person, values)
        dumped, key_id = self.row(person)
        assert key_id == "old"
        assert dumped is not None
        assert len(dumped) == 60
        for start in range(len(dumped) - 31):  # no 32 bytes of it are the key
            with pytest.raises(ValueError, match="does not open"):
                open_with(
                    dumped[start : start + 32], self.tenant, person, values["email"]
                )
        for without in (self.keys(), self.keys(NEW)):
            with pytest.raises(WrappingKeyError):
                PersonalCipher(without).open(self.tenant, person, dict(values))
        opened = dict(values)
        PersonalCipher(self.keys(OLD)).open(self.tenant, person, opened)
        assert opened == {"email": "ada@example.com"}

    def test_keys_of_new_persons_are_inserted_wrapped_with_their_events(self):
        keys, person = self.keys(OLD), uuid.uuid4()
        made = keys.new_key(self.tenant, person)
        with self.database.connection() as conn, conn.transaction():
            for tenant, who, stored in keys.take_new():
                insert_key(conn.cursor(), tenant, who, stored)
        assert self.row(person)[1] == "old"
        assert made not in (self.row(person)[0] or b"")
        assert keys.keys(self.tenant, [person]) == {person: made}

    def test_rotation_keeps_old_keys_readable_and_rewrap_moves_them(self):
        person, other = uuid.uuid4(), uuid.uuid4()
        first = self.keys(OLD).key_for(self.tenant, person)
        rotated = self.keys(NEW, OLD)
        second = rotated.key_for(self.tenant, other)
        assert (self.row(person)[1], self.row(other)[1]) == ("old", "new")
        assert rotated.keys(self.tenant, [person, other]) == {
            person: first,
            other: second,
        }
        assert (
            rewrap(
                self.database.connection, KeyWrapping([NEW, OLD]), tenant_id=self.tenant
            )
            == 1
        )
        assert self.row(person)[1] == "new"
        assert self.keys(NEW).keys(self.tenant, [person, other]) == {
            person: first,
            other: second,
        }

    def test_a_key_stored_in_the_clear_keeps_working_until_rewrapped(self):
        person, key = uuid.uuid4(), os.urandom(32)
        with self.database.connection() as conn:
            conn.execute(
                "INSERT INTO person_keys (tenant_id, person_id, data_key)"
                " VALUES (%s, %s, %s)",
                (self.tenant, person, key),
            )
        token = {"name": "Ada"}
        PersonalCipher(self.keys(OLD)).seal(self.tenant, person, token)
        assert self.keys(OLD).keys(self.tenant, [person]) == {person: key}
        assert (
            rewrap(self.database.connection, KeyWrapping([OLD]), tenant_id=self.tenant)
            == 1
        )
        assert self.row(person)[1] == "old"
        assert self.row(person)[0] != key
        PersonalCipher(self.keys(OLD)).open(self.tenant, person, token)
        assert token == {"name": "Ada"}

    def test_erasure_destroys_a_wrapped_key(self):
        keys, person = self.keys(OLD), uuid.uuid4()
        keys.key_for(self.tenant, person)
        with self.database.connection() as conn, conn.transaction():
            destroy_key(conn.cursor(), self.tenant, person)
        assert self.row(person) == (None, None)
        assert keys.keys(self.tenant, [person]) == {person: None}
        assert keys.key_for(self.tenant, person) is None


def test_the_event_store_inserts_a_new_persons_key_wrapped(container):
    """Through the recorder, in the events' transaction, with the configured
    wrapping key (``var/secrets`` locally)."""
    current = container.key_wrapping.current
    assert current is not None, "scripts/services.sh writes a wrapping key"
    meta = EventMeta(f"t-{uuid.uuid4().hex[:8]}", "admin", "req", "req")
    account = Account.invite(
        meta,
        "grace@example.com",
        "Grace",
        ["auditor"],
        [],
        datetime.now(UTC) + timedelta(days=1),
    )
    container.event_store.append(account)
    with container.database.connection() as conn:
        row = conn.execute(
            "SELECT data_key, wrapping_key_id FROM person_keys"
            " WHERE tenant_id = %s AND person_id = %s",
            (meta.tenant_id, account.id),
        ).fetchone()
    assert row is not None
    assert (len(row[0]), row[1]) == (60, current)
    assert container.event_store.load(Account, account.id).email == "grace@example.com"
