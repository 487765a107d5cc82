"""Identity for end-to-end tests: servers that demand real tokens, the mail
the outbox sends, invitations, logins and authenticator-app codes.

Every test makes its own tenant and e-mail addresses (uuid), so tests never
see each other's people.

Servers built by :func:`token_server` run with ``env=test``: no development
headers, only ``Authorization: Bearer``. Their rate limits and login lockouts
count in their own Redis database (:data:`REDIS_DB`), so the failures these
tests provoke from 127.0.0.1 never add to the counts of other servers on the
machine, and the per-address limits are raised out of the way unless a test
sets them.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pyotp

from infra.bootstrap import Container
from infra.mail import EmlDirectorySender
from infra.postgres.outbox import PostgresOutbox
from infra.settings import Settings
from processors.mail import OutboxDispatcher
from tests.e2e.conftest import api_with

PASSWORD = "violet-harbour-lantern-42"
"""A password the policy accepts (long, not common, names nobody)."""
NEW_PASSWORD = "copper-meadow-whistle-77"
WEAK_PASSWORD = "Password123!"
"""Refused by the policy: ``password`` with digits and a symbol added."""
REDIS_DB = 4
"""The Redis database of these tests' servers (see the module docstring)."""
PROBLEM_JSON = "application/problem+json"


def unique_tenant(label: str) -> str:
    """A new tenant slug."""
    return f"id-{label}-{uuid.uuid4().hex[:10]}"


def unique_email(label: str) -> str:
    """A new e-mail address."""
    return f"{label}.{uuid.uuid4().hex[:10]}@e2e.example"


def private_redis(url: str, db: int = REDIS_DB) -> str:
    """``url`` with its database number replaced by ``db``."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{db}"))


@contextmanager
def token_server(
    settings: Settings, **overrides: Any
) -> Iterator[tuple[httpx.Client, Container]]:
    """A real server that authenticates only by token (``env=test``)."""
    values: dict[str, Any] = {
        "env": "test",
        "redis_url": private_redis(settings.redis_url),
        "address_failures_before_lockout": 10_000,
        "auth_attempts_per_minute": 10_000,
        **overrides,
    }
    with api_with(settings, **values) as (client, container):
        yield client, container


# --- mail ---------------------------------------------------------------------


class Mailbox:
    """The outbox as a person's inbox: ticks the real dispatcher into a
    directory of ``.eml`` files and reads the newest message to an address.

    Args:
        container: Whose database holds the outbox.
        directory: Where the messages are written.
    """

    def __init__(self, container: Container, directory: Path) -> None:
        self.directory = directory
        self.dispatcher = OutboxDispatcher(
            PostgresOutbox(container.database), EmlDirectorySender(directory)
        )

    def messages_to(self, address: str) -> list[EmailMessage]:
        """The messages written for ``address``, oldest first."""
        found = []
        for path in sorted(self.directory.glob("*.eml")):  # named by time sent
            message = message_from_bytes(path.read_bytes(), policy=policy.default)
            assert isinstance(message, EmailMessage)
            if str(message["To"]).strip().lower() == address.lower():
                found.append(message)
        return found

    def token(self, address: str, prefix: str, timeout: float = 15.0) -> str:
        """The ``Token:`` line of the newest message to ``address`` whose
        token starts with ``prefix`` (``ah_inv_``, ``ah_reset_``)."""
        deadline = time.monotonic() + timeout
        while True:
            self.dispatcher.tick()
            for message in reversed(self.messages_to(address)):
                token = token_in(message)
                if token is not None and token.startswith(prefix):
                    return token
            assert time.monotonic() < deadline, f"no {prefix} mail to {address}"
            time.sleep(0.1)


def token_in(message: EmailMessage) -> str | None:
    """The token on the message's ``Token:`` line, if it has one."""
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    for line in str(body.get_content()).splitlines():
        if line.startswith("Token: "):
            return line.removeprefix("Token: ").strip()
    return None


# --- people -------------------------------------------------------------------


def bearer(access_token: str) -> dict[str, str]:
    """The header that presents ``access_token``."""
    return {"Authorization": f"Bearer {access_token}"}


def invite_platform_admin(
    container: Container, email: str, name: str = "Pat Platform"
) -> uuid.UUID:
    """Invite a platform administrator the way the CLI does; the account id."""
    accepted = container.services.tenants.invite_platform_admin(
        email, name, f"e2e-{uuid.uuid4()}"
    )
    return accepted.id


def accept_invitation(
    client: httpx.Client, mailbox: Mailbox, email: str, password: str = PASSWORD
) -> httpx.Response:
    """Accept the newest invitation mailed to ``email`` (asserts it worked)."""
    token = mailbox.token(email, "ah_inv_")
    answer = client.post(
        "/auth/invitations/accept", json={"token": token, "password": password}
    )
    assert answer.status_code == 200, answer.text
    return answer


