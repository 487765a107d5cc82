"""Every operation of the OpenAPI document, called as every tenant role and
from another tenant, answers as the permission table says.

Expected answers come from ``domain.access.PERMISSIONS`` and each operation's
``x-permission``, never from a list of routes:

- a role without the permission → 403 problem naming the permission;
- a role with it, in the tenant that owns the ids → not 401/403/404 (reads
  answer 200; commands may also answer 409/412/422 to a rule or value of a
  minimal body, but never reject the body's shape);
- the other tenant, holding every role → 404 problem, identical (up to the
  ids it sent) to the answer for ids that exist nowhere; where the request
  names none of the owner's ids (lists, creations), a 2xx naming nothing of
  the owner's.

The routes of the caller's own account (``self:manage``: ``/me``, logout)
act on the account the caller *is*: a person's actor id is their account id,
so they are sent as the world's invited account (``X-Dev-Actor``), and from
the other tenant as that tenant's own account. Such a caller's commands may
also answer 400 to a secret of the minimal body (no current password, no
valid code), and logout, which ends the caller's login session, answers 404
to development headers, which carry none.

Reads run against one shared pair of worlds; refused commands write nothing,
so they share them too; each admitted command runs against a fresh world.
Further down: when the body is checked relative to the permission, the
caller's own account, the public routes (anyone; a bad secret gets its 4xx,
the same whether or not the e-mail has an account), and callers limited to
one organization or one audit (``X-Dev-Organizations``, ``X-Dev-Audits``),
who get 404 outside their scope; and, in histories, other people's names and
personal fields shown only to the roles ``personal_data:read`` grants.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from domain.access import PERMISSIONS, Permission
from domain.account import Account
from domain.events import EventMeta
from domain.organization import Organization
from domain.principal import CLIENT_ROLES, Role
from tests.e2e.conftest import as_user
from tests.e2e.world import (
    CLAUSE,
    LEAD,
    PDF,
    World,
    build_world,
    new_tenant,
    path_values,
    unique_email,
    utc_today,
)

PROBLEM = "application/problem+json"
PUBLIC = "public"
SELF = Permission.SELF_SERVICE.value
TENANT_ROLES = tuple(r for r in Role if r is not Role.PLATFORM_ADMIN)
WAIT_SECONDS = 90
RULE_ANSWERS = frozenset({409, 412, 422})
SECRET_REFUSALS = frozenset({"auth.wrong_password", "auth.invalid_otp"})
"""Problem codes (status 400) of a caller's own command whose body carries a
secret the minimal body cannot know: the current password, a TOTP code."""
NEEDS_A_SESSION = frozenset({"POST /auth/logout"})
"""Self-service commands on the caller's login session: development headers
carry none, so the admitted answer to them is a 404 problem."""
PUBLIC_ANSWERS: dict[str, tuple[int, str | None]] = {
    "POST /auth/login": (401, "auth.login_refused"),
    "POST /auth/login/mfa": (401, "auth.login_refused"),
    "POST /auth/refresh": (401, "auth.refresh_refused"),
    "POST /auth/invitations/accept": (400, "auth.invalid_token"),
    "POST /auth/password-resets": (202, None),
    "POST /auth/password-resets/confirm": (400, "auth.invalid_token"),
}
"""What a public route that takes a secret answers the minimal body (a
wrong password, made-up tokens), and its problem code: the OpenAPI document
does not say. Asking for a reset link is 202 whatever the e-mail."""
CROSS_FIELD = {"POST /auth/login/mfa": {"code": "492039"}}
"""Body fields a rule across fields requires, which the schema cannot say
(the second login step takes exactly one of ``code`` and ``recovery_code``)."""


@dataclass(frozen=True)
class Operation:
    """One method on one path of the OpenAPI document."""

    method: str
    path: str
    permission: str
    request_body: dict[str, Any] | None
    parameters: tuple[dict[str, Any], ...] = ()

    def __str__(self) -> str:
        return f"{self.method.upper()} {self.path}"

    @property
    def granted(self) -> frozenset[Role]:
        return PERMISSIONS[Permission(self.permission)]

    @property
    def path_names(self) -> list[str]:
        return re.findall(r"{(\w+)}", self.path)

    @property
    def is_read(self) -> bool:
        return self.method == "get"

    @property
    def is_self_service(self) -> bool:
        return self.permission == SELF


def operations(spec: dict[str, Any]) -> list[Operation]:
    return [
        Operation(
            method,
            path,
            op["x-permission"],
            op.get("requestBody"),
            tuple(op.get("parameters", ())),
        )
        for path, methods in spec["paths"].items()
        for method, op in methods.items()
    ]


def _body_ids(op: Operation, world: World) -> dict[str, Any]:
    """Values for body fields that name a record of the world. The public
    routes name the world's tenant, its account's e-mail and its
    certificate's verification code; any other e-mail or new tenant is one
    nobody has, so that each call can succeed."""
    public = {
        "tenant": world.tenant,
        "email": world.account_email,
        "code": world.verification_code,
    }
    if not op.path.startswith(("/auth/", "/public/")):
        public = {"email": unique_email("matrix-new")}
    # A report is laid out by the report template, certificates by the other.
    reports = op.path.endswith("/documents")
    layout = world.report_template if reports else world.document_template
    return {
        **public,
        "tenant_id": new_tenant("matrix-new"),
        "organization_id": str(world.organization),
        "standard_template_id": str(world.standard_template),
        "audit_id": str(world.decided_audit),
        "site_id": str(world.sites[0]),
        "site_ids": [str(s) for s in world.sites],
        "clause_id": CLAUSE,
        "number": world.certificate_number,
        "template_id": str(layout),
    }


def example(
    spec: dict[str, Any], schema: dict[str, Any], name: str, ids: dict[str, Any]
):
    """A value for ``schema``: the world's id for a field naming a record
    (``ids``), else the documented example, else the smallest value the
    schema admits."""
    if name in ids:
        return ids[name]
    if "$ref" in schema and not schema.get("examples"):
        return example(spec, resolve(spec, schema["$ref"]), name, ids)
    kind = schema.get("type")
    if schema.get("examples") and kind != "object":
        return schema["examples"][0]
    if "enum" in schema:
        return schema["enum"][0]
    if "anyOf" in schema:
        branch = next(s for s in schema["anyOf"] if s.get("type") != "null")
        return example(spec, branch, name, ids)
    if kind == "object":  # field by field: a whole-object example names no world
        required = schema.get("required", [])
        props = schema.get("properties", {})
        return {k: example(spec, props[k], k, ids) for k in required}
    if kind == "array":
        item = example(spec, schema["items"], name, ids)
        return [item] * max(1, schema.get("minItems", 1))
    if kind == "integer":
        return int(schema.get("minimum", 1))
    if kind == "boolean":
        return True
    if schema.get("format") == "date":
        return utc_today().isoformat()
    return "x" * max(1, schema.get("minLength", 1))


def resolve(spec: dict[str, Any], ref: str) -> dict[str, Any]:
    return spec["components"]["schemas"][ref.rsplit("/", 1)[1]]


def body_of(spec: dict[str, Any], op: Operation, world: World) -> dict[str, Any]:
    """httpx arguments for a minimal valid body (none if it is optional)."""
    body = op.request_body
    if body is None or not body.get("required"):
        return {}
    [(media_type, content)] = body["content"].items()
    value = example(spec, content["schema"], "body", _body_ids(op, world))
    if media_type == "application/json":
        return {"json": {**value, **CROSS_FIELD.get(str(op), {})}}
    assert media_type == "multipart/form-data", (str(op), media_type)
    schema = resolve(spec, content["schema"]["$ref"])
    files = {
        k: ("matrix.pdf", PDF, "application/pdf")
        for k, s in schema["properties"].items()
        if s.get("contentMediaType") or s.get("format") == "binary"
    }
    return {"files": files, "data": {k: v for k, v in value.items() if k not in files}}


def query_of(spec: dict[str, Any], op: Operation, world: World) -> dict[str, Any]:
    """A value for each required query parameter (the world's, where one
    fits): the link form of certificate verification takes number and code."""
    ids = _body_ids(op, world)
    return {
        p["name"]: example(spec, p["schema"], p["name"], ids)
        for p in op.parameters
        if p["in"] == "query" and p.get("required")
    }


def call(
    client: httpx.Client,
    spec: dict[str, Any],
    op: Operation,
    world: World,
    headers: dict[str, str],
) -> httpx.Response:
    """Send ``op`` with ``world``'s ids; a read that takes ``min_position``
    waits (retrying 503) until its read model holds the world, as a client
    reading its own writes would."""
    url = op.path.format(**path_values(op.path, world))
    waits = any(p["name"] == "min_position" for p in op.parameters)
    params = {
        **({"min_position": world.position} if waits else {}),
        **query_of(spec, op, world),
    }
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        r = client.request(
            op.method.upper(),
            url,
            headers=headers,
            params=params,
            **body_of(spec, op, world),
        )
        if not (op.is_read and r.status_code == 503) or time.monotonic() > deadline:
            return r
        time.sleep(float(r.headers.get("retry-after", "1")))


def sent(request: httpx.Request, world: World) -> set[str]:
    """The markers of ``world`` a request carried (it may hear them back):
    in its URL, its body or the actor it claims to be."""
    text = str(request.url) + request.headers.get("x-dev-actor", "")
    text += request.read().decode("utf-8", "replace")
    return set(world.leaked(text))


def normalised(response: httpx.Response, world: World) -> str:
    """The answer with ``world``'s ids and names replaced by what they name."""
    text = response.text
    for name, value in world.markers().items():
        text = text.replace(value, f"<{name}>")
    return text


