"""Certificate codes in Postgres: the certificate numbers contract, and codes
chosen at tenant creation, unique across the platform even when tenants are
created at once."""

from __future__ import annotations

import threading
import uuid

import pytest

from commands.context import CommandContext
from commands.identity.tenants import CreateTenant
from domain.principal import Principal, Role
from domain.tenant import Tenant, tenant_aggregate_id
from infra.postgres.certificate_numbers import PostgresCertificateNumbers
from tests.certificate_numbers_contract import (
    CertificateNumbersContract,
    slugs_of_one_code,
)

PLATFORM_ADMIN = Principal("platform", "operator", frozenset({Role.PLATFORM_ADMIN}))


class TestPostgresCertificateNumbers(CertificateNumbersContract):
    @pytest.fixture
    def numbers(self, container):
        return PostgresCertificateNumbers(container.database)

    @pytest.fixture
    def fresh(self, container):
        return lambda: PostgresCertificateNumbers(container.database)


def create(container, slug: str) -> str:
    """Create tenant ``slug``; its certificate code."""
    created = container.services.tenants.create_tenant(
        CommandContext(PLATFORM_ADMIN, f"req-{uuid.uuid4().hex}"),
        CreateTenant(slug, f"Tenant {slug}", f"admin@{slug}.test", "Ada Admin"),
    )
    return created.certificate_code


def recorded_code(container, slug: str) -> str | None:
    tenant = container.event_store.load(Tenant, tenant_aggregate_id(slug))
    assert tenant is not None
    return tenant.certificate_code


def test_created_tenants_number_certificates_with_their_recorded_codes(container):
    tenants = slugs_of_one_code()
    codes = [create(container, slug) for slug in tenants]
    base = tenants[1].upper()
    assert codes == [base, f"{base}2", f"{base}3"]
    assert [recorded_code(container, slug) for slug in tenants] == codes

    numbers = PostgresCertificateNumbers(container.database)
    issued = [numbers.next_number(slug, 2026) for slug in tenants]
    assert issued == [f"{code}-2026-000001" for code in codes]


def test_a_code_claimed_on_first_use_is_not_given_to_a_new_tenant(container):
    undeclared, created = slugs_of_one_code()[:2]
    numbers = PostgresCertificateNumbers(container.database)
    first = numbers.next_number(undeclared, 2026)
    code = create(container, created)
    assert first.startswith(f"{created.upper()}-")
    assert code == f"{created.upper()}2"
    assert numbers.next_number(created, 2026) == f"{code}-2026-000001"


def test_tenants_created_at_once_never_share_a_code(container):
    stem = slugs_of_one_code()[1]
    slugs = [f"{stem}{'-' * n}x" for n in range(1, 7)]
    codes: dict[str, str] = {}
    errors: list[BaseException] = []

    def create_one(slug: str) -> None:
        try:
            codes[slug] = create(container, slug)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=create_one, args=(s,)) for s in slugs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert len(set(codes.values())) == len(slugs), codes
    assert {recorded_code(container, s) for s in slugs} == set(codes.values())
