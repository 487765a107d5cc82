"""The identity services wired over the in-memory twins, for the
``test_identity_*`` modules (this module holds no tests itself).

Real crypto adapters everywhere except the password hash, which is a cheap
fake here (one test uses the real argon2 adapter); a small counting guard
stands in for Redis.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pyotp

from commands.context import CommandContext
from commands.identity.accounts import AcceptInvitation, AccountService, Invite
from commands.identity.api_tokens import ApiTokenService
from commands.identity.mfa import MfaService
from commands.identity.sessions import LoginAttempt, SessionService, TokenPair
from commands.identity.tenants import CreateTenant, TenantService
from commands.tenant_settings import TenantCalendar, TenantSettingsService
from domain.principal import Principal, Role
from infra.eventstore.memory import in_memory_env, memory_identity
from infra.eventstore.store import LibraryEventStore
from infra.identity.crypto import (
    HmacRecoveryCodes,
    JwtIssuer,
    OpaqueSecrets,
    SecurityTotp,
)
from infra.identity.security.tokens import AccessTokens
from infra.identity.security.totp import RecoveryCodes, Totp, TotpSecrets

TENANT = "acme-cert"
PASSWORD = "correct horse battery staple"
START = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)
PLATFORM_ADMIN = Principal(
    "platform", "11111111-1111-1111-1111-111111111111", frozenset({Role.PLATFORM_ADMIN})
)


class CheapPasswords:
    """Passwords with a transparent 'hash'; counts verifications."""

    def __init__(self) -> None:
        self.verifications = 0

    def hash(self, password: str) -> str:
        return "cheap$" + password

    def verify(self, password_hash: str, password: str) -> bool:
        self.verifications += 1
        return password_hash == "cheap$" + password

    def verify_absent(self, password: str) -> bool:
        self.verifications += 1
        return False

    def weakness(self, password: str, email: str, name: str) -> str | None:
        return "Use at least 12 characters." if len(password) < 12 else None


class CountingGuard:
    """Locks a key out for 60 s once it reaches ``limit`` failures."""

    def __init__(self, limit: int = 3) -> None:
        self.limit = limit
        self.failures: Counter[str] = Counter()
        self.locked: set[str] = set()
        self.in_flight: set[str] = set()

    def blocked(self, keys):
        return 60.0 if any(k in self.locked for k in keys) else None

    def failed(self, keys):
        started = False
        for key in keys:
            self.failures[key] += 1
            if self.failures[key] >= self.limit and key not in self.locked:
                self.locked.add(key)
                started = True
        return 60.0 if started else None

    def succeeded(self, keys):
        for key in keys:
            self.failures.pop(key, None)

    def begin(self, key):
        if key in self.in_flight:
            return False
        self.in_flight.add(key)
        return True

    def end(self, key):
        self.in_flight.discard(key)


class FixedClock:
    def __init__(self, now: datetime = START) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


class World:
    """Every identity service over one in-memory store."""

    def __init__(self, passwords=None, guard_limit: int = 3) -> None:
        self.store = LibraryEventStore(in_memory_env())
        self.directory = memory_identity(self.store)
        self.clock = FixedClock()
        self.passwords = passwords or CheapPasswords()
        self.guard = CountingGuard(guard_limit)
        secrets = OpaqueSecrets()
        self.totp = SecurityTotp(TotpSecrets(b"k" * 32), Totp())
        self.recovery = HmacRecoveryCodes(RecoveryCodes(b"r" * 32))
        self.issuer = JwtIssuer(
            AccessTokens(
                b"j" * 32,
                "https://api.test",
                "assurehub",
                300,
                clock=lambda: self.clock.now().timestamp(),
            )
        )
        base = "https://app.test"
        self.tenants = TenantService(self.store, secrets, self.clock, base)
        self.accounts = AccountService(
            self.store,
            self.directory,
            self.passwords,
            secrets,
            self.clock,
            base,
            guard=self.guard,
        )
        self.sessions = SessionService(
            self.store,
            self.directory,
            self.passwords,
            secrets,
            self.issuer,
            self.totp,
            self.recovery,
            self.guard,
            self.clock,
        )
        self.mfa = MfaService(
            self.store, self.directory, self.totp, self.recovery, self.guard, self.clock
        )
        self.api_tokens = ApiTokenService(
            self.store, self.directory, secrets, self.clock
        )
        self.settings = TenantSettingsService(self.store, TenantCalendar(self.store))

    # --- callers ---------------------------------------------------------------

    def ctx_of(
        self, account_id: UUID, session_id: UUID | None = None
    ) -> CommandContext:
        """A context like the edge builds from the account row."""
        row = self.directory.account(account_id)
        assert row is not None
        principal = Principal(
            row.tenant_id,
            str(account_id),
            frozenset(Role(r) for r in row.roles),
            session_id=str(session_id) if session_id else None,
        )
        return CommandContext(principal, "req-test")

    # --- flows -----------------------------------------------------------------

    def create_tenant(self, slug: str = TENANT) -> UUID:
        """A tenant with an active administrator; the admin's account id."""
        created = self.tenants.create_tenant(
            CommandContext(PLATFORM_ADMIN, "req-create"),
            CreateTenant(slug, "Acme Certification", f"admin@{slug}.test", "Ada Admin"),
        )
        self.accounts.accept_invitation(
            AcceptInvitation(self.mailed_token(f"admin@{slug}.test"), PASSWORD), "r"
        )
        return created.account.id

    def active_user(
        self,
        admin: UUID,
        email: str = "rita@example.com",
        roles: frozenset[str] = frozenset({Role.AUDITOR}),
    ) -> UUID:
        invited = self.accounts.invite(self.ctx_of(admin), Invite(email, "Rita", roles))
        self.accounts.accept_invitation(
            AcceptInvitation(self.mailed_token(email), PASSWORD), "r"
        )
        return invited.id

    def login(self, email: str = "rita@example.com", password: str = PASSWORD, **kw):
        return self.sessions.login(
            LoginAttempt(kw.pop("tenant", TENANT), email, password, **kw), "req-login"
        )

    def logged_in(
        self, email: str = "rita@example.com", tenant: str = TENANT
    ) -> TokenPair:
        pair = self.login(email, tenant=tenant)
        assert isinstance(pair, TokenPair)
        return pair

    # --- what a user or auditor would see ---------------------------------------

    def mailed_token(self, recipient: str) -> str:
        """The token in the last e-mail to ``recipient``."""
        mails = [m for m in self.directory.outbox if m.recipient == recipient]
        assert mails, f"no mail to {recipient}"
        match = re.search(r"^Token: (\S+)$", mails[-1].body, re.MULTILINE)
        assert match is not None
        return match[1]

    def events(self, kind: str | None = None) -> list:
        stored = self.store.read_after(0, 10_000)
        # As the aggregate sees them: personal fields opened.
        decoded = [self.store.app.mapper.to_domain_event(s) for s in stored]
        return [e for e in decoded if kind in (None, getattr(e, "TYPE", None))]

    def code_at(self, secret: str, offset_steps: int = 0) -> str:
        moment = self.clock.now() + timedelta(seconds=30 * offset_steps)
        return pyotp.TOTP(secret).at(moment)