class Verdicts:
    """Collects every unexpected answer, so that one run shows them all."""

    def __init__(self) -> None:
        self.wrong: list[str] = []

    def expect(self, ok: bool, op: Operation, who: str, r: httpx.Response) -> None:
        if not ok:
            self.wrong.append(f"{op} as {who}: {r.status_code} {r.text[:300]}")

    def refused(self, op: Operation, who: str, r: httpx.Response) -> None:
        """403 problem naming the operation's permission."""
        ok = (
            r.status_code == 403
            and r.headers["content-type"] == PROBLEM
            and r.json().get("permission") == op.permission
        )
        self.expect(ok, op, who, r)

    def admitted(self, op: Operation, who: str, r: httpx.Response) -> None:
        """Reads answer 200; commands a 2xx or a rule/value answer, but never
        a rejection of the body's shape (the minimal body must be valid).
        The caller's own commands may also refuse a secret of the body, and
        those on its session answer 404 to development headers."""
        if op.is_read:
            self.expect(r.status_code == 200, op, who, r)
            return
        problem = r.json() if r.headers.get("content-type") == PROBLEM else {}
        if str(op) in NEEDS_A_SESSION:
            no_session = "session" in problem.get("detail", "")
            self.expect(r.status_code == 404 and no_session, op, who, r)
            return
        shape = r.status_code == 422 and any(
            "in" in e for e in problem.get("errors", ())
        )
        secret = (
            op.is_self_service
            and r.status_code == 400
            and problem.get("code") in SECRET_REFUSALS
        )
        ok = 200 <= r.status_code < 300 or r.status_code in RULE_ANSWERS or secret
        self.expect(ok and not shape, op, who, r)

    def hidden(
        self,
        op: Operation,
        who: str,
        r: httpx.Response,
        ghost_r: httpx.Response,
        owner: World,
        ghost: World,
    ) -> None:
        """404 problem, naming nothing of the owner's it was not sent, and
        the same answer as for ids that exist nowhere."""
        leaked = set(owner.leaked(r.text)) - sent(r.request, owner)
        ok = (
            r.status_code == 404
            and r.headers["content-type"] == PROBLEM
            and not leaked
            and normalised(r, owner) == normalised(ghost_r, ghost)
        )
        self.expect(ok, op, f"{who} (leaked {sorted(leaked)})", r)

    def own_only(self, op: Operation, who: str, r: httpx.Response, owner: World):
        """2xx naming nothing of ``owner``'s."""
        ok = 200 <= r.status_code < 300 and not owner.leaked(r.text)
        self.expect(ok, op, f"{who} (leaked {owner.leaked(r.text)})", r)

    def own_account(
        self, op: Operation, who: str, r: httpx.Response, owner: World
    ) -> None:
        """What the caller's own account answers, naming nothing of
        ``owner``'s."""
        self.admitted(op, who, r)
        leaked = owner.leaked(r.text)
        self.expect(not leaked, op, f"{who} (leaked {leaked})", r)

    def keeps_secret(self, op: Operation, who: str, r: httpx.Response, world: World):
        """An API token is shown once, when issued: no answer holds it."""
        ok = world.api_token_secret not in r.text
        self.expect(ok, op, f"{who} (showed the API token)", r)

    def check(self) -> None:
        assert not self.wrong, "\n".join(self.wrong)


