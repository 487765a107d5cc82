"""Reading a topic from the start, as a separate consumer group would."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from kafka import KafkaConsumer

from infra.settings import Settings
from infra.streaming import kafka


def new_topic(settings: Settings) -> str:
    name = f"{settings.kafka_topic}.{uuid.uuid4().hex[:8]}"
    kafka.ensure_topic(settings, name)
    return name


def consume_until(
    settings: Settings,
    topic: str,
    done: Callable[[list], bool],
    timeout: float = 90.0,
) -> list:
    """Every record of ``topic`` from the start until ``done(records)``."""
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=settings.kafka_bootstrap_servers.split(","),
        group_id=f"test-reader-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        receive_message_max_bytes=64 * 1_048_576,
    )
    records: list = []
    deadline = time.monotonic() + timeout
    try:
        while not done(records):
            assert time.monotonic() < deadline, f"timed out with {len(records)} records"
            for batch in consumer.poll(timeout_ms=200).values():
                records.extend(batch)
    finally:
        consumer.close()
    return records


def headers(record) -> dict[str, str]:
    return {k: v.decode() for k, v in record.headers}
