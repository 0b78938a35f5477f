"""Kafka producer for ticks: one per process, made lazily after fork (never at import)."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence

from kafka import KafkaProducer

from app.market.ticks import Tick
from config.settings import Settings

log = logging.getLogger(__name__)
_producer: KafkaProducer | None = None
_producer_pid: int | None = None


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
        )
        _producer_pid = os.getpid()
    return _producer


def produce_ticks(settings: Settings, ticks: Sequence[Tick]) -> None:
    """Send one message per tick, key = symbol (a symbol's ticks stay in order on one
    partition), and wait until the broker has them all; raises KafkaError if not."""
    producer = get_producer(settings)
    futures = [producer.send(settings.kafka_topic, key=t.symbol.encode(), value=t.encode()) for t in ticks]
    producer.flush(timeout=10)
    for future in futures:
        future.get(timeout=0)  # re-raises the send's error, if any


def close_producer() -> None:
    """Flush and close this process's producer, if it made one (worker shutdown, tests)."""
    global _producer, _producer_pid
    if _producer is not None and _producer_pid == os.getpid():
        _producer.close(timeout=5)
    _producer, _producer_pid = None, None