@pytest.fixture(scope="module")
def client(base_url) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=30) as c:
        yield c


@pytest.fixture(scope="module")
def spec(client) -> dict[str, Any]:
    r = client.get("/openapi.json")
    assert r.status_code == 200
    return r.json()


@pytest.fixture(scope="module")
def worlds(client, pipeline) -> tuple[World, World]:
    """Tenant A's world and tenant B's, each with a record of every kind."""
    return (
        build_world(client, pipeline, new_tenant("matrix-a")),
        build_world(client, pipeline, new_tenant("matrix-b")),
    )


def as_role(world: World, op: Operation, *roles: str) -> dict[str, str]:
    """Development headers for ``roles`` in ``world``'s tenant, as its
    account for the routes of the caller's own account."""
    actor = str(world.account) if op.is_self_service else "alice"
    return as_user(world.tenant, *roles, actor=actor)


def everyone_in(world: World, op: Operation | None = None) -> dict[str, str]:
    """Every tenant role in ``world``'s tenant (as its account for ``op`` of
    the caller's own account)."""
    actor = str(world.account) if op and op.is_self_service else "bob"
    return as_user(world.tenant, *TENANT_ROLES, actor=actor)


def for_tenant_roles(op: Operation) -> bool:
    """Whether a tenant role holds ``op``'s permission (creating tenants is
    the platform administrators' alone)."""
    return bool(op.granted & set(TENANT_ROLES))


