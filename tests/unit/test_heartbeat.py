"""Worker liveness files."""

from __future__ import annotations

import os
import time

from infra.heartbeat import Heartbeat


def test_a_fresh_beat_is_alive_and_an_old_one_is_not(tmp_path):
    heartbeat = Heartbeat(tmp_path, "relay")
    assert not heartbeat.is_fresh()
    heartbeat.beat()
    assert heartbeat.is_fresh()
    old = time.time() - 120
    os.utime(heartbeat.path, (old, old))
    assert not heartbeat.is_fresh(max_age=60)
