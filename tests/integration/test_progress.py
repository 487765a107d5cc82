""" "Has projection X reached position P" is never answered yes too early."""

from __future__ import annotations

import asyncio
import uuid

from infra.postgres.progress import ProjectionProgress
from infra.projection.progress_watcher import ProgressWatcher


def record(container, topic, *, relayed, heads, tracked):
    with container.database.connection() as conn, conn.transaction():
        conn.execute(
            "INSERT INTO relay_progress (topic, position) VALUES (%s, %s)",
            (topic, relayed),
        )
        for partition, position in heads.items():
            conn.execute(
                "INSERT INTO relay_partition_heads VALUES (%s, %s, %s)",
                (topic, partition, position),
            )
        for partition, position in tracked.items():
            conn.execute(
                "INSERT INTO projection_tracking"
                " (projection, topic, partition, position, kafka_offset)"
                " VALUES ('p', %s, %s, %s, 0)",
                (topic, partition, position),
            )


def reached(container, topic, position):
    return ProjectionProgress(container.database, topic).has_reached("p", position)


def topic():
    return f"progress-{uuid.uuid4().hex[:8]}"


def test_one_partition_ahead_does_not_hide_another_behind(container, migrated):
    t = topic()
    # Events 1..10 published; partition 0 got up to 10, partition 1 up to 7.
    record(container, t, relayed=10, heads={0: 10, 1: 7}, tracked={0: 10, 1: 5})
    assert not reached(container, t, 7)  # partition 1 may still owe 6 or 7
    assert reached(container, t, 5)  # everything up to 5 is applied everywhere


def test_a_partition_with_nothing_up_to_p_does_not_block(container, migrated):
    t = topic()
    record(container, t, relayed=10, heads={0: 10, 1: 3}, tracked={0: 10, 1: 3})
    assert reached(container, t, 10)


def test_positions_the_relay_has_not_published_are_not_reached(container, migrated):
    t = topic()
    record(container, t, relayed=5, heads={0: 5}, tracked={0: 5})
    assert reached(container, t, 5)
    assert not reached(container, t, 6)


def test_an_untracked_partition_counts_as_nothing_applied(container, migrated):
    t = topic()
    record(container, t, relayed=4, heads={0: 4, 1: 2}, tracked={0: 4})
    assert not reached(container, t, 2)


def test_one_snapshot_answers_for_every_projection(container, migrated):
    t = topic()
    record(container, t, relayed=10, heads={0: 10, 1: 3}, tracked={0: 10, 1: 3})
    with container.database.connection() as conn:
        conn.execute(
            "INSERT INTO projection_tracking"
            " (projection, topic, partition, position, kafka_offset)"
            " VALUES ('q', %s, 0, 4, 0), ('q', %s, 1, 2, 0)",
            (t, t),
        )
    snapshot = ProjectionProgress(container.database, t).snapshot()
    assert snapshot.reached("p", 10)
    assert snapshot.reached("q", 2)
    assert not snapshot.reached("q", 4)  # partition 1 may still owe 3


def test_the_watcher_wakes_waiters_as_the_tracking_advances(container, migrated):
    t = topic()
    record(container, t, relayed=10, heads={0: 10, 1: 7}, tracked={0: 10, 1: 5})
    watcher = ProgressWatcher(ProjectionProgress(container.database, t), 0.01)

    def advance():
        with container.database.connection() as conn:
            conn.execute(
                "UPDATE projection_tracking SET position = 7"
                " WHERE topic = %s AND partition = 1",
                (t,),
            )

    async def scenario():
        early = [asyncio.ensure_future(watcher.wait("p", 5, 10)) for _ in range(5)]
        late = [asyncio.ensure_future(watcher.wait("p", 7, 10)) for _ in range(5)]
        assert all(await asyncio.gather(*early))
        assert not any(w.done() for w in late)  # partition 1 still owes 6 or 7
        await asyncio.to_thread(advance)
        woken = await asyncio.gather(*late)
        unpublished = await watcher.wait("p", 11, 0.2)
        await watcher.close()
        return woken, unpublished

    woken, unpublished = asyncio.run(scenario())
    assert woken == [True] * 5
    assert unpublished is False