def guarded(spec: dict[str, Any]) -> list[Operation]:
    return [op for op in operations(spec) if op.permission != PUBLIC]


def test_every_operation_declares_a_permission_of_the_table(spec):
    ops = operations(spec)
    assert len(ops) > 50
    for op in ops:
        assert op.permission == PUBLIC or op.granted, str(op)


def test_every_read_answers_each_role_and_tenant_as_the_table_says(
    client, spec, worlds
):
    a, b = worlds
    ghost = a.ghost()
    verdicts = Verdicts()
    reads = [op for op in guarded(spec) if op.is_read]
    assert len(reads) >= 14
    for op in reads:
        for role in TENANT_ROLES:
            r = call(client, spec, op, a, as_role(a, op, role))
            verdicts.keeps_secret(op, role, r, a)
            if role in op.granted:
                verdicts.admitted(op, role, r)
            else:
                verdicts.refused(op, role, r)
        r = call(client, spec, op, a, everyone_in(b, op))
        verdicts.keeps_secret(op, "tenant B", r, b)
        if not for_tenant_roles(op):
            verdicts.refused(op, "tenant B", r)
        elif op.path_names:
            ghost_r = call(client, spec, op, ghost, everyone_in(b))
            verdicts.hidden(op, "tenant B", r, ghost_r, a, ghost)
        else:
            verdicts.own_only(op, "tenant B", r, a)
    verdicts.check()


