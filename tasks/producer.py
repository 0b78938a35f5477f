"""Kafka producer for ticks: one per process, made lazily after fork (never at import).

Topics are never auto-created (a broker would give them its own partition count): each process
makes sure the topic exists before its first send, and again after any Kafka error, so the
topic comes back with KAFKA_PARTITIONS when a broker that keeps topics in memory restarts.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence

from kafka import KafkaProducer
from kafka.errors import KafkaError

from app.market.ticks import Tick
from app.services import ensure_topic
from config.settings import Settings

log = logging.getLogger(__name__)
_producer: KafkaProducer | None = None
_producer_pid: int | None = None
_topic_checked = False


def get_producer(settings: Settings) -> KafkaProducer:
    global _producer, _producer_pid
    if _producer is None or _producer_pid != os.getpid():
        _producer = KafkaProducer(
            bootstrap_servers=settings.require("KAFKA_BOOTSTRAP_SERVERS"),
            client_id=f"stockticker-fetch-{os.getpid()}",
            acks="all",
            linger_ms=5,
            retries=5,
            request_timeout_ms=10_000,
            max_block_ms=10_000,
            allow_auto_create_topics=False,
        )
        _producer_pid = os.getpid()
    return _producer


def produce_ticks(settings: Settings, ticks: Sequence[Tick]) -> None:
    """Send one message per tick, key = symbol (a symbol's ticks stay in order on one
    partition), and wait until the broker has them all; raises KafkaError if not."""
    global _topic_checked
    producer = get_producer(settings)
    try:
        if not _topic_checked:
            recreate_topic(settings)
            _topic_checked = True
        futures = [producer.send(settings.kafka_topic, key=t.symbol.encode(), value=t.encode()) for t in ticks]
        producer.flush(timeout=10)
        for future in futures:
            future.get(timeout=0)  # re-raises the send's error, if any
    except KafkaError:
        # A fresh producer next time, and the topic checked again: kafka-python's sender can stay
        # failed for good (seen: InitProducerId refused by a broker just restarted), and the
        # broker may have come back without the topic.
        close_producer(timeout=1)
        raise


def recreate_topic(settings: Settings) -> None:
    """Make the ticks topic (and its dead-letter topic) if the broker lost them; log when it had."""
    bootstrap = settings.require("KAFKA_BOOTSTRAP_SERVERS")
    if ensure_topic(bootstrap, settings.kafka_topic, settings.kafka_partitions, settings.kafka_retention_hours):
        log.warning(
            "Kafka topic %r was missing (a broker restart loses an in-memory broker's topics): made it with %d "
            "partitions",
            settings.kafka_topic,
            settings.kafka_partitions,
        )


def close_producer(timeout: float = 5) -> None:
    """Flush and close this process's producer, if it made one (worker shutdown, tests, errors)."""
    global _producer, _producer_pid, _topic_checked
    _topic_checked = False
    if _producer is not None and _producer_pid == os.getpid():
        _producer.close(timeout=timeout)
    _producer, _producer_pid = None, None