def login(
    client: httpx.Client, tenant: str, email: str, password: str = PASSWORD
) -> dict[str, Any]:
    """Log in (first step); the answer's JSON (tokens or an MFA challenge)."""
    answer = client.post(
        "/auth/login", json={"tenant": tenant, "email": email, "password": password}
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    body: dict[str, Any] = answer.json()
    return body


@dataclass
class Person:
    """Someone with an account, as their client sees them."""

    tenant: str
    email: str
    password: str = PASSWORD
    tokens: dict[str, Any] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        """The current access token as a header."""
        return bearer(self.tokens["access_token"])

    def log_in(self, client: httpx.Client) -> Person:
        """Log in with the password only (no MFA); keeps the tokens."""
        self.tokens = login(client, self.tenant, self.email, self.password)
        assert self.tokens["status"] == "authenticated", self.tokens
        return self


def join(client: httpx.Client, mailbox: Mailbox, tenant: str, email: str) -> Person:
    """Accept the invitation mailed to ``email`` and log in."""
    accept_invitation(client, mailbox, email)
    return Person(tenant, email).log_in(client)


def platform_admin(
    client: httpx.Client, container: Container, mailbox: Mailbox
) -> Person:
    """A new platform administrator, invited, joined and logged in."""
    email = unique_email("operator")
    invite_platform_admin(container, email)
    return join(client, mailbox, "platform", email)


def new_tenant(
    client: httpx.Client, operator: Person, mailbox: Mailbox, label: str
) -> Person:
    """A new tenant created by ``operator``; its administrator, logged in."""
    tenant, email = unique_tenant(label), unique_email("chief")
    created = client.post(
        "/platform/tenants",
        json={
            "tenant_id": tenant,
            "name": f"Tenant {label}",
            "administrator": {"email": email, "name": "Chris Chief"},
        },
        headers=operator.headers,
    )
    assert created.status_code == 201, created.text
    return join(client, mailbox, tenant, email)


def invite(
    client: httpx.Client,
    admin: Person,
    label: str,
    roles: list[str],
    organizations: list[str] | None = None,
) -> tuple[str, dict[str, Any]]:
    """Invite a person to ``admin``'s tenant; their e-mail and the answer."""
    email = unique_email(label)
    answer = client.post(
        "/users/invitations",
        json={
            "email": email,
            "name": f"{label.title()} Person",
            "roles": roles,
            "organization_ids": organizations or [],
        },
        headers=admin.headers,
    )
    assert answer.status_code == 201, answer.text
    return email, answer.json()


# --- second factor --------------------------------------------------------------


class AuthenticatorApp:
    """A TOTP app: each code it gives is for a later time step than the last,
    never for a step that has passed, so the server accepts each once.

    Codes are for the current step or the next (the server allows one step of
    drift); when both are spent it waits, bounded, for the next step.
    """

    def __init__(self, secret: str, clock: Callable[[], float] = time.time) -> None:
        self.totp = pyotp.TOTP(secret)
        self._clock = clock
        self._last: int | None = None
        self.last_code: str | None = None

    def code(self) -> str:
        """A code the server has not accepted yet."""
        step = self.totp.timecode(self._clock())
        if self._last is not None and self._last >= step + 1:
            deadline = time.monotonic() + self.totp.interval + 5
            while self.totp.timecode(self._clock()) < self._last:
                assert time.monotonic() < deadline, "the TOTP clock did not move"
                time.sleep(0.2)
            step = self.totp.timecode(self._clock())
        wanted = step if self._last is None or self._last < step else self._last + 1
        self.last_code = self.totp.generate_otp(wanted)
        self._last = wanted
        return self.last_code

    def wrong_code(self) -> str:
        """Six digits no step within the drift window has."""
        step = self.totp.timecode(self._clock())
        near = {self.totp.generate_otp(step + offset) for offset in range(-2, 3)}
        return next(c for c in (f"{n:06d}" for n in range(1_000_000)) if c not in near)


def enroll(client: httpx.Client, person: Person) -> tuple[AuthenticatorApp, list[str]]:
    """Enroll ``person`` in TOTP; their app and recovery codes."""
    started = client.post("/me/mfa/totp", headers=person.headers)
    assert started.status_code == 200, started.text
    app = AuthenticatorApp(started.json()["secret"])
    confirmed = client.post(
        "/me/mfa/totp/confirm", json={"code": app.code()}, headers=person.headers
    )
    assert confirmed.status_code == 200, confirmed.text
    return app, confirmed.json()["recovery_codes"]


def wait_until(probe: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    """Call ``probe`` until it returns something truthy; return that."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def security_events(
    client: httpx.Client, reader: Person, kind: str, subject_id: str | None = None
) -> list[dict[str, Any]]:
    """The reader's tenant's security events of ``kind`` (newest first)."""
    params = {"kind": kind, "limit": "200"}
    if subject_id is not None:
        params["subject_id"] = subject_id
    answer = client.get("/security-events", params=params, headers=reader.headers)
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    return items


def assert_refusal(answer: httpx.Response, status: int, *secrets: str) -> None:
    """``answer`` is a problem+json with ``status`` that shows none of ``secrets``."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith(PROBLEM_JSON), answer.headers
    assert answer.json()["status"] == status
    for secret in secrets:
        assert secret not in answer.text, f"{secret!r} leaked in {answer.text}"