def test_a_command_refuses_every_role_without_its_permission_and_writes_nothing(
    client, spec, worlds, pipeline
):
    a, _ = worlds
    verdicts = Verdicts()
    head = pipeline.event_store.head()
    commands = [op for op in guarded(spec) if not op.is_read]
    assert len(commands) >= 40
    for op in commands:
        for role in TENANT_ROLES:
            if role not in op.granted:
                verdicts.refused(
                    op, role, call(client, spec, op, a, as_role(a, op, role))
                )
    verdicts.check()
    assert pipeline.event_store.head() == head


def test_a_command_on_another_tenants_records_is_404_and_writes_nothing(
    client, spec, worlds, pipeline
):
    a, b = worlds
    ghost = a.ghost()
    verdicts = Verdicts()
    for op in guarded(spec):
        if op.is_read:
            continue
        head = pipeline.event_store.head()
        r = call(client, spec, op, a, everyone_in(b, op))
        if not for_tenant_roles(op):
            verdicts.refused(op, "tenant B", r)
            verdicts.expect(pipeline.event_store.head() == head, op, "wrote", r)
        elif sent(r.request, a):
            ghost_r = call(client, spec, op, ghost, everyone_in(b, op))
            verdicts.hidden(op, "tenant B", r, ghost_r, a, ghost)
            verdicts.expect(pipeline.event_store.head() == head, op, "wrote", r)
        elif op.is_self_service:
            verdicts.own_account(op, "tenant B (its own account)", r, a)
        else:
            verdicts.own_only(op, "tenant B (in its own tenant)", r, a)
    verdicts.check()


@pytest.mark.timeout(360)  # a fresh world per command and granted role
def test_a_command_admits_every_role_with_its_permission(client, spec, pipeline):
    """Each role the table grants a command's permission sends it, each on a
    fresh world of its own (the command may change what the next would see)."""
    verdicts = Verdicts()
    for op in guarded(spec):
        if op.is_read:
            continue
        for role in sorted(op.granted):
            world = build_world(client, pipeline, new_tenant("matrix-ok"))
            r = call(client, spec, op, world, as_role(world, op, role))
            verdicts.admitted(op, role, r)
    verdicts.check()


def test_the_permission_is_checked_before_the_body_unless_it_cannot_be_parsed(
    client, spec, worlds, pipeline
):
    """FastAPI reads and parses the body before any dependency runs, and
    validates its fields after them. So a body of the wrong shape gets 401
    or 403 first; but malformed JSON (or malformed multipart) is answered
    422 (400) to anyone, even a caller with no credentials. That answer is
    the same whoever asks and whatever the ids: it reveals nothing."""
    a, b = worlds
    head = pipeline.event_store.head()
    for op in guarded(spec):
        if op.request_body is None:
            continue
        method, content = op.method.upper(), op.request_body["content"]
        url = op.path.format(**path_values(op.path, a))
        # Every role may act on its own account: no role is denied those.
        denied = [as_user(a.tenant, r) for r in TENANT_ROLES if r not in op.granted]
        shape: dict[str, Any] = {"json": []}
        malformed, media_type = b"{", "application/json"
        if "multipart/form-data" in content:
            shape = {"files": {"unexpected": ("a.pdf", PDF)}}
            malformed, media_type = b"garbage", "multipart/form-data; boundary=x"
        for refused in (
            client.request(method, url, headers=h, **shape) for h in denied[:1]
        ):
            assert refused.status_code == 403, (str(op), refused.text)
        anonymous = client.request(method, url, **shape)
        assert anonymous.status_code == 401, (str(op), anonymous.text)

        answers = set()
        for headers in (
            {},
            *denied[:1],
            everyone_in(b, op),
            as_role(a, op, *op.granted),
        ):
            for world in (a, a.ghost()):
                r = client.request(
                    method,
                    op.path.format(**path_values(op.path, world)),
                    content=malformed,
                    headers={**headers, "Content-Type": media_type},
                )
                assert r.status_code in (400, 422), (str(op), r.text)
                assert r.headers["content-type"] == PROBLEM
                assert not world.leaked(r.text), (str(op), r.text)
                answers.add((r.status_code, r.text))
        assert len(answers) == 1, (str(op), answers)
    assert pipeline.event_store.head() == head


