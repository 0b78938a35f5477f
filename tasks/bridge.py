"""Stage 3: the Kafka bridge. ``python -m tasks.bridge``

A consumer-group member that polls batches of ticks and dispatches ONE persist
task and ONE alert-check task per batch. Lifecycle of a step: poll, decode,
dead-letter, dispatch, follow. A record that is not a valid tick of a known symbol
goes to ``<topic>.dlq`` with the reason in its ``error`` header, and the batch goes
on without it. If the dead letters or the dispatch fail, the consumer seeks back so
the same batch is polled again.

The Kafka log is the truth and PostgreSQL the record of what was consumed
(app/pipeline/progress.py): each task carries its batch's offset spans and records
them in the transaction of its work. "Follow" reads how far PostgreSQL holds each
partition without a gap, commits exactly that to Kafka, and seeks back to it when
dispatched offsets stay unrecorded past ``KAFKA_REPLAY_AFTER_SECONDS``: whatever the
Celery broker loses is dispatched again. A partition this bridge is given starts
where PostgreSQL holds it. SIGTERM/SIGINT only set a flag the loop checks; the
consumer is closed in ``finally``.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import redis
from celery import Celery
from kafka import ConsumerRebalanceListener, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata

from app.market.ticks import Tick, TickError, check_recent
from app.pipeline.progress import Ledger, Span
from app.pipeline.pubsub import count_stage, record_stage
from app.services import dead_letter_topic, topic_id, topic_retention_hours
from config.settings import Settings
from tasks.pipeline import ALERT_TASK, PERSIST_TASK
from tasks.producer import recreate_topic

log = logging.getLogger(__name__)
Dispatch = Callable[[list[dict[str, Any]], list[Span]], None]
MAX_BACKOFF_SECONDS = 30.0
FOLLOW_SECONDS = 0.5  # how often the bridge reads what PostgreSQL holds (and commits it to Kafka)
MAX_REPLAY_WAIT_SECONDS = 600.0  # a partition replayed again and again waits at most this long between
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
    where PostgreSQL holds it (``Bridge._settle``). kafka-python keeps the position a partition had
    before the rebalance, which skipped the first messages of a topic that a restarted in-memory
    broker (Tansu) lost and made again. The offsets are asked for outside this listener: it runs on
    kafka-python's IO thread, which must not block.
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


def start_offset(recorded: int | None, committed: int | None, beginning: int) -> tuple[int, str | None]:
    """Where a partition starts: the frontier PostgreSQL holds, else Kafka's committed offset (an
    install from before the record), else the log's beginning; with why, if records were lost.

    A start before the log's beginning means the broker deleted records (retention) that were
    never stored: say so, and start at what is left.
    """
    offset = recorded if recorded is not None else committed
    if offset is None:
        return beginning, None
    if offset < beginning:
        return beginning, f"offsets {offset} to {beginning - 1} were deleted by the broker before they were stored"
    return offset, None


def celery_dispatch(celery: Celery) -> Dispatch:
    """Send one persist and one alert-check task per batch; raises if the broker refuses."""
    policy = {"max_retries": 3, "interval_start": 0.2, "interval_step": 0.5, "interval_max": 2}

    def dispatch(messages: list[dict[str, Any]], spans: list[Span]) -> None:
        args = (messages, [span.to_message() for span in spans])
        for task in (PERSIST_TASK, ALERT_TASK):
            celery.send_task(task, args, retry=True, retry_policy=policy)

    return dispatch


@dataclass
class Partition:
    """What the bridge follows of one partition it owns."""

    recorded: int  # every offset before this is held by PostgreSQL (both stages)
    position: int  # where the next batch of it starts: the end of the last one dispatched
    in_flight: deque[tuple[int, float]] = field(default_factory=deque)  # (next offset, dispatched at) not recorded
    replays: int = 0  # replays since the frontier last moved: each waits twice as long


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
        ledger: Ledger,
        topic_id: Callable[[], str],
        replay_after_seconds: float,
        recreate_topic: Callable[[], None] | None = None,
    ) -> None:
        self.consumer = consumer
        self.topic = topic
        self.rebalance = Rebalance(consumer)
        consumer.subscribe([topic], listener=self.rebalance)
        self.dispatch = dispatch
        self.status = status
        self.poll_timeout_ms = poll_timeout_ms
        self.dead_letters = dead_letters
        self.known_symbols = known_symbols
        self.ledger = ledger
        self.topic_id_of = topic_id
        self.topic_id = ""  # the broker's id of the topic, read when partitions are assigned
        self.replay_after = replay_after_seconds
        self.recreate_topic = recreate_topic
        self.partitions: dict[TopicPartition, Partition] = {}
        self.stopping = False
        self._backoff = 0.5
        self._followed_at = float("-inf")
        self._ledger_down = False

    def stop(self, *_: object) -> None:
        self.stopping = True

    def step(self) -> int:
        """Poll one batch and hand it off; follow what PostgreSQL holds. Returns ticks dispatched."""
        batch = self.consumer.poll(timeout_ms=self.poll_timeout_ms)
        try:
            self._settle()  # a rebalance in that poll paused what it assigned: nothing of it came back
        except Exception:
            self._rewind(batch)  # PostgreSQL or the broker could not say where to start: poll it again
            raise
        dispatched = self._hand_off(batch) if batch else 0
        self.follow()
        return dispatched

    def _hand_off(self, batch: dict[TopicPartition, list[Any]]) -> int:
        spans = [self._span(tp, records) for tp, records in batch.items()]
        try:
            messages, bad = self._sort(batch)
            if bad:
                self.dead_letters.send(bad)
            self.dispatch(messages, spans)  # with no ticks too: the tasks record the spans as done
        except Exception:
            self._rewind(batch)
            raise
        now = time.monotonic()
        for tp, span in zip(batch, spans, strict=True):
            partition = self.partitions.get(tp)
            if partition is not None:
                partition.in_flight.append((span.next, now))
                partition.position = span.next
        self._report(len(messages), len(bad), spans)
        return len(messages)

    def _span(self, tp: TopicPartition, records: list[Any]) -> Span:
        """The offsets a batch of one partition covers: from where consumption stood, so offsets
        the broker holds no record at (deleted, or not consumable) leave no gap that never fills."""
        first = records[0].offset
        partition = self.partitions.get(tp)
        if partition is not None and partition.position < first:
            log.warning(
                "partition %d: offsets %d-%d were not there to consume (deleted by the broker?)",
                tp.partition, partition.position, first - 1,
            )  # fmt: skip
            first = partition.position
        return Span(tp.topic, self.topic_id, tp.partition, first, records[-1].offset + 1)

    def follow(self, force: bool = False) -> None:
        """Read how far PostgreSQL holds each partition with offsets in flight; store that frontier,
        commit it to Kafka, and replay from it what stayed unrecorded past the deadline."""
        now = time.monotonic()
        if not force and now - self._followed_at < FOLLOW_SECONDS:
            return
        self._followed_at = now
        waiting = {tp: p for tp, p in self.partitions.items() if p.in_flight}
        if not waiting:
            return
        try:
            reach = self.ledger.frontiers(self.topic_id, {tp.partition: p.recorded for tp, p in waiting.items()})
            moved = {tp: reach[tp.partition] for tp, p in waiting.items() if reach[tp.partition] > p.recorded}
            self.ledger.advance(self.topic_id, {tp.partition: offset for tp, offset in moved.items()})
        except Exception as exc:  # PostgreSQL away: nothing is committed or replayed until it is back
            if not self._ledger_down:
                log.error("cannot read what PostgreSQL holds, so no offset is committed meanwhile: %s", exc)
            self._ledger_down = True
            return
        if self._ledger_down:
            log.info("PostgreSQL answers again: committing what it holds")
        self._ledger_down = False
        for tp, offset in moved.items():
            partition = waiting[tp]
            partition.recorded, partition.replays = offset, 0
            while partition.in_flight and partition.in_flight[0][0] <= offset:
                partition.in_flight.popleft()
        self._commit(moved)
        for tp, partition in waiting.items():
            if partition.in_flight and now - partition.in_flight[0][1] > self._patience(partition):
                self._replay(tp, partition, now - partition.in_flight[0][1])

    def _patience(self, partition: Partition) -> float:
        """How long dispatched offsets may stay unrecorded: the deadline, doubled at each replay
        that did not help (a worker down for long is not flooded with copies)."""
        return min(self.replay_after * 2 ** min(partition.replays, 16), max(MAX_REPLAY_WAIT_SECONDS, self.replay_after))

    def _commit(self, offsets: dict[TopicPartition, int]) -> None:
        if not offsets:
            return
        try:
            self.consumer.commit({tp: OffsetAndMetadata(offset, "", -1) for tp, offset in offsets.items()})
        except KafkaError as exc:  # PostgreSQL holds them: the next commit or a restart covers these
            log.warning("could not commit offsets to Kafka (PostgreSQL holds them): %s", exc)
        log.debug("committed %s", {tp.partition: offset for tp, offset in offsets.items()})

    def _replay(self, tp: TopicPartition, partition: Partition, waited: float) -> None:
        """Dispatch again everything from the partition's frontier: the tasks were lost or keep failing."""
        last = partition.in_flight[-1][0] - 1
        log.warning(
            "partition %d: offsets %d-%d not recorded by PostgreSQL %.0f s after dispatch (tasks lost or failing); "
            "dispatching them again",
            tp.partition, partition.recorded, last, waited,
        )  # fmt: skip
        self.consumer.seek(tp, partition.recorded)
        partition.position = partition.recorded
        partition.in_flight.clear()
        partition.replays += 1
        if self.status is not None:
            with contextlib.suppress(redis.RedisError):
                count_stage(self.status, "bridge", "replays", 1)

    def _settle(self) -> None:
        """Start each newly assigned partition where PostgreSQL holds it; resume it."""
        owned = self.consumer.assignment()
        for tp in [tp for tp in self.partitions if tp not in owned]:
            del self.partitions[tp]  # revoked: its new owner starts from what PostgreSQL holds
        if not self.rebalance.unsettled:
            return
        tps = sorted(self.rebalance.unsettled)
        topic_id = self.topic_id_of()
        if topic_id != self.topic_id and self.ledger.forget_other_ids(topic_id):
            log.warning(
                "topic %r was made again (id %s): what was recorded of the old one no longer applies",
                self.topic,
                topic_id,
            )
        self.topic_id = topic_id
        beginnings = self.consumer.beginning_offsets(tps)
        recorded = self.ledger.held(topic_id, [tp.partition for tp in tps])
        starts: dict[int, int] = {}
        for tp in tps:
            starts[tp.partition], why = start_offset(
                recorded.get(tp.partition), self.consumer.committed(tp), beginnings[tp]
            )
            if why is not None:
                log.error("partition %d starts at %d: %s", tp.partition, starts[tp.partition], why)
        # Spans recorded after the last frontier was stored (a bridge killed meanwhile) count too.
        reach = self.ledger.frontiers(topic_id, starts)
        self.ledger.advance(topic_id, reach)
        for tp in tps:
            self.consumer.seek(tp, reach[tp.partition])
            self.partitions[tp] = Partition(recorded=reach[tp.partition], position=reach[tp.partition])
            self.consumer.resume(tp)
            self.rebalance.unsettled.discard(tp)
        log.info("partitions start at %s", {tp.partition: reach[tp.partition] for tp in tps})

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
        owned = self.consumer.assignment()
        for tp, records in (batch or {}).items():
            if tp not in owned:
                continue  # revoked meanwhile: its new owner starts where PostgreSQL holds it
            self.consumer.seek(tp, records[0].offset)

    def _report(self, dispatched: int, bad: int, spans: list[Span]) -> None:
        log.debug("dispatched %d ticks of %s", dispatched, spans)
        if self.status is None:
            return
        try:
            record_stage(self.status, "bridge", batch=dispatched, partitions=sorted(s.partition for s in spans))
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


