"""Clients of the servers the web app talks to, one per process, reached through the app."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import redis
from flask import current_app
from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic
from kafka.errors import TopicAlreadyExistsError, UnknownTopicOrPartitionError
from kafka.net.compat import KafkaNetClient
from sqlalchemy.exc import DBAPIError

from app.pipeline.kafka_sockets import close_failed_sockets

close_failed_sockets()  # every process that talks to Kafka imports this module


def redis_client() -> redis.Redis:
    return current_app.extensions["redis"]


def outage_reason(exc: BaseException) -> str:
    """The first line of why a server could not be reached (the driver's words, no SQL): for logs
    and status, where a person on call reads it."""
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    return (str(cause).strip().splitlines() or [type(cause).__name__])[0]


def kafka_admin(bootstrap_servers: str, timeout_ms: int = 5000) -> KafkaAdminClient:
    """An admin client that gives up after ``timeout_ms``, also while it looks for a broker (its
    own bootstrap wait is 30 s: /healthz took that long with the broker down)."""
    made: list[KafkaNetClient] = []

    def net_client(**configs: Any) -> KafkaNetClient:
        made.append(KafkaNetClient(**configs))
        return made[-1]

    try:
        return KafkaAdminClient(
            bootstrap_servers=bootstrap_servers,
            client_id="stockticker-admin",
            request_timeout_ms=timeout_ms,
            bootstrap_timeout_ms=timeout_ms,
            kafka_client=net_client,
        )
    except BaseException:
        # kafka-python 3.0.12 starts the admin's IO thread and connections before its bootstrap, and
        # a bootstrap that times out leaves both running: its close() needs a finished __init__.
        # Each /healthz during a Kafka outage would leave one more thread behind.
        for client in made:
            client.close()
        raise


def dead_letter_topic(topic: str) -> str:
    """Where the bridge puts the records of ``topic`` it cannot use."""
    return f"{topic}.dlq"


def ensure_topic(bootstrap_servers: str, topic: str, partitions: int, retention_hours: int | None = None) -> bool:
    """Create the ticks topic with its partition count (and retention, the reach of a replay), and
    its dead-letter topic; False when the ticks topic already existed.

    Created explicitly because an auto-created topic gets the broker's default
    partition count (4 on Tansu), not ours.
    """
    configs = {} if retention_hours is None else {"retention.ms": str(retention_hours * 3_600_000)}
    admin = kafka_admin(bootstrap_servers)
    try:
        created = [
            _create(admin, NewTopic(name, count, replication_factor=1, topic_configs=configs))
            for name, count in ((topic, partitions), (dead_letter_topic(topic), 1))
        ]
    finally:
        admin.close()
    return created[0]


def _create(admin: KafkaAdminClient, topic: NewTopic) -> bool:
    try:
        admin.create_topics([topic])
        return True
    except TopicAlreadyExistsError:
        return False


def topic_id(bootstrap_servers: str, topic: str, timeout_ms: int = 5000) -> str:
    """The broker's id of the topic (a UUID; "" from a broker without topic ids): it changes when
    the topic is deleted and made again, as an in-memory broker's restart does."""
    described = _describe_topic(bootstrap_servers, topic, timeout_ms)
    if described is None:
        raise UnknownTopicOrPartitionError(f"topic {topic!r} is not on the broker")
    found = described.get("topic_id")
    return "" if found is None or str(found) == str(UUID(int=0)) else str(found)


def topic_partitions(bootstrap_servers: str, topic: str, timeout_ms: int = 3000) -> int:
    """How many partitions the topic has (0 when it does not exist)."""
    described = _describe_topic(bootstrap_servers, topic, timeout_ms)
    return 0 if described is None else len(described["partitions"])


def _describe_topic(bootstrap_servers: str, topic: str, timeout_ms: int) -> dict[str, Any] | None:
    """The broker's metadata of one topic, None when it does not exist."""
    admin = kafka_admin(bootstrap_servers, timeout_ms)
    try:
        described = admin.describe_topics([topic])
    finally:
        admin.close()
    if not described or described[0].get("error_code"):
        return None
    return described[0]


def topic_retention_hours(bootstrap_servers: str, topic: str) -> float | None:
    """How long the broker keeps the topic's records, in hours; None if it does not say (Tansu
    answers no configs) or keeps them for ever (-1)."""
    admin = kafka_admin(bootstrap_servers)
    try:
        described = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)], config_filter="all")
    finally:
        admin.close()
    value = described.get("topic", {}).get(topic, {}).get("retention.ms", {}).get("value")
    if value is None or int(value) < 0:
        return None
    return int(value) / 3_600_000
