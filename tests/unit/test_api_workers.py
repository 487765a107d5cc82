"""How many API worker processes ``assurehub api`` runs."""

from __future__ import annotations

import os

import pytest

from infra.settings import MAX_DEFAULT_API_WORKERS, Settings

DSN = "postgresql://assurehub@127.0.0.1:5432/assurehub"


@pytest.mark.parametrize(
    ("cpus", "workers"), [({0}, 1), ({0, 1}, 2), (set(range(16)), 4)]
)
def test_the_default_is_one_worker_per_usable_cpu_up_to_four(
    monkeypatch, cpus, workers
):
    monkeypatch.delenv("ASSUREHUB_API_WORKERS", raising=False)
    monkeypatch.setattr(os, "sched_getaffinity", lambda _: cpus)
    assert MAX_DEFAULT_API_WORKERS == 4
    assert Settings(database_url=DSN).api_workers == workers


def test_an_explicit_count_wins_over_the_cores(monkeypatch):
    monkeypatch.setenv("ASSUREHUB_API_WORKERS", "6")
    monkeypatch.setattr(os, "sched_getaffinity", lambda _: {0})
    assert Settings(database_url=DSN).api_workers == 6
