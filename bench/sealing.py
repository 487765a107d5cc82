"""Append throughput of events with personal fields, sealed and not.

Each figure is the best of two alternated rounds (a shared machine's noise
falls on both sides).

Two workloads, each run twice in the same run on the same database: once
with the store's mapper sealing personal fields (the product), once with
sealing switched off (``SealingMapper.personal = None``: the baseline, what
the store did before sealing existed).

* invitations: ``account.invited`` of a new person per event, so every
  append also makes that person's data key (an ``INSERT`` into
  ``person_keys``) and seals e-mail and name;
* logins: ``account.login_failed`` on a few existing accounts, so every
  append looks the key up and seals the address.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from uuid import uuid4

from domain.account import Account
from domain.events import EventMeta
from infra.erasure.sealing import PersonalCipher
from infra.eventstore.store import LibraryEventStore, postgres_env
from infra.settings import Settings

TENANT = "bench-sealing"
META = EventMeta(TENANT, "bench", "c", "c")
EXPIRES = datetime(2030, 1, 1, tzinfo=UTC)
ROUNDS = 2


def _invite(i: int) -> Account:
    return Account.invite(
        META,
        f"person{i}-{uuid4().hex[:6]}@example.com",
        f"Person {i}",
        ["auditor"],
        (),
        EXPIRES,
    )


def _rate(writers: int, per_writer: int, work: Callable[[int, int], object]) -> float:
    barrier = threading.Barrier(writers + 1)

    def run(w: int) -> None:
        barrier.wait()
        for i in range(per_writer):
            work(w, i)

    threads = [threading.Thread(target=run, args=(w,)) for w in range(writers)]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    return writers * per_writer / (time.perf_counter() - started)


def _invitations(store: LibraryEventStore, writers: int, total: int) -> float:
    return _rate(
        writers, max(1, total // writers), lambda _w, i: store.append(_invite(i))
    )


def _logins(store: LibraryEventStore, writers: int, total: int) -> float:
    accounts = [_invite(w) for w in range(writers)]
    store.append(*accounts)

    def fail(w: int, i: int) -> None:
        account = accounts[w]
        account.record_login_failed(META, "bad_password", f"203.0.113.{i % 250}")
        store.append(account)

    return _rate(writers, max(1, total // writers), fail)


def run(settings: Settings, total: int) -> list[tuple[str, str, float, float]]:
    """``(workload, writers, sealed events/s, unsealed events/s)``."""
    store = LibraryEventStore(postgres_env(settings, snapshots=False))
    mapper = store.app.sealing_mapper
    sealing = mapper.personal
    assert isinstance(sealing, PersonalCipher)
    rows = []
    try:
        store.append(_invite(-1))  # warm the pool and the classes
        for name, workload in (("invitations", _invitations), ("logins", _logins)):
            for writers in (1, 8):
                plain = sealed = 0.0
                for _ in range(ROUNDS):  # alternated, the best of each kept
                    mapper.personal = None
                    plain = max(plain, workload(store, writers, total))
                    mapper.personal = sealing
                    sealed = max(sealed, workload(store, writers, total))
                rows.append((name, str(writers), sealed, plain))
    finally:
        mapper.personal = sealing
        store.close()
    return rows
