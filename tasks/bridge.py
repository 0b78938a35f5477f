"""Stage 3: the Kafka bridge. ``python -m tasks.bridge``

A consumer-group member that polls batches of ticks and dispatches ONE persist
task and ONE alert-check task per batch. Lifecycle of a step: poll, decode,
dead-letter, dispatch, commit. A record that is not a valid tick of a known symbol
goes to ``<topic>.dlq`` with the reason in its ``error`` header, and the batch goes
on without it. Offsets are committed only after the dead letters were acknowledged
and the dispatch succeeded; if either fails the consumer seeks back so the same
batch is polled again. SIGTERM/SIGINT only set a flag the loop checks; the consumer
is closed in ``finally``.
"""

from __future__ import annotations

import argparse
import logging
import signal
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import redis
from celery import Celery
from kafka import ConsumerRebalanceListener, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata

from app.market.ticks import Tick, TickError, check_recent
from app.pipeline.pubsub import count_stage, record_stage
from app.services import dead_letter_topic
from config.settings import Settings
from tasks.pipeline import ALERT_TASK, PERSIST_TASK
from tasks.producer import recreate_topic

log = logging.getLogger(__name__)
Dispatch = Callable[[list[dict[str, Any]]], None]
MAX_BACKOFF_SECONDS = 30.0
# A dead letter keeps this much of the record (a 1 MB poison message must not be refused by
# the broker in turn, which would stall the partition); its header "size" says how big it was.
DEAD_LETTER_MAX_BYTES = 64 * 1024
SYMBOLS_RELOAD_SECONDS = 1.0
METADATA_MAX_AGE_MS = 5000


class DeadLetters:
    """Records the bridge cannot use, sent to ``<topic>.dlq`` and acknowledged before the commit."""

    def __init__(self, producer: KafkaProducer, topic: str) -> None:
        self.producer = producer
        self.topic = topic

    def send(self, records: list[tuple[Any, str]]) -> None:
        """Send every (record, error) and wait for the broker's answer; raises if one failed."""
        futures = []
        for record, error in records:
            value: bytes = record.value or b""
            headers = [
                ("error", error.encode()[:1000]),
                ("source", f"{record.topic}[{record.partition}]@{record.offset}".encode()),
                ("size", str(len(value)).encode()),
            ]
            futures.append(
                self.producer.send(self.topic, key=record.key, value=value[:DEAD_LETTER_MAX_BYTES], headers=headers)
            )
        self.producer.flush(timeout=10)
        for future in futures:
            future.get(timeout=10)  # raises the broker's error: the batch is polled again

    def close(self) -> None:
        self.producer.close(timeout=5)


class KnownSymbols:
    """The symbols table, cached; a symbol not seen yet reloads it (at most once a second), so a
    symbol added at runtime is known at its first tick."""

    def __init__(self, load: Callable[[], set[str]]) -> None:
        self._load = load
        self._symbols: set[str] = set()
        self._loaded_at = float("-inf")

    def __contains__(self, symbol: object) -> bool:
        if symbol not in self._symbols and time.monotonic() - self._loaded_at >= SYMBOLS_RELOAD_SECONDS:
            self._symbols = self._load()
            self._loaded_at = time.monotonic()
        return symbol in self._symbols


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
        # Never auto-create (the broker's partition count; Tansu creates on first use anyway);
        # notice a re-made topic within seconds.
        allow_auto_create_topics=False,
        metadata_max_age_ms=METADATA_MAX_AGE_MS,
    )
    return consumer


class Rebalance(ConsumerRebalanceListener):
    """One line per rebalance: which partitions this bridge now owns (several bridges share them).

    Each partition it is given starts paused and "unsettled" until the bridge has set its position
    from the group's committed offset, or to the start where there is none. kafka-python keeps the
    position a partition had before the rebalance, which skipped the first messages of a topic that
    a restarted in-memory broker (Tansu) lost and made again. The committed offset is asked for
    outside this listener: it runs on kafka-python's IO thread, which must not block.
    """

    def __init__(self, consumer: KafkaConsumer) -> None:
        self.consumer = consumer
        self.unsettled: set[TopicPartition] = set()

    def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        self.unsettled -= revoked
        if revoked:
            log.info("partitions revoked: %s", sorted(tp.partition for tp in revoked))

    def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        log.info("partitions assigned: %s", sorted(tp.partition for tp in assigned))
        if assigned:
            self.consumer.pause(*assigned)
            self.unsettled |= assigned

    def settle(self) -> None:
        """Position each newly assigned partition at its committed offset (or its start); resume it."""
        for tp in sorted(self.unsettled):
            offset = self.consumer.committed(tp)
            if offset is None:
                self.consumer.seek_to_beginning(tp)
            else:
                self.consumer.seek(tp, offset)
            self.consumer.resume(tp)
            self.unsettled.discard(tp)


