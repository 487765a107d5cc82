"""The SQL of each identity side record, run in the events' transaction.

:func:`write_record` is called by :class:`infra.eventstore.recorders.FailFastRecorder`
once the events are inserted. A conditional record whose ``UPDATE`` matches no
row (a token already spent, a TOTP step replayed, a recovery code used) makes
Postgres abort the transaction, so the events and every other side write are
rolled back, and raises :class:`SideRecordRefusedError`. So does a credential
record for an account that has no row.
"""

from __future__ import annotations

from functools import singledispatch
from typing import Any, NoReturn

import psycopg
from psycopg import Cursor, sql

from commands.identity.account_writer import EMAIL_CLAIM
from commands.identity.ports import (
    AccountSaved,
    ApiTokenRevoked,
    ApiTokenStored,
    IdentityRecord,
    OneTimeTokenIssued,
    OneTimeTokensRevoked,
    OneTimeTokenUsed,
    OutboxMessage,
    PasswordHashSet,
    PersonErased,
    RecoveryCodeSpent,
    RecoveryCodesReplaced,
    SessionsRevoked,
    SessionStarted,
    SideRecordRefusedError,
    TotpActivated,
    TotpCleared,
    TotpStepUsed,
)
from domain.personal import ERASED
from infra.postgres.person_keys import destroy_key

AnyCursor = Cursor[Any]

REFUSED_SQLSTATE = "AH001"
_ABORT = (
    "DO $$BEGIN RAISE EXCEPTION 'identity side record refused'"
    f" USING ERRCODE = '{REFUSED_SQLSTATE}'; END$$"
)


def _refuse(cursor: AnyCursor, record: IdentityRecord) -> NoReturn:
    """Abort the transaction in Postgres (the library commits the transaction
    whatever Python raises), then refuse the record."""
    try:
        with cursor.connection.pipeline() as pipeline:
            cursor.execute(_ABORT)
            pipeline.sync()
    except psycopg.Error as e:
        raise SideRecordRefusedError(record) from e
    raise AssertionError("the transaction was not aborted")  # pragma: no cover


def _require_row(cursor: AnyCursor, record: IdentityRecord) -> None:
    """Refuse ``record`` unless the statement just run (``RETURNING``) hit."""
    if cursor.fetchone() is None:
        _refuse(cursor, record)


def write_record(cursor: AnyCursor, record: IdentityRecord) -> None:
    """Write one side record with ``cursor`` (in the events' transaction).

    Raises:
        SideRecordRefusedError: a conditional record's condition was false;
            the transaction is aborted.
        TypeError: a record type without SQL.
    """
    _write(record, cursor)


@singledispatch
def _write(record: IdentityRecord, cursor: AnyCursor) -> None:  # noqa: ARG001
    raise TypeError(f"no SQL for side record {type(record).__name__}")


@_write.register
def _(record: AccountSaved, cursor: AnyCursor) -> None:
    cursor.execute(
        "INSERT INTO identity_accounts (account_id, tenant_id, email, name, status,"
        " roles, organization_ids, mfa_enrolled) VALUES (%s, %s, %s, %s, %s, %s,"
        " %s, %s) ON CONFLICT (account_id) DO UPDATE SET email = EXCLUDED.email,"
        " name = EXCLUDED.name, status = EXCLUDED.status, roles = EXCLUDED.roles,"
        " organization_ids = EXCLUDED.organization_ids,"
        " mfa_enrolled = EXCLUDED.mfa_enrolled, updated_at = now()",
        (
            record.account_id,
            record.tenant_id,
            record.email.strip().lower(),
            record.name,
            record.status,
            list(record.roles),
            list(record.organization_ids),
            record.mfa_enrolled,
        ),
    )


def _update_account(
    cursor: AnyCursor, record: IdentityRecord, assignments: str, values: tuple[Any, ...]
) -> None:
    """``UPDATE`` the account's credential columns (``assignments``, a
    constant); refused without a row."""
    statement = sql.SQL(
        "UPDATE identity_accounts SET {}, updated_at = now()"
        " WHERE account_id = %s RETURNING 1"
    ).format(sql.SQL(assignments))
    cursor.execute(statement, values)
    _require_row(cursor, record)


@_write.register
def _(record: PasswordHashSet, cursor: AnyCursor) -> None:
    _update_account(
        cursor, record, "password_hash = %s", (record.password_hash, record.account_id)
    )


@_write.register
def _(record: TotpActivated, cursor: AnyCursor) -> None:
    _update_account(
        cursor,
        record,
        "totp_secret = %s, totp_last_step = %s, totp_pending = NULL,"
        " recovery_hashes = %s",
        (
            record.secret,
            record.used_step,
            list(record.recovery_hashes),
            record.account_id,
        ),
    )


@_write.register
def _(record: TotpCleared, cursor: AnyCursor) -> None:
    _update_account(
        cursor,
        record,
        "totp_secret = NULL, totp_last_step = NULL, totp_pending = NULL,"
        " recovery_hashes = '{}'",
        (record.account_id,),
    )


