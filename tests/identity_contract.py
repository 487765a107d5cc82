"""The contract of the identity side records and the
:class:`~commands.identity.ports.IdentityDirectory`, one class for every
backend: subclass it and provide ``store`` (a ``LibraryEventStore``),
``directory`` (the directory reading what that store writes) and ``outbox``
(a function: message id → ``(recipient, subject, body)`` or ``None``).

Records ride on an organization's registration: any aggregate's events carry
them the same way.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

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
    RecoveryCodeSpent,
    RecoveryCodesReplaced,
    SessionsRevoked,
    SessionStarted,
    SideRecordRefusedError,
    TotpActivated,
    TotpCleared,
    TotpStepUsed,
)
from commands.ports import SideWrites
from domain.events import EventMeta
from domain.organization import Organization

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=30)


def tenant() -> str:
    return f"tenant-id-{uuid4().hex[:8]}"


def saved(tenant_id: str, email: str = "Ann@Example.COM", **kw) -> AccountSaved:
    values = {
        "account_id": uuid4(),
        "tenant_id": tenant_id,
        "email": email,
        "name": "Ann",
        "status": "active",
        "roles": ("auditor",),
        "organization_ids": (),
        "mfa_enrolled": False,
        **kw,
    }
    return AccountSaved(**values)


class IdentityContract:
    @pytest.fixture
    def store(self):
        raise NotImplementedError

    @pytest.fixture
    def directory(self, store):
        raise NotImplementedError

    @pytest.fixture
    def outbox(self, store):
        raise NotImplementedError

    def write(self, store, *records: IdentityRecord) -> Organization:
        """Append a new organization's events with ``records``."""
        meta = EventMeta(f"tenant-{uuid4().hex[:8]}", "alice", "req", "req")
        org = Organization.register(meta, "Carrier Ltd", "NL")
        store.append(org, side=SideWrites(records=records))
        return org

    def refused(self, store, *records: IdentityRecord) -> IdentityRecord:
        """Append ``records``, expecting a refusal that writes no event."""
        meta = EventMeta(f"tenant-{uuid4().hex[:8]}", "alice", "req", "req")
        org = Organization.register(meta, "Refused Ltd", "NL")
        with pytest.raises(SideRecordRefusedError) as refusal:
            store.append(org, side=SideWrites(records=records))
        assert store.load(Organization, org.id) is None, "no event was written"
        return refusal.value.record

    def account_with_token(self, store, purpose="invitation", expires_at=LATER):
        account = saved(tenant())
        digest = f"digest-{uuid4().hex}"
        self.write(
            store,
            account,
            OneTimeTokenIssued(
                digest, purpose, account.tenant_id, account.account_id, expires_at
            ),
        )
        return account, digest

    # --- accounts ----------------------------------------------------------

    def test_a_saved_account_reads_back_by_id_and_by_email(self, store, directory):
        org_id = uuid4()
        account = saved(tenant(), roles=("client_user",), organization_ids=(org_id,))
        carrier = self.write(store, account)

        got = directory.account(account.account_id)
        assert got is not None
        assert (got.email, got.roles, got.organization_ids) == (
            "ann@example.com",
            ("client_user",),
            (org_id,),
        )
        assert (got.password_hash, got.totp_secret, got.recovery_hashes) == (
            None,
            None,
            (),
        )
        assert directory.account_by_email(account.tenant_id, " ANN@example.com") == got
        assert directory.account_by_email(tenant(), "ann@example.com") is None
        assert store.load(Organization, carrier.id) is not None

    @pytest.mark.parametrize(
        "email", ["ann\x00@example.com", "ann\ud800@example.com", "\x00"]
    )
    def test_an_email_postgres_cannot_hold_is_no_accounts(
        self, store, directory, email
    ):
        account = saved(tenant())
        self.write(store, account)
        assert directory.account_by_email(account.tenant_id, email) is None
        assert directory.account_by_email(f"{account.tenant_id}\x00", email) is None

    def test_tenant_admins_are_the_active_accounts_holding_the_role(
        self, store, directory
    ):
        t = tenant()
        admin = saved(t, "a@example.com", roles=("tenant_admin", "auditor"))
        invited = saved(t, "i@example.com", roles=("tenant_admin",), status="invited")
        gone = saved(t, "g@example.com", roles=("tenant_admin",), status="deactivated")
        staff = saved(t, "s@example.com", roles=("programme_manager",))
        elsewhere = saved(tenant(), "a@example.com", roles=("tenant_admin",))
        self.write(store, admin, invited, gone, staff, elsewhere)

        assert directory.tenant_admins(t) == {admin.account_id}
        assert directory.tenant_admins(tenant()) == frozenset()

    def test_saving_again_keeps_the_credentials(self, store, directory):
        account = saved(tenant(), status="invited")
        self.write(store, account, PasswordHashSet(account.account_id, "hash-1"))
        again = AccountSaved(**{**vars(account), "status": "active", "name": "Bea"})
        self.write(store, again)
        got = directory.account(account.account_id)
        assert got is not None
        assert (got.status, got.name, got.password_hash) == ("active", "Bea", "hash-1")

    def test_a_credential_for_an_unknown_account_is_refused(self, store, directory):
        record = PasswordHashSet(uuid4(), "hash")
        assert self.refused(store, record) == record

    # --- one-time tokens ----------------------------------------------------

    def test_a_token_is_spent_once(self, store, directory):
        _, digest = self.account_with_token(store)
        self.write(store, OneTimeTokenUsed(digest, "invitation", NOW))
        token = directory.one_time_token(digest)
        assert token is not None
        assert (token.used_at, token.revoked) == (NOW, False)
        again = OneTimeTokenUsed(digest, "invitation", NOW + timedelta(seconds=1))
        assert self.refused(store, again) == again

    def test_an_expired_unknown_or_other_purpose_token_is_refused(
        self, store, directory
    ):
        _, digest = self.account_with_token(store, expires_at=NOW)
        self.refused(store, OneTimeTokenUsed(digest, "invitation", NOW))
        _, other = self.account_with_token(store)
        self.refused(store, OneTimeTokenUsed(other, "password_reset", NOW))
        self.refused(store, OneTimeTokenUsed("no-such-digest", "invitation", NOW))
        self.write(store, OneTimeTokenUsed(other, "invitation", NOW))

    def test_a_refusal_undoes_the_other_records_of_the_append(self, store, directory):
        newcomer = saved(tenant())
        message = OutboxMessage(uuid4(), newcomer.tenant_id, "a@b.eu", "Hi", "Body")
        self.refused(
            store,
            newcomer,
            message,
            OneTimeTokenUsed("no-such-digest", "invitation", NOW),
        )
        assert directory.account(newcomer.account_id) is None

    def test_issuing_a_token_revokes_the_earlier_one_of_that_purpose(
        self, store, directory
    ):
        account, first = self.account_with_token(store)
        second = f"digest-{uuid4().hex}"
        reset = f"digest-{uuid4().hex}"
        self.write(
            store,
            OneTimeTokenIssued(
                second, "invitation", account.tenant_id, account.account_id, LATER
            ),
            OneTimeTokenIssued(
                reset, "password_reset", account.tenant_id, account.account_id, LATER
            ),
        )
        assert directory.one_time_token(first).revoked
        self.refused(store, OneTimeTokenUsed(first, "invitation", NOW))
        assert not directory.one_time_token(reset).revoked

        self.write(store, OneTimeTokensRevoked(account.account_id))
        assert directory.one_time_token(second).revoked
        assert directory.one_time_token(reset).revoked
        assert directory.one_time_token("no-such-digest") is None

    def test_revoking_one_purpose_leaves_the_others(self, store, directory):
        account, invitation = self.account_with_token(store)
        mfa = f"digest-{uuid4().hex}"
        self.write(
            store,
            OneTimeTokenIssued(
                mfa, "mfa_login", account.tenant_id, account.account_id, LATER
            ),
            OneTimeTokensRevoked(account.account_id, "mfa_login"),
        )
        assert directory.one_time_token(mfa).revoked
        assert not directory.one_time_token(invitation).revoked

    def test_of_concurrent_spends_of_one_token_one_wins(self, store, directory):
        _, digest = self.account_with_token(store)
        start = threading.Barrier(4)
        outcomes: list[str] = []

        def spend() -> None:
            start.wait(timeout=10)
            try:
                self.write(store, OneTimeTokenUsed(digest, "invitation", NOW))
                outcomes.append("spent")
            except SideRecordRefusedError:
                outcomes.append("refused")

        threads = [threading.Thread(target=spend) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert sorted(outcomes) == ["refused", "refused", "refused", "spent"]

    # --- outbox ------------------------------------------------------------

    def test_an_outbox_message_is_written_with_the_events(self, store, outbox):
        message = OutboxMessage(uuid4(), tenant(), "ann@example.com", "Hi", "Link")
        self.write(store, message)
        assert outbox(message.message_id) == ("ann@example.com", "Hi", "Link")

    # --- TOTP and recovery codes -------------------------------------------

    def test_totp_steps_only_move_forward(self, store, directory):
        account = saved(tenant())
        self.write(store, account)
        directory.set_pending_totp(account.account_id, b"pending")
        assert directory.account(account.account_id).totp_pending == b"pending"
        self.write(
            store, TotpActivated(account.account_id, b"secret", 100, ("h1", "h2"))
        )
        got = directory.account(account.account_id)
        assert (got.totp_secret, got.totp_last_step, got.totp_pending) == (
            b"secret",
            100,
            None,
        )
        self.refused(store, TotpStepUsed(account.account_id, 100))
        self.write(store, TotpStepUsed(account.account_id, 101))
        self.refused(store, TotpStepUsed(account.account_id, 99))
        assert directory.account(account.account_id).totp_last_step == 101

    def test_a_recovery_code_is_spent_once(self, store, directory):
        account = saved(tenant())
        self.write(
            store, account, TotpActivated(account.account_id, b"s", 1, ("h1", "h2"))
        )
        self.write(store, RecoveryCodeSpent(account.account_id, "h1"))
        assert directory.account(account.account_id).recovery_hashes == ("h2",)
        self.refused(store, RecoveryCodeSpent(account.account_id, "h1"))
        self.write(store, RecoveryCodesReplaced(account.account_id, ("h3",)))
        self.refused(store, RecoveryCodeSpent(account.account_id, "h2"))
        assert directory.account(account.account_id).recovery_hashes == ("h3",)

    def test_clearing_totp_removes_secret_and_codes(self, store, directory):
        account = saved(tenant())
        self.write(store, account, TotpActivated(account.account_id, b"s", 7, ("h",)))
        directory.set_pending_totp(account.account_id, b"again")
        self.write(store, TotpCleared(account.account_id))
        got = directory.account(account.account_id)
        assert (got.totp_secret, got.totp_last_step, got.totp_pending) == (
            None,
            None,
            None,
        )
        assert got.recovery_hashes == ()
        self.write(store, TotpStepUsed(account.account_id, 1))

    # --- sessions ------------------------------------------------------------

    def session(self, store, account: AccountSaved, expires_at=LATER, pending=False):
        session_id, digest = uuid4(), f"rt-{uuid4().hex}"
        self.write(
            store,
            SessionStarted(
                session_id,
                account.tenant_id,
                account.account_id,
                digest,
                expires_at,
                pending,
            ),
        )
        return session_id, digest

    def test_a_refresh_token_rotates_once_and_its_reuse_revokes(self, store, directory):
        account = saved(tenant())
        session_id, first = self.session(store, account)

        second, third = f"rt-{uuid4().hex}", f"rt-{uuid4().hex}"
        rotation = directory.rotate_refresh(first, second, NOW)
        assert rotation.outcome == "rotated"
        assert rotation.session.session_id == session_id
        assert directory.rotate_refresh(second, third, NOW).outcome == "rotated"

        reuse = directory.rotate_refresh(first, "rt-x", NOW)
        assert (reuse.outcome, reuse.session.session_id) == ("reused", session_id)
        assert directory.session(session_id).revoked_at is not None
        assert directory.rotate_refresh(third, "rt-y", NOW).outcome == "revoked"
        assert directory.rotate_refresh(first, "rt-z", NOW).outcome == "revoked"
        assert directory.rotate_refresh("rt-unknown", "rt-w", NOW).outcome == (
            "unknown"
        )

    def test_an_expired_session_does_not_rotate(self, store, directory):
        _, digest = self.session(store, saved(tenant()), expires_at=NOW)
        rotation = directory.rotate_refresh(digest, f"rt-{uuid4().hex}", NOW)
        assert rotation.outcome == "expired"
        earlier = NOW - timedelta(seconds=1)
        again = directory.rotate_refresh(digest, f"rt-{uuid4().hex}", earlier)
        assert again.outcome == "rotated"

    def test_concurrent_rotations_of_one_token_rotate_once(self, store, directory):
        session_id, digest = self.session(store, saved(tenant()))
        start = threading.Barrier(2)
        outcomes: list[str] = []

        def rotate() -> None:
            start.wait(timeout=10)
            new = f"rt-{uuid4().hex}"
            outcomes.append(directory.rotate_refresh(digest, new, NOW).outcome)

        threads = [threading.Thread(target=rotate) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert sorted(outcomes) == ["reused", "rotated"]
        assert directory.session(session_id).revoked_at is not None

    def test_sessions_are_revoked_one_or_all(self, store, directory):
        account = saved(tenant())
        one, _ = self.session(store, account, pending=True)
        two, digest = self.session(store, account)
        other, _ = self.session(store, saved(tenant()))
        assert directory.session(one).mfa_enrollment_pending
        directory.finish_enrollment(one)
        assert not directory.session(one).mfa_enrollment_pending

        self.write(store, SessionsRevoked(account.account_id, one))
        assert directory.session(one).revoked_at is not None
        assert directory.session(two).revoked_at is None
        self.write(store, SessionsRevoked(account.account_id))
        assert directory.session(two).revoked_at is not None
        assert directory.session(other).revoked_at is None
        assert directory.rotate_refresh(digest, "rt-n", NOW).outcome == "revoked"
        assert directory.session(uuid4()) is None

    # --- API tokens ----------------------------------------------------------

    def api_token(self, store, tenant_id: str) -> tuple[UUID, str]:
        token_id, digest = uuid4(), f"at-{uuid4().hex}"
        self.write(
            store,
            ApiTokenStored(
                token_id, tenant_id, digest, "CI", ("auditor",), ("audit.read",), None
            ),
        )
        return token_id, digest

    def test_api_tokens_list_newest_first_within_the_tenant(self, store, directory):
        mine = tenant()
        first, digest = self.api_token(store, mine)
        second, _ = self.api_token(store, mine)
        self.api_token(store, tenant())

        assert [t.token_id for t in directory.api_tokens(mine)] == [second, first]
        token = directory.api_token(digest)
        assert (token.token_id, token.roles, token.scopes) == (
            first,
            ("auditor",),
            ("audit.read",),
        )
        self.write(store, ApiTokenRevoked(first))
        assert directory.api_token(digest).revoked_at is not None
        assert directory.api_token("at-unknown") is None

    def test_a_token_use_is_recorded_at_most_once_a_minute(self, store, directory):
        token_id, digest = self.api_token(store, tenant())
        directory.touch_api_token(token_id, NOW)
        directory.touch_api_token(token_id, NOW + timedelta(seconds=30))
        assert directory.api_token(digest).last_used_at == NOW
        directory.touch_api_token(token_id, NOW + timedelta(seconds=61))
        assert directory.api_token(digest).last_used_at == NOW + timedelta(seconds=61)
