"""Login lockouts counted in real Redis, and in-process while Redis is down."""

from __future__ import annotations

import logging
import socket
import threading
import uuid
from urllib.parse import urlsplit

import pytest

from infra.cache.redis import RedisGuard
from infra.identity.login_guard import LockoutPolicy, LoginGuard
from tests.e2e.conftest import closed_port

POLICY = LockoutPolicy(
    account_failures=3, address_failures=5, base_seconds=30, max_seconds=100
)


def acct() -> str:
    return f"login:acct:t-{uuid.uuid4().hex[:8]}:ann@example.com"


def make_guard(url: str, prefix: str | None = None) -> LoginGuard:
    return LoginGuard(
        RedisGuard(url, pause=0),
        POLICY,
        prefix=prefix or f"test:lg:{uuid.uuid4().hex}",
    )


class RedisProxy:
    """A TCP relay to the real Redis that a test can cut and restore."""

    def __init__(self, target: str) -> None:
        parts = urlsplit(target)
        self._target = (parts.hostname or "127.0.0.1", parts.port or 6379)
        self.port = closed_port()
        self.url = f"redis://127.0.0.1:{self.port}{parts.path}"
        self._open: list[socket.socket] = []
        self._server: socket.socket | None = None

    def up(self) -> None:
        server = socket.create_server(("127.0.0.1", self.port), reuse_port=False)
        self._server = server
        self._open.append(server)
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()

    def down(self) -> None:
        for sock in self._open:
            sock.close()
        self._open.clear()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self._target, timeout=2)
            self._open += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                sock.close()


@pytest.fixture
def proxy(settings):
    relay = RedisProxy(settings.redis_url)
    relay.up()
    yield relay
    relay.down()


def test_a_lockout_is_shared_by_every_process(settings):
    prefix, key = f"test:lg:{uuid.uuid4().hex}", acct()
    one = make_guard(settings.redis_url, prefix)
    two = make_guard(settings.redis_url, prefix)
    assert one.failed([key]) is None
    assert two.failed([key]) is None
    assert one.blocked([key]) is None

    assert two.failed([key]) == 30
    blocked = one.blocked([key])
    assert blocked is not None
    assert 29 < blocked <= 30


def test_a_second_lockout_within_the_day_lasts_twice_as_long(settings):
    prefix, key = f"test:lg:{uuid.uuid4().hex}", acct()
    guard = make_guard(settings.redis_url, prefix)
    assert [guard.failed([key]) for _ in range(3)] == [None, None, 30]
    # let the lock end now rather than in 30 s
    redis_guard = RedisGuard(settings.redis_url)
    redis_guard.run("test", lambda r: r.delete(*r.keys(f"{prefix}:login:acct:l:*")))
    redis_guard.close()
    assert guard.blocked([key]) is None
    assert [guard.failed([key]) for _ in range(3)] == [None, None, 60]


def test_a_success_clears_the_count_in_redis(settings):
    guard, key = make_guard(settings.redis_url), acct()
    guard.failed([key])
    guard.failed([key])
    guard.succeeded([key])
    assert [guard.failed([key]) for _ in range(3)] == [None, None, 30]


def test_address_keys_have_their_own_threshold(settings):
    guard, addr = make_guard(settings.redis_url), "login:addr:10.0.0.1"
    keys = [[acct(), addr] for _ in range(4)]
    assert [guard.failed(k) for k in keys] == [None] * 4
    assert guard.failed([acct(), addr]) == 30
    assert guard.blocked([acct(), addr]) is not None
    assert guard.blocked([keys[0][0]]) is None


def test_no_email_or_address_is_written_to_redis(settings):
    prefix, key = f"test:lg:{uuid.uuid4().hex}", acct()
    guard = make_guard(settings.redis_url, prefix)
    for _ in range(3):
        guard.failed([key, "login:addr:203.0.113.7"])
    redis_guard = RedisGuard(settings.redis_url)
    names = redis_guard.run("test", lambda r: r.keys(f"{prefix}:*"))
    redis_guard.close()
    assert names
    assert not [n for n in names if b"example.com" in n or b"203.0.113" in n]


def test_with_redis_unreachable_the_threshold_still_locks_and_is_logged(caplog):
    guard, key = make_guard(f"redis://127.0.0.1:{closed_port()}/0"), acct()
    with caplog.at_level(logging.WARNING, logger="infra.identity.login_guard"):
        assert guard.blocked([key]) is None
        assert [guard.failed([key]) for _ in range(3)] == [None, None, 30]
        assert guard.blocked([key]) == pytest.approx(30, abs=1)
    warnings = [r for r in caplog.records if r.name == "infra.identity.login_guard"]
    assert len(warnings) == 1  # once per outage, not once per call
    assert warnings[0].levelno == logging.WARNING
    assert warnings[0].operation == "blocked"
    assert "in this process" in warnings[0].getMessage()


def test_when_redis_comes_back_counts_are_shared_again(settings, proxy, caplog):
    prefix, key = f"test:lg:{uuid.uuid4().hex}", acct()
    guard = make_guard(proxy.url, prefix)
    other = make_guard(settings.redis_url, prefix)
    assert guard.failed([key]) is None  # counted in Redis

    proxy.down()
    with caplog.at_level(logging.INFO, logger="infra.identity.login_guard"):
        assert guard.failed([key]) is None  # counted in this process
        assert guard.failed([key]) is None
        assert guard.failed([key]) == 30  # the process's own threshold
        proxy.up()
        assert guard.blocked([key]) is not None  # its lock outlives the outage
        other_key = acct()
        assert guard.failed([other_key]) is None  # in Redis again
        assert other.failed([other_key]) is None
        assert other.failed([other_key]) == 30
        assert guard.blocked([other_key]) is not None
    messages = [
        r.getMessage() for r in caplog.records if r.name == "infra.identity.login_guard"
    ]
    assert len(messages) == 2
    assert "redis unavailable" in messages[0]
    assert "redis again" in messages[1]


def test_an_attempt_in_progress_holds_the_key_for_every_process(settings):
    prefix, key = f"test:lg:{uuid.uuid4().hex}", acct()
    one = make_guard(settings.redis_url, prefix)
    two = make_guard(settings.redis_url, prefix)
    assert one.begin(key)
    assert not two.begin(key)
    one.end(key)
    assert two.begin(key)
    two.end(key)


def test_with_redis_unreachable_attempts_are_still_one_at_a_time():
    guard, key = make_guard(f"redis://127.0.0.1:{closed_port()}/0"), acct()
    assert guard.begin(key)
    assert not guard.begin(key)
    guard.end(key)
    assert guard.begin(key)