def celery_dispatch(celery: Celery) -> Dispatch:
    """Send one persist and one alert-check task per batch; raises if the broker refuses."""
    policy = {"max_retries": 3, "interval_start": 0.2, "interval_step": 0.5, "interval_max": 2}

    def dispatch(messages: list[dict[str, Any]]) -> None:
        for task in (PERSIST_TASK, ALERT_TASK):
            celery.send_task(task, (messages,), retry=True, retry_policy=policy)

    return dispatch


class Bridge:
    def __init__(
        self,
        consumer: KafkaConsumer,
        topic: str,
        dispatch: Dispatch,
        status: redis.Redis | None,
        poll_timeout_ms: int,
        dead_letters: DeadLetters,
        known_symbols: KnownSymbols | set[str],
        recreate_topic: Callable[[], None] | None = None,
    ) -> None:
        self.consumer = consumer
        self.rebalance = Rebalance(consumer)
        consumer.subscribe([topic], listener=self.rebalance)
        self.dispatch = dispatch
        self.status = status
        self.poll_timeout_ms = poll_timeout_ms
        self.dead_letters = dead_letters
        self.known_symbols = known_symbols
        self.recreate_topic = recreate_topic
        self.stopping = False
        self._backoff = 0.5

    def stop(self, *_: object) -> None:
        self.stopping = True

    def step(self) -> int:
        """Poll one batch and hand it off; returns how many ticks were dispatched."""
        batch = self.consumer.poll(timeout_ms=self.poll_timeout_ms)
        self.rebalance.settle()  # a rebalance in that poll paused what it assigned: nothing of it came back
        if not batch:
            return 0
        try:
            messages, bad = self._sort(batch)
            if bad:
                self.dead_letters.send(bad)
            if messages:
                self.dispatch(messages)
        except Exception:
            self._rewind(batch)
            raise
        offsets = {tp: OffsetAndMetadata(records[-1].offset + 1, "", -1) for tp, records in batch.items()}
        self.consumer.commit(offsets)
        self._report(len(messages), len(bad), offsets)
        return len(messages)

    def _sort(self, batch: dict[TopicPartition, list[Any]]) -> tuple[list[dict[str, Any]], list[tuple[Any, str]]]:
        """The batch's ticks as task messages, and its records that are not ticks, with why."""
        messages: list[dict[str, Any]] = []
        bad: list[tuple[Any, str]] = []
        for records in batch.values():
            for record in records:
                try:
                    messages.append(self._decode(record.value))
                except TickError as exc:
                    bad.append((record, str(exc)))
                    log.warning(
                        "bad message at %s[%d]@%d sent to %s: %s",
                        record.topic, record.partition, record.offset, self.dead_letters.topic, exc,
                    )  # fmt: skip
        return messages, bad

    def _decode(self, raw: bytes | None) -> dict[str, Any]:
        tick = Tick.decode(raw or b"")
        check_recent(tick, datetime.now(UTC))
        if tick.symbol not in self.known_symbols:
            raise TickError(f"unknown symbol {tick.symbol!r} (not in the symbols table)")
        return tick.to_message()

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
                    self._recreate_topic()
                except Exception as exc:  # Celery's broker or PostgreSQL (symbols) down: poll it again
                    self._pause(f"batch not handed off, it will be polled again: {exc}")
        finally:
            self.consumer.close()
            self.dead_letters.close()
            log.info("bridge stopped")

    def _recreate_topic(self) -> None:
        """After a Kafka error the broker may have come back without the topics: make them."""
        if self.recreate_topic is None:
            return
        try:
            self.recreate_topic()
        except KafkaError as exc:
            log.warning("could not make sure the topics exist yet: %s", exc)

    def _pause(self, why: str) -> None:
        log.error("%s; retrying in %.1f s", why, self._backoff)
        time.sleep(self._backoff)
        self._backoff = min(self._backoff * 2, MAX_BACKOFF_SECONDS)


def make_dead_letters(settings: Settings) -> DeadLetters:
    producer = KafkaProducer(
        bootstrap_servers=settings.require("KAFKA_BOOTSTRAP_SERVERS"),
        client_id="stockticker-bridge-dlq",
        acks="all",
        max_request_size=4 * DEAD_LETTER_MAX_BYTES,
        max_block_ms=10_000,
        allow_auto_create_topics=False,
    )
    return DeadLetters(producer, dead_letter_topic(settings.kafka_topic))


def _symbols_in_database(flask_app: Any) -> set[str]:
    from app.market.prices import all_symbols

    with flask_app.app_context():
        return all_symbols()


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
        settings.kafka_topic,
        celery_dispatch(celery),
        flask_app.extensions["redis"],
        settings.kafka_poll_timeout_ms,
        make_dead_letters(settings),
        KnownSymbols(lambda: _symbols_in_database(flask_app)),
        lambda: recreate_topic(settings),
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