@_write.register
def _(record: RecoveryCodesReplaced, cursor: AnyCursor) -> None:
    _update_account(
        cursor,
        record,
        "recovery_hashes = %s",
        (list(record.recovery_hashes), record.account_id),
    )


@_write.register
def _(record: TotpStepUsed, cursor: AnyCursor) -> None:
    cursor.execute(
        "UPDATE identity_accounts SET totp_last_step = %s WHERE account_id = %s"
        " AND (totp_last_step IS NULL OR totp_last_step < %s) RETURNING 1",
        (record.step, record.account_id, record.step),
    )
    _require_row(cursor, record)


@_write.register
def _(record: RecoveryCodeSpent, cursor: AnyCursor) -> None:
    cursor.execute(
        "UPDATE identity_accounts SET recovery_hashes ="
        " array_remove(recovery_hashes, %s) WHERE account_id = %s"
        " AND %s = ANY (recovery_hashes) RETURNING 1",
        (record.code_hash, record.account_id, record.code_hash),
    )
    _require_row(cursor, record)


@_write.register
def _(record: OneTimeTokenIssued, cursor: AnyCursor) -> None:
    cursor.execute(
        "UPDATE identity_one_time_tokens SET revoked_at = now() WHERE account_id = %s"
        " AND purpose = %s AND used_at IS NULL AND revoked_at IS NULL",
        (record.account_id, record.purpose),
    )
    cursor.execute(
        "INSERT INTO identity_one_time_tokens (digest, purpose, tenant_id,"
        " account_id, expires_at) VALUES (%s, %s, %s, %s, %s)",
        (
            record.digest,
            record.purpose,
            record.tenant_id,
            record.account_id,
            record.expires_at,
        ),
    )


@_write.register
def _(record: OneTimeTokenUsed, cursor: AnyCursor) -> None:
    cursor.execute(
        "UPDATE identity_one_time_tokens SET used_at = %s WHERE digest = %s"
        " AND purpose = %s AND used_at IS NULL AND revoked_at IS NULL"
        " AND expires_at > %s RETURNING 1",
        (record.now, record.digest, record.purpose, record.now),
    )
    _require_row(cursor, record)


@_write.register
def _(record: OneTimeTokensRevoked, cursor: AnyCursor) -> None:
    cursor.execute(
        "UPDATE identity_one_time_tokens SET revoked_at = now() WHERE account_id = %s"
        " AND (%s::text IS NULL OR purpose = %s)"
        " AND used_at IS NULL AND revoked_at IS NULL",
        (record.account_id, record.purpose, record.purpose),
    )


@_write.register
def _(record: OutboxMessage, cursor: AnyCursor) -> None:
    cursor.execute(
        "INSERT INTO notification_outbox (message_id, tenant_id, recipient, subject,"
        " body) VALUES (%s, %s, %s, %s, %s)",
        (
            record.message_id,
            record.tenant_id,
            record.recipient,
            record.subject,
            record.body,
        ),
    )


@_write.register
def _(record: PersonErased, cursor: AnyCursor) -> None:
    destroy_key(cursor, record.tenant_id, record.account_id)
    cursor.execute(
        "DELETE FROM unique_claims WHERE tenant_id = %s AND scope = %s"
        " AND key = %s AND aggregate_id = %s",
        (record.tenant_id, EMAIL_CLAIM, record.email, record.account_id),
    )
    cursor.execute(
        "UPDATE notification_outbox SET recipient = %s, subject = %s, body = %s,"
        " next_attempt_at = NULL WHERE tenant_id = %s AND lower(recipient) = %s",
        (ERASED, ERASED, ERASED, record.tenant_id, record.email.lower()),
    )


@_write.register
def _(record: SessionStarted, cursor: AnyCursor) -> None:
    cursor.execute(
        "INSERT INTO identity_sessions (session_id, tenant_id, account_id,"
        " refresh_digest, expires_at, mfa_enrollment_pending)"
        " VALUES (%s, %s, %s, %s, %s, %s)",
        (
            record.session_id,
            record.tenant_id,
            record.account_id,
            record.refresh_digest,
            record.expires_at,
            record.mfa_enrollment_pending,
        ),
    )


@_write.register
def _(record: SessionsRevoked, cursor: AnyCursor) -> None:
    cursor.execute(
        "UPDATE identity_sessions SET revoked_at = now() WHERE account_id = %s"
        " AND (%s::uuid IS NULL OR session_id = %s) AND revoked_at IS NULL",
        (record.account_id, record.session_id, record.session_id),
    )


@_write.register
def _(record: ApiTokenStored, cursor: AnyCursor) -> None:
    cursor.execute(
        "INSERT INTO identity_api_tokens (token_id, tenant_id, digest, name, roles,"
        " scopes, expires_at, prefix) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        (
            record.token_id,
            record.tenant_id,
            record.digest,
            record.name,
            list(record.roles),
            list(record.scopes),
            record.expires_at,
            record.prefix,
        ),
    )


@_write.register
def _(record: ApiTokenRevoked, cursor: AnyCursor) -> None:
    cursor.execute(
        "UPDATE identity_api_tokens SET revoked_at = now() WHERE token_id = %s"
        " AND revoked_at IS NULL",
        (record.token_id,),
    )