def test_self_service_acts_only_on_the_account_the_caller_is(
    client, spec, worlds, pipeline
):
    """Another tenant claiming this tenant's account as its actor gets 404,
    as for an account that exists nowhere. A caller that is no person's
    account (a development actor name, an API token) gets a 404 or 409
    problem, never the account of another. None of them writes."""
    a, b = worlds
    ghost = a.ghost()
    ops = [op for op in guarded(spec) if op.is_self_service]
    assert {"GET /me", "POST /me/password", *NEEDS_A_SESSION} <= set(map(str, ops))
    verdicts = Verdicts()
    head = pipeline.event_store.head()
    token = {"Authorization": f"Bearer {a.api_token_secret}"}
    for op in ops:
        r = call(client, spec, op, a, as_user(b.tenant, actor=str(a.account)))
        ghost_r = call(
            client, spec, op, ghost, as_user(b.tenant, actor=str(ghost.account))
        )
        verdicts.hidden(op, "tenant B as tenant A's account", r, ghost_r, a, ghost)
        # The API token may hear its own id back: it is who is calling.
        for who, headers, itself in (
            ("no account", everyone_in(a), set()),
            ("an API token", token, {"api_token"}),
        ):
            r = call(client, spec, op, a, headers)
            ok = r.status_code in (404, 409) and r.headers["content-type"] == PROBLEM
            leaked = set(a.leaked(r.text)) - sent(r.request, a) - itself
            verdicts.expect(ok and not leaked, op, f"{who} (leaked {leaked})", r)
    verdicts.check()
    assert pipeline.event_store.head() == head


