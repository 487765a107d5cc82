"""SSRF safety: outside development a webhook target must be https and
resolve only to public addresses, checked when saved and again before every
attempt, after DNS resolution (a name that rebinds to a private address is
refused then, and the dispatcher connects to the address it checked)."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime
from uuid import uuid4

import pytest
from pydantic import ValidationError

from commands.context import CommandContext
from commands.webhooks import Subscribe, WebhookService
from domain.errors import InvalidValueError, PermissionDeniedError
from domain.principal import Principal, Role
from infra.postgres.webhooks import DueDelivery
from infra.settings import Settings
from infra.webhooks.sender import RetryPolicy, WebhookSender
from infra.webhooks.signing import mint_secret
from infra.webhooks.targets import Target, TargetPolicy, UnsafeTargetError, forbidden
from infra.webhooks.transport import Outcome

PUBLIC = "93.184.215.14"
NOW = datetime.now(UTC)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.9.9.9",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # CGNAT
        "100.127.255.254",
        "0.0.0.0",
        "224.0.0.1",
        "255.255.255.255",
        "::1",
        "fe80::1",
        "fc00::1",
        "fd00:ec2::254",  # AWS metadata over IPv6
        "::ffff:127.0.0.1",
        "::ffff:10.1.2.3",
        "::",
    ],
)
def test_non_public_addresses_are_forbidden(address):
    assert forbidden(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", [PUBLIC, "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_are_allowed(address):
    assert not forbidden(ipaddress.ip_address(address))


def resolving(*answers: list[str]):
    """A resolver answering each call with the next list."""
    calls = iter(answers)
    return lambda host, port: next(calls)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://hooks.example.com/in", "https"),
        ("https://user:pw@hooks.example.com/in", "credentials"),
        ("ftp://hooks.example.com/in", "http(s)"),
        ("https:///in", "http(s)"),
        ("https://127.0.0.1/in", "not a public address"),
        ("https://[::1]:8443/in", "not a public address"),
        ("https://169.254.169.254/latest/meta-data", "not a public address"),
        ("https://hooks.example.com:99999/in", "not a URL"),
    ],
)
def test_outside_development_unsafe_urls_are_refused(url, reason):
    policy = TargetPolicy(False, resolving([PUBLIC]))
    with pytest.raises(UnsafeTargetError) as refused:
        policy.resolve(url)
    assert reason in str(refused.value)


def test_a_name_resolving_to_any_private_address_is_refused():
    policy = TargetPolicy(False, resolving([PUBLIC, "10.0.0.7"]))
    with pytest.raises(UnsafeTargetError, match=r"10\.0\.0\.7"):
        policy.resolve("https://hooks.example.com/in")


def test_a_public_https_target_is_resolved_to_the_checked_address():
    target = TargetPolicy(False, resolving([PUBLIC])).resolve(
        "https://hooks.example.com:8443/in?x=1"
    )
    assert (target.host, target.port, target.path, target.address) == (
        "hooks.example.com",
        8443,
        "/in?x=1",
        PUBLIC,
    )


def test_in_development_http_and_loopback_are_allowed():
    target = TargetPolicy(True, resolving(["127.0.0.1"])).resolve("http://localhost/x")
    assert (target.scheme, target.address, target.port) == ("http", "127.0.0.1", 80)


class Never:
    """A transport that must not be used."""

    def post(self, target, headers, body):
        raise AssertionError(f"connected to {target.address}")


class Recording:
    def __init__(self) -> None:
        self.targets: list[Target] = []

    def post(self, target, headers, body):
        self.targets.append(target)
        return Outcome(204, None, 1)


def due(url: str) -> DueDelivery:
    return DueDelivery(
        uuid4(), uuid4(), "t", url, "ev", "{}", 1, None, 1, NOW, (mint_secret(),)
    )


def sender(policy: TargetPolicy, transport) -> WebhookSender:
    return WebhookSender(
        None,  # type: ignore[arg-type]  # attempt() needs no queue
        policy,
        transport,
        RetryPolicy(1, 10, 100),
        lease_seconds=5,
        concurrency=1,
    )


def test_at_delivery_a_name_that_rebinds_to_a_private_address_is_not_contacted():
    # saved while it resolved to a public address ...
    policy = TargetPolicy(False, resolving([PUBLIC], ["169.254.169.254"]))
    assert policy.refusal("https://hooks.example.com/in") is None
    # ... and before the attempt it resolves to the metadata address
    outcome = sender(policy, Never()).attempt(due("https://hooks.example.com/in"))
    assert not outcome.ok
    assert outcome.error is not None
    assert "169.254.169.254" in outcome.error


def test_at_delivery_the_connection_goes_to_the_address_just_checked():
    transport = Recording()
    policy = TargetPolicy(False, resolving([PUBLIC]))
    outcome = sender(policy, transport).attempt(due("https://hooks.example.com/in"))
    assert outcome.ok
    assert [t.address for t in transport.targets] == [PUBLIC]


def test_backoff_doubles_with_jitter_up_to_the_cap():
    retry = RetryPolicy(base_seconds=2, cap_seconds=60, give_up_after_seconds=86400)
    assert retry.delay(1, lambda: 1.0) == 2
    assert retry.delay(1, lambda: 0.0) == 1
    assert retry.delay(4, lambda: 1.0) == 16
    assert retry.delay(50, lambda: 1.0) == 60


class NoStore:
    def add(self, *args):
        raise AssertionError("stored")


def service(allow_insecure: bool) -> WebhookService:
    return WebhookService(
        NoStore(),  # type: ignore[arg-type]
        TargetPolicy(allow_insecure, resolving(["10.1.1.1"])),
        mint_secret,
        frozenset({"assurehub.organization.registered.v2"}),
        60,
    )


def ctx(*roles: Role) -> CommandContext:
    return CommandContext(Principal("t", "a", frozenset(roles)), "r")


def test_saving_a_private_target_is_refused_naming_the_url():
    with pytest.raises(InvalidValueError) as refused:
        service(False).subscribe(
            ctx(Role.TENANT_ADMIN), Subscribe("https://intranet.example.com/")
        )
    assert refused.value.field == "url"
    assert "10.1.1.1" in refused.value.detail


def test_unknown_event_types_are_refused():
    with pytest.raises(InvalidValueError) as refused:
        service(True).subscribe(
            ctx(Role.TENANT_ADMIN),
            Subscribe("http://127.0.0.1/", event_types=["assurehub.nothing.v1"]),
        )
    assert refused.value.field == "event_types"


def test_only_tenant_admins_subscribe():
    with pytest.raises(PermissionDeniedError):
        service(True).subscribe(
            ctx(Role.PROGRAMME_MANAGER), Subscribe("http://127.0.0.1/")
        )


DB = "postgresql://u:p@127.0.0.1:1/db"


def test_insecure_targets_are_on_only_in_development_and_refused_in_production():
    assert Settings(env="development", database_url=DB).webhook_insecure_targets
    assert not Settings(env="test", database_url=DB).webhook_insecure_targets
    assert not Settings(env="production", database_url=DB).webhook_insecure_targets
    with pytest.raises(ValidationError, match="refused in production"):
        Settings(env="production", database_url=DB, webhook_allow_insecure_targets=True)
