"""Reading a topic from the start, as a separate consumer group would."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic

from infra.settings import Settings
from infra.streaming import kafka


def new_topic(settings: Settings) -> str:
    name = f"{settings.kafka_topic}.{uuid.uuid4().hex[:8]}"
    kafka.ensure_topic(settings, name)
    return name


def new_large_topic(settings: Settings, max_message_bytes: int) -> str:
    """A fresh topic whose records may be up to ``max_message_bytes`` (the
    broker's default limit is about 1 MB)."""
    name = f"{settings.kafka_topic}.{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap_servers.split(",")
    )
    try:
        admin.create_topics(
            [
                NewTopic(
                    name,
                    num_partitions=settings.kafka_partitions,
                    replication_factor=1,
                    topic_configs={"max.message.bytes": str(max_message_bytes)},
                )
            ]
        )
    finally:
        admin.close()
    return name


def produce(
    settings: Settings,
    topic: str,
    records: list[tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]],
    max_request_size: int = 1_048_576,
) -> None:
    """Write ``(key, value, headers)`` records straight to ``topic``, in order."""
    producer = KafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers.split(","),
        acks="all",
        max_request_size=max_request_size,
        max_in_flight_requests_per_connection=1,
    )
    try:
        for key, value, headers in records:
            producer.send(topic, key=key, value=value, headers=headers).get(30)
    finally:
        producer.close()


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
