"""A projection behind the head that has not moved for the stall threshold is
flagged ``stalled``; one catching up, idle at the head, or only just behind
is not."""

from __future__ import annotations

import dataclasses

import pytest

from infra.projection.status import ProjectionStatus, is_stalled
from infra.settings import Settings
from processors.cli import format_status

AFTER = 120.0


@pytest.mark.parametrize(
    ("lag_events", "lag_seconds", "idle_seconds", "stalled"),
    [
        (40, 900.0, 900.0, True),  # behind, nothing moved for 15 minutes
        (40, 900.0, None, True),  # behind and never moved at all
        (40, 900.0, 2.0, False),  # behind but moving: catching up
        (0, 0.0, 3600.0, False),  # idle at the head: nothing to do
        (1, 5.0, 3600.0, False),  # a new event after a quiet hour: not yet
        (1, 121.0, 121.0, True),  # ...but it has now waited past the threshold
        (1, 120.0, 900.0, False),  # exactly the threshold is not over it
    ],
)
def test_stalled_means_behind_and_not_moving_for_longer_than_the_threshold(
    lag_events, lag_seconds, idle_seconds, stalled
):
    assert is_stalled(lag_events, lag_seconds, idle_seconds, AFTER) is stalled


def status(**changes) -> ProjectionStatus:
    base = ProjectionStatus(
        projection="templates",
        topic="assurehub.events",
        positions={0: 10, 1: 12},
        head=50,
        relayed=50,
        reached=10,
        lag_events=40,
        lag_seconds=900.0,
        parked=0,
        halted=0,
        shape="f1",
        expected_shape="f1",
        last_applied_at=None,
        idle_seconds=900.0,
        stalled=True,
    )
    return dataclasses.replace(base, **changes)


def test_status_shows_the_stall_in_text_and_json():
    stalled = status()
    assert stalled.state == "stalled"
    assert stalled.as_json()["state"] == "stalled"
    assert stalled.as_json()["stalled"] is True
    text = format_status([stalled, status(projection="audits", stalled=False)])
    lines = text.splitlines()
    assert lines[1].startswith("templates")
    assert lines[1].endswith("STALLED")
    assert "stalled: behind the head, no progress for 900 s" in text
    assert any(line.startswith("audits") and line.endswith("OK") for line in lines)


def test_a_halt_or_a_needed_rebuild_says_more_than_a_stall():
    assert status(halt="parking failed").state == "halted"
    assert status(expected_shape="f2").state == "rebuild needed"


def test_the_stall_threshold_is_a_setting():
    settings = Settings(database_url="postgresql://u:p@h:5432/d")
    assert settings.projection_stall_seconds == 120.0
    custom = Settings(
        database_url="postgresql://u:p@h:5432/d", projection_stall_seconds=30
    )
    assert custom.projection_stall_seconds == 30.0
