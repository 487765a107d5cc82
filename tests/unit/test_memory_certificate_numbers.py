"""The in-memory certificate numbers fulfil the certificate numbers contract."""

from __future__ import annotations

import pytest

from infra.postgres.certificate_numbers import InMemoryCertificateNumbers
from tests.certificate_numbers_contract import CertificateNumbersContract


class TestMemoryCertificateNumbers(CertificateNumbersContract):
    @pytest.fixture
    def numbers(self):
        return InMemoryCertificateNumbers()

    @pytest.fixture
    def fresh(self, numbers):
        return lambda: numbers  # one process's memory is all there is
