"""Login and password-reset requests whose e-mail holds text Postgres cannot
hold (a NUL, an unpaired surrogate) are refused with a 422 naming the e-mail,
like any other text that is not an e-mail address, and write nothing."""

from __future__ import annotations

import json
import random
import uuid

import pytest

from commands.context import CommandContext
from commands.identity.accounts import Invite
from domain.principal import Principal, Role

PROBLEM = "application/problem+json"
BAD = ["\x00", "\ud800", "\udfff"]
"""Inserted into an account's real e-mail."""


def post(http, path: str, body: dict[str, str]):
    """POST ``body`` as JSON with non-ASCII escaped (``\\ud800``), as a
    client may send it (httpx alone cannot encode an unpaired surrogate)."""
    return http.post(
        path,
        content=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **fresh_address()},
    )


def fresh_address() -> dict[str, str]:
    """A client address of its own: attempts are limited per address."""
    return {
        "X-Forwarded-For": f"198.19.{random.randrange(256)}.{random.randrange(1, 255)}"
    }


@pytest.fixture(scope="module")
def account(pipeline) -> tuple[str, str]:
    """A tenant and the e-mail of an account of it."""
    tenant = f"e2e-bad-text-{uuid.uuid4().hex[:8]}"
    email = f"ann.{uuid.uuid4().hex[:8]}@example.test"
    admin = CommandContext(
        Principal(tenant, "e2e-setup", frozenset({Role.TENANT_ADMIN})), "e2e-setup"
    )
    pipeline.services.accounts.invite(admin, Invite(email, "Ann Example", ("auditor",)))
    return tenant, email


def refused_naming_the_email(r) -> None:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == PROBLEM
    assert [e["field"] for e in r.json()["errors"]] == ["email"]


@pytest.mark.parametrize("bad", BAD)
def test_a_login_with_such_an_email_is_422_naming_it(http, pipeline, account, bad):
    tenant, email = account
    head = pipeline.event_store.head()
    for sent in (email.replace("@", f"{bad}@"), bad):
        body = {"tenant": tenant, "email": sent, "password": "not the password"}
        r = post(http, "/auth/login", body)
        refused_naming_the_email(r)
    assert pipeline.event_store.head() == head


@pytest.mark.parametrize("bad", BAD)
def test_a_reset_request_with_such_an_email_is_422_naming_it(
    http, pipeline, account, bad
):
    tenant, email = account
    head = pipeline.event_store.head()
    for sent in (email.replace("@", f"{bad}@"), bad):
        r = post(http, "/auth/password-resets", {"tenant": tenant, "email": sent})
        refused_naming_the_email(r)
    assert pipeline.event_store.head() == head
