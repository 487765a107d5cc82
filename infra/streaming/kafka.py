"""Kafka clients configured from settings, and the events topic.

Topic layout: one topic (``ASSUREHUB_KAFKA_TOPIC``, default
``assurehub.events``) carries every event of every tenant, keyed by aggregate
id, with ``ASSUREHUB_KAFKA_PARTITIONS`` partitions (3 locally). Consumers
scale out up to the partition count; each aggregate's events stay in order.
"""

from __future__ import annotations

import logging
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from kafka.client_async import KafkaClient
from kafka.errors import (
    KafkaConnectionError,
    KafkaError,
    KafkaTimeoutError,
    NoBrokersAvailable,
    NodeNotReadyError,
    RequestTimedOutError,
    TopicAlreadyExistsError,
)

from infra.errors import DependencyUnavailableError
from infra.settings import Settings

log = logging.getLogger(__name__)

_TIMEOUT_MS = 5_000
_FETCH_MAX_BYTES = 16 * 1_048_576
_MAX_POLL_RECORDS = 500

UNREACHABLE = (
    NoBrokersAvailable,
    KafkaConnectionError,
    KafkaTimeoutError,
    NodeNotReadyError,
    RequestTimedOutError,
)
"""Errors that mean the cluster cannot be reached (as opposed to misuse)."""


def _construct(client_class: Any, *args: Any, **config: Any) -> Any:
    """Build a kafka-python client, closing its network client if it fails.

    kafka-python connects while constructing and, when no broker answers,
    raises without closing the sockets it opened; we close them here.
    """
    opened: list[Any] = []

    def network_client(**kwargs: Any) -> Any:
        client = KafkaClient(**kwargs)
        opened.append(client)
        return client

    try:
        return client_class(*args, kafka_client=network_client, **config)
    except UNREACHABLE as e:
        for client in opened:
            client.close()
        raise DependencyUnavailableError("kafka", str(e)) from e
    except BaseException:
        for client in opened:
            client.close()
        raise


def _servers(settings: Settings) -> list[str]:
    return [s.strip() for s in settings.kafka_bootstrap_servers.split(",") if s.strip()]


def producer(settings: Settings) -> Any:
    """Idempotent producer that waits for all in-sync replicas."""
    return _construct(
        KafkaProducer,
        bootstrap_servers=_servers(settings),
        client_id="assurehub-relay",
        acks="all",
        enable_idempotence=True,
        max_in_flight_requests_per_connection=1,
        linger_ms=2,
        request_timeout_ms=_TIMEOUT_MS,
        delivery_timeout_ms=10_000,
        max_block_ms=_TIMEOUT_MS,
    )


def _consumer_config(settings: Settings, max_poll_records: int) -> dict[str, Any]:
    return {
        "bootstrap_servers": _servers(settings),
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "max_poll_records": max_poll_records,
        "fetch_max_bytes": _FETCH_MAX_BYTES,
        # kafka-python refuses frames over 1 MB by default, less than one
        # fetch may return; the margin covers the response's own framing.
        "receive_message_max_bytes": _FETCH_MAX_BYTES + 1_048_576,
        "request_timeout_ms": 30_000,
    }


def consumer(
    settings: Settings,
    group_id: str,
    topic: str | None = None,
    max_poll_records: int = _MAX_POLL_RECORDS,
) -> Any:
    """Group member that commits offsets only when told to; a poll returns
    at most ``max_poll_records`` records."""
    return _construct(
        KafkaConsumer,
        topic or settings.kafka_topic,
        group_id=group_id,
        client_id=group_id,
        session_timeout_ms=10_000,
        heartbeat_interval_ms=1_000,
        **_consumer_config(settings, max_poll_records),
    )


def reader(
    settings: Settings, client_id: str, max_poll_records: int = _MAX_POLL_RECORDS
) -> Any:
    """Consumer outside any group, for partitions assigned by hand (a
    projection catching up alone); it commits nothing."""
    return _construct(
        KafkaConsumer,
        group_id=None,
        client_id=client_id,
        **_consumer_config(settings, max_poll_records),
    )


def ensure_topic(settings: Settings, topic: str | None = None) -> bool:
    """Create the events topic if missing; return whether it was created."""
    name = topic or settings.kafka_topic
    admin = _construct(
        KafkaAdminClient,
        bootstrap_servers=_servers(settings),
        client_id="assurehub-admin",
        request_timeout_ms=_TIMEOUT_MS,
    )
    try:
        admin.create_topics(
            [
                NewTopic(
                    name,
                    num_partitions=settings.kafka_partitions,
                    replication_factor=settings.kafka_replication_factor,
                    topic_configs={
                        "min.insync.replicas": str(
                            max(1, settings.kafka_replication_factor - 1)
                        )
                    },
                )
            ]
        )
        log.info("kafka topic created", extra={"topic": name})
        return True
    except TopicAlreadyExistsError:
        return False
    except KafkaError as e:
        raise DependencyUnavailableError("kafka", str(e)) from e
    finally:
        admin.close()


def ping(settings: Settings) -> None:
    """Raise :class:`DependencyUnavailableError` unless a broker answers."""
    admin = _construct(
        KafkaAdminClient,
        bootstrap_servers=_servers(settings),
        client_id="assurehub-health",
        request_timeout_ms=2_000,
    )
    admin.close()
