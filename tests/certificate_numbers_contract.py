"""The contract of :class:`commands.ports.CertificateNumbers`, one class for
every backend: subclass it and provide ``numbers`` (a fresh adapter) and
``fresh`` (a function making another adapter over the same storage, as
another process would have).

The tenants here were never created (as development tenants): each claims
its code on its first number.
"""

from __future__ import annotations

import threading
import uuid

import pytest


def slugs_of_one_code() -> tuple[str, str, str]:
    """Three tenant ids whose letters and digits are the same."""
    stem = f"cn{uuid.uuid4().hex[:8]}"
    return f"{stem}-a", f"{stem}a", f"{stem}--a"


class CertificateNumbersContract:
    @pytest.fixture
    def numbers(self):
        raise NotImplementedError

    @pytest.fixture
    def fresh(self):
        raise NotImplementedError

    def test_numbers_count_up_per_tenant_and_year_under_one_code(self, numbers):
        tenant = slugs_of_one_code()[0]
        issued = [numbers.next_number(tenant, 2026) for _ in range(3)]
        code = numbers.code_of(tenant)
        assert issued == [f"{code}-2026-00000{i}" for i in (1, 2, 3)]
        assert numbers.next_number(tenant, 2027) == f"{code}-2027-000001"

    def test_tenants_whose_ids_give_one_code_get_different_codes_and_numbers(
        self, numbers
    ):
        tenants = slugs_of_one_code()
        first = [numbers.next_number(t, 2026) for t in tenants]
        codes = [numbers.code_of(t) for t in tenants]
        base = tenants[1].upper()
        assert codes == [base, f"{base}2", f"{base}3"]
        assert first == [f"{c}-2026-000001" for c in codes]

    def test_a_tenant_keeps_its_code_in_another_process(self, numbers, fresh):
        tenants = slugs_of_one_code()
        for tenant in reversed(tenants):
            numbers.next_number(tenant, 2026)
        other = fresh()
        assert [other.code_of(t) for t in tenants] == [
            numbers.code_of(t) for t in tenants
        ]

    def test_concurrent_first_numbers_agree_on_codes(self, fresh):
        tenants = slugs_of_one_code()
        issued: list[tuple[str, str]] = []
        errors: list[BaseException] = []

        def first_numbers(tenant: str) -> None:
            try:
                adapter = fresh()  # no shared memory: as separate processes
                issued.append((tenant, adapter.next_number(tenant, 2026)))
            except BaseException as e:  # pragma: no cover - reported below
                errors.append(e)

        threads = [
            threading.Thread(target=first_numbers, args=(t,)) for t in tenants * 4
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert not errors
        codes = {
            t: {n.rsplit("-", 2)[0] for tt, n in issued if tt == t} for t in tenants
        }
        assert all(len(c) == 1 for c in codes.values()), codes
        assert len({c for cs in codes.values() for c in cs}) == 3, codes
        assert len({n for _, n in issued}) == 12