def check_retention(settings: Settings) -> float | None:
    """Say at start if the broker keeps ticks for less than KAFKA_RETENTION_HOURS: a replay (of
    what the Celery broker lost, or after PostgreSQL was away) reaches back only that far."""
    topic = settings.kafka_topic
    try:
        hours = topic_retention_hours(settings.require("KAFKA_BOOTSTRAP_SERVERS"), topic)
    except KafkaError as exc:
        log.warning("could not read topic %r's retention from the broker: %s", topic, exc)
        return None
    if hours is None:
        log.info("the broker does not say how long it keeps topic %r: replays reach back as far as it does", topic)
    elif hours < settings.kafka_retention_hours:
        log.error(
            "Kafka keeps topic %r for %g h, less than KAFKA_RETENTION_HOURS (%d h): ticks not stored within %g h "
            "are lost for good; raise the topic's retention.ms or lower the setting",
            topic, hours, settings.kafka_retention_hours, hours,
        )  # fmt: skip
    return hours


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
        Ledger(flask_app, settings.kafka_topic),
        lambda: topic_id(settings.require("KAFKA_BOOTSTRAP_SERVERS"), settings.kafka_topic),
        settings.kafka_replay_after_seconds,
        lambda: recreate_topic(settings),
    )
    check_retention(settings)
    signal.signal(signal.SIGTERM, bridge.stop)
    signal.signal(signal.SIGINT, bridge.stop)
    log.info(
        "bridge consuming %r as group %r from %s",
        settings.kafka_topic, settings.kafka_consumer_group, settings.kafka_bootstrap_servers,
    )  # fmt: skip
    bridge.run()


if __name__ == "__main__":
    main()