def patiently(send: Callable[..., httpx.Response], *args: Any) -> httpx.Response:
    """``send(*args)``, again after the Retry-After of a 429 while time
    allows: anonymous attempts are counted per client address, which other
    tests on this machine share."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        r = send(*args)
        wait = float(r.headers.get("retry-after", "0"))
        if r.status_code != 429 or time.monotonic() + wait > deadline:
            return r
        time.sleep(wait)


PRINTED = frozenset({"certificate_number", "organization_name"})
"""What a certificate prints of its world (its number and holder), which its
verification answers anyone."""


def own_address() -> dict[str, str]:
    """A client address no other request uses (the test server trusts
    ``X-Forwarded-For`` from loopback): verification attempts are limited per
    address, and other tests on this machine share the loopback one."""
    host = f"{secrets.randbelow(256)}.{secrets.randbelow(254) + 1}"
    return {"X-Forwarded-For": f"198.18.{host}"}


def test_public_routes_answer_anyone_and_verification_reads_across_tenants(
    client, spec, worlds
):
    """Each public route answers anyone 200. The verification of tenant A's
    certificate answers tenant B's caller exactly as it answers an anonymous
    one: the certificate as printed, naming nothing else of A's. Each call
    comes from an address of its own and the world's number is verified only
    here, so no rate limit stands between the call and the verification."""
    a, b = worlds
    public = [op for op in operations(spec) if op.permission == PUBLIC]
    assert set(PUBLIC_ANSWERS) <= set(map(str, public))
    plain = [op for op in public if str(op) not in PUBLIC_ANSWERS]
    assert "POST /public/certificate-verifications" in set(map(str, plain))
    for op in plain:
        answers = []
        for headers in ({}, everyone_in(b)):
            r = call(client, spec, op, a, {**headers, **own_address()})
            assert r.status_code == 200, (str(op), r.text)
            answers.append(r)
        if op.path != "/public/certificate-verifications":
            continue
        anonymous, theirs = (r.json() for r in answers)
        assert anonymous["number"] == a.certificate_number
        assert anonymous["holder"] == a.organization_name
        assert theirs == anonymous
        for r in answers:
            assert set(a.leaked(r.text)) == PRINTED, (str(op), r.text)
            assert not b.leaked(r.text), (str(op), r.text)


def test_public_secret_routes_refuse_bad_secrets_alike_for_any_email(
    client, spec, worlds
):
    """Login, its second step, refresh, accepting an invitation and resetting
    a password take a secret instead of a caller. Sent by anyone, with the
    world's account's e-mail (a person invited, who has no password yet) or
    one that has no account, and made-up tokens, each answers its declared
    refusal (a reset link is asked for with 202), says nothing of either
    and answers both alike: it never tells which e-mails have accounts. Each
    sends two failed logins of the world's own account, far from a lockout."""
    a, b = worlds
    ghost = a.ghost()
    ops = [op for op in operations(spec) if str(op) in PUBLIC_ANSWERS]
    assert len(ops) == len(PUBLIC_ANSWERS)
    wrong = []
    for op in ops:
        status, code = PUBLIC_ANSWERS[str(op)]
        for headers in ({}, everyone_in(b)):
            answers = set()
            for world in (a, ghost):
                r = patiently(call, client, spec, op, world, headers)
                problem = r.headers.get("content-type") == PROBLEM
                ok = r.status_code == status and (
                    r.json().get("code") == code if problem else r.content == b""
                )
                if not ok or world.leaked(r.text):
                    wrong.append(f"{op} ({world.tenant}): {r.status_code} {r.text}")
                answers.add((r.status_code, normalised(r, world)))
            if len(answers) != 1:
                wrong.append(f"{op}: an e-mail with an account shows: {answers}")
    assert not wrong, "\n".join(wrong)


@pytest.fixture(scope="module")
def neighbours(client, pipeline) -> tuple[World, World]:
    """Two client organizations of one tenant, each with every kind of record."""
    tenant = new_tenant("matrix-scope")
    return (
        build_world(client, pipeline, tenant),
        build_world(client, pipeline, tenant),
    )


def scoped(
    world: World, role: Role, header: str, *ids, actor: str = "carl"
) -> dict[str, str]:
    return {
        **as_user(world.tenant, role, actor=actor),
        header: ",".join(str(i) for i in ids),
    }


SCOPED = {"organization_id", "audit_id", "certificate_id", "document_id"}
"""Path parameters naming a record an organization or audit scope limits."""


def scoped_operations(spec: dict[str, Any], role: Role) -> list[Operation]:
    return [
        op for op in guarded(spec) if role in op.granted and SCOPED & set(op.path_names)
    ]


def check_scope(client, spec, pipeline, ops, me, mine: World, theirs: World):
    """``me`` gets 404 for ``theirs`` (as for ids that exist nowhere), writing
    nothing, and its normal answers for ``mine``."""
    ghost = theirs.ghost()
    verdicts = Verdicts()
    head = pipeline.event_store.head()
    for op in ops:
        r = call(client, spec, op, theirs, me)
        ghost_r = call(client, spec, op, ghost, me)
        verdicts.hidden(op, "caller outside its scope", r, ghost_r, theirs, ghost)
    verdicts.check()
    assert pipeline.event_store.head() == head
    for op in ops:
        r = call(client, spec, op, mine, me)
        verdicts.admitted(op, "caller within its scope", r)
    verdicts.check()


def listed(client, spec, path: str, world: World, headers) -> list[dict[str, Any]]:
    r = call(client, spec, Operation("get", path, "", None), world, headers)
    assert r.status_code == 200, (path, r.text)
    return r.json()["items"]


