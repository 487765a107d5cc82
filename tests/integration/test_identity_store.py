"""The identity side records in Postgres, written with real events (an
organization's, through the event store the API uses), and the Postgres
identity directory: the identity contract, concurrency included."""

from __future__ import annotations

import pytest

from infra.postgres.identity import PostgresIdentityDirectory
from tests.identity_contract import IdentityContract


class TestPostgresIdentity(IdentityContract):
    @pytest.fixture
    def store(self, container):
        return container.event_store

    @pytest.fixture
    def directory(self, container):
        return PostgresIdentityDirectory(container.database)

    @pytest.fixture
    def outbox(self, container):
        def find(message_id):
            with container.database.connection() as conn:
                return conn.execute(
                    "SELECT recipient, subject, body FROM notification_outbox"
                    " WHERE message_id = %s",
                    (message_id,),
                ).fetchone()

        return find
