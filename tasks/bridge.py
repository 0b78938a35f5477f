"""Stage 3: the Kafka bridge. ``python -m tasks.bridge``

A consumer-group member that polls batches of ticks and dispatches ONE persist
task and ONE alert-check task per batch. Lifecycle of a step: poll, decode,
dispatch, commit. Offsets are committed only after the dispatch succeeded; if it
fails the consumer seeks back so the same batch is polled again. SIGTERM/SIGINT
only set a flag the loop checks; the consumer is closed in ``finally``.
"""

from __future__ import annotations

import argparse
import logging
import signal
import time
from collections.abc import Callable
from typing import Any

import redis
from celery import Celery
from kafka import ConsumerRebalanceListener, KafkaConsumer, TopicPartition
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata

from app.market.ticks import Tick, TickError
from app.pipeline.pubsub import count_stage, record_stage
from config.settings import Settings
from tasks.pipeline import ALERT_TASK, PERSIST_TASK

log = logging.getLogger(__name__)
Dispatch = Callable[[list[dict[str, Any]]], None]
MAX_BACKOFF_SECONDS = 30.0


def make_consumer(settings: Settings) -> KafkaConsumer:
    consumer = KafkaConsumer(
        bootstrap_servers=settings.require("KAFKA_BOOTSTRAP_SERVERS"),
        group_id=settings.kafka_consumer_group,
        client_id="stockticker-bridge",
        enable_auto_commit=False,
        auto_offset_reset="earliest",  # a new group loses nothing; replays are deduplicated
        session_timeout_ms=settings.kafka_session_timeout_ms,
        heartbeat_interval_ms=settings.kafka_heartbeat_interval_ms,
        max_poll_records=settings.kafka_max_poll_records,
        # The broker may hold a fetch this long waiting for data: with Kafka's 500 ms the embedded
        # broker answered tens to hundreds of ms after the ticks landed (docs/benchmarks.md, latency).
        fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
    )
    consumer.subscribe([settings.kafka_topic], listener=LogRebalance())
    return consumer


class LogRebalance(ConsumerRebalanceListener):
    """One line per rebalance: which partitions this bridge now owns (several bridges share them)."""

    def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        if revoked:
            log.info("partitions revoked: %s", sorted(tp.partition for tp in revoked))

    def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        log.info("partitions assigned: %s", sorted(tp.partition for tp in assigned))


def celery_dispatch(celery: Celery) -> Dispatch:
    """Send one persist and one alert-check task per batch; raises if the broker refuses."""
    policy = {"max_retries": 3, "interval_start": 0.2, "interval_step": 0.5, "interval_max": 2}

    def dispatch(messages: list[dict[str, Any]]) -> None:
        for task in (PERSIST_TASK, ALERT_TASK):
            celery.send_task(task, (messages,), retry=True, retry_policy=policy)

    return dispatch


class Bridge:
    def __init__(
        self, consumer: KafkaConsumer, dispatch: Dispatch, status: redis.Redis | None, poll_timeout_ms: int
    ) -> None:
        self.consumer = consumer
        self.dispatch = dispatch
        self.status = status
        self.poll_timeout_ms = poll_timeout_ms
        self.stopping = False
        self._backoff = 0.5

    def stop(self, *_: object) -> None:
        self.stopping = True

    def step(self) -> int:
        """Poll one batch and hand it off; returns how many ticks were dispatched."""
        batch = self.consumer.poll(timeout_ms=self.poll_timeout_ms)
        if not batch:
            return 0
        messages: list[dict[str, Any]] = []
        bad = 0
        for records in batch.values():
            for record in records:
                try:
                    messages.append(Tick.decode(record.value).to_message())
                except TickError as exc:
                    bad += 1
                    log.warning(
                        "skipping bad message at %s[%d]@%d: %s", record.topic, record.partition, record.offset, exc
                    )
        try:
            if messages:
                self.dispatch(messages)
        except Exception:
            self._rewind(batch)
            raise
        offsets = {tp: OffsetAndMetadata(records[-1].offset + 1, "", -1) for tp, records in batch.items()}
        self.consumer.commit(offsets)
        self._report(len(messages), bad, offsets)
        return len(messages)

    def _rewind(self, batch: dict[TopicPartition, list[Any]]) -> None:
        for tp, records in batch.items():
            self.consumer.seek(tp, records[0].offset)

    def _report(self, dispatched: int, bad: int, offsets: dict[TopicPartition, OffsetAndMetadata]) -> None:
        log.debug(
            "dispatched %d ticks; committed %s", dispatched, {tp.partition: o.offset for tp, o in offsets.items()}
        )
        if self.status is None:
            return
        try:
            record_stage(self.status, "bridge", batch=dispatched, partitions=sorted(tp.partition for tp in offsets))
            if bad:
                count_stage(self.status, "bridge", "bad_messages", bad)
        except redis.RedisError as exc:
            log.warning("could not record bridge status in Redis: %s", exc)

    def run(self) -> None:
        """Step until stopped; a failed step is logged and retried with backoff."""
        try:
            while not self.stopping:
                try:
                    self.step()
                    self._backoff = 0.5
                except KafkaError as exc:
                    self._pause(f"Kafka error: {exc}")
                except Exception as exc:  # dispatch failed (broker down): the batch is polled again
                    self._pause(f"dispatch failed, batch will be re-polled: {exc}")
        finally:
            self.consumer.close()
            log.info("bridge stopped")

    def _pause(self, why: str) -> None:
        log.error("%s; retrying in %.1f s", why, self._backoff)
        time.sleep(self._backoff)
        self._backoff = min(self._backoff * 2, MAX_BACKOFF_SECONDS)


def main(argv: list[str] | None = None) -> None:
    argparse.ArgumentParser(
        prog="python -m tasks.bridge",
        description="Kafka bridge: consume ticks as a consumer-group member and dispatch one persist and one "
        "alert-check Celery task per batch. Configured by environment variables (KAFKA_BOOTSTRAP_SERVERS, "
        "KAFKA_TOPIC, KAFKA_CONSUMER_GROUP, KAFKA_* timeouts, CELERY_BROKER_URL; see the README). "
        "Stops cleanly on SIGTERM or SIGINT.",
    ).parse_args(argv)
    from tasks.celery_app import celery, flask_app

    settings: Settings = flask_app.config["SETTINGS"]
    bridge = Bridge(
        make_consumer(settings),
        celery_dispatch(celery),
        flask_app.extensions["redis"],
        settings.kafka_poll_timeout_ms,
    )
    signal.signal(signal.SIGTERM, bridge.stop)
    signal.signal(signal.SIGINT, bridge.stop)
    log.info(
        "bridge consuming %r as group %r from %s",
        settings.kafka_topic, settings.kafka_consumer_group, settings.kafka_bootstrap_servers,
    )  # fmt: skip
    bridge.run()


if __name__ == "__main__":
    main()