def test_a_client_scoped_to_its_organization_sees_and_changes_only_its_own(
    client, spec, neighbours, pipeline
):
    mine, theirs = neighbours
    me = scoped(mine, Role.CLIENT_USER, "X-Dev-Organizations", mine.organization)
    for path in (
        "/organizations",
        "/audits",
        "/findings",
        "/certificates",
        "/documents",
    ):
        rows = listed(client, spec, path, mine, me)
        owners = {row.get("organization_id", row["id"]) for row in rows}
        assert owners == {str(mine.organization)}, (path, rows)
        assert not theirs.leaked(json.dumps(rows)), path
    ops = scoped_operations(spec, Role.CLIENT_USER)
    assert {op.is_read for op in ops} == {True, False}
    check_scope(client, spec, pipeline, ops, me, mine, theirs)


def test_an_auditor_scoped_to_one_audit_sees_and_changes_only_it(
    client, spec, neighbours, pipeline
):
    mine, theirs = neighbours
    # The audit's lead, who may also ask for its report.
    me = scoped(mine, Role.AUDITOR, "X-Dev-Audits", mine.audit, actor=LEAD)
    audits = listed(client, spec, "/audits", mine, me)
    assert [row["id"] for row in audits] == [str(mine.audit)]
    findings = listed(client, spec, "/findings", mine, me)
    assert [row["id"] for row in findings] == [str(mine.finding)]
    sibling = f"/audits/{mine.decided_audit}"
    assert client.get(sibling, headers=me).status_code == 404
    assert client.post(f"{sibling}/close", headers=me).status_code == 404
    ops = [op for op in scoped_operations(spec, Role.AUDITOR) if "audit_id" in op.path]
    check_scope(client, spec, pipeline, ops, me, mine, theirs)


def test_history_shows_names_and_personal_fields_as_the_table_says(client, pipeline):
    """Who may see other people's personal data (``personal_data:read``) in
    a history: every role that reads it is asked, and only those the table
    grants see the actor's name and the invitation's e-mail."""
    tenant = new_tenant("matrix-history")
    setup = EventMeta(tenant, "setup", "matrix", "matrix")
    expires = datetime.now(UTC) + timedelta(days=3)
    email = unique_email("pia")
    person = Account.invite(setup, email, "Pia Planner", ("auditor",), (), expires)
    acting = EventMeta(tenant, str(person.id), "matrix", "matrix")
    organization = Organization.register(acting, "History Pumps", "GB")
    position = pipeline.event_store.append(person, organization)
    admin = as_user(tenant, "tenant_admin")
    deadline = time.monotonic() + WAIT_SECONDS
    for path in (f"/organizations/{organization.id}", f"/users/{person.id}"):
        while (
            client.get(
                path, headers=admin, params={"min_position": position}
            ).status_code
            != 200
        ):
            assert time.monotonic() < deadline, path
            time.sleep(0.2)
    sees = PERMISSIONS[Permission.PERSONAL_DATA_READ]
    wrong = []
    for role in TENANT_ROLES:
        headers = {
            **as_user(tenant, role),
            "X-Dev-Organizations": str(organization.id),
        }
        if role not in CLIENT_ROLES:
            del headers["X-Dev-Organizations"]
        r = client.get(f"/organizations/{organization.id}/history", headers=headers)
        name = r.json()["items"][0]["actor"]["name"] if r.status_code == 200 else r.text
        if name != ("Pia Planner" if role in sees else None):
            wrong.append(f"{role}: organization history actor name {name!r}")
        if role in PERMISSIONS[Permission.USER_READ]:
            invited = client.get(f"/users/{person.id}/history", headers=headers)
            data = invited.json()["items"][0]["data"]
            if data["email"] != (email if role in sees else None):
                wrong.append(f"{role}: invitation e-mail {data['email']!r}")
    assert not wrong, "\n".join(wrong)
