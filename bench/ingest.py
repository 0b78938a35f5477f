"""Ingest benchmark: ticks preloaded into a Kafka topic, then the bridge and a `celery worker` (both
as the Procfile starts them) store them all. Timed from the first stored row to the last, with
the alert checks drained; the same code with one tick per task (KAFKA_MAX_POLL_RECORDS=1) is
the comparison. RSS of every process is sampled meanwhile."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import redis
from flask import Flask
from kafka import KafkaProducer
from sqlalchemy import func, select, text

from app.extensions import db
from app.market.ticks import Tick
from app.models import Tick as TickRow
from app.services import ensure_topic
from bench.data import add_inactive_symbols
from bench.fanout import group_pids, rss_mb
from devstack.processes import Stack, stack_env
from devstack.run import procfile_commands
from devstack.servers import wait_until

SYMBOLS = [f"I{n:03d}-USD" for n in range(500)]


@dataclass
class IngestResult:
    ticks: int
    seconds: float
    max_rss_mb: dict[str, float]

    @property
    def rate(self) -> float:
        return self.ticks / self.seconds


def _produce(bootstrap: str, topic: str, count: int) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, linger_ms=20, batch_size=256 * 1024, acks=1)
    now = datetime.now(UTC)
    # One a second from 10 days back (the run deletes its symbols' ticks first): a tick must be
    # neither ahead of the clock nor more than 30 days old, or the bridge dead-letters it.
    start = now - timedelta(days=10)
    for i in range(count):
        symbol = SYMBOLS[i % len(SYMBOLS)]
        tick = Tick(symbol, Decimal(100) + i % 97, start + timedelta(seconds=i), now, "simulated")
        producer.send(topic, key=symbol.encode(), value=tick.encode())
    producer.flush()
    producer.close()


def _stored(app: Flask) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(TickRow).where(TickRow.symbol.like("I%")))
        db.session.rollback()
    return int(count)


def run_ingest(
    app: Flask,
    server_env: dict[str, str],
    logs: Path,
    count: int,
    max_poll_records: int = 500,
    candles: bool = True,
    tracked: bool = True,
) -> IngestResult:
    """Preload ``count`` ticks over 500 symbols, start bridge + worker, time until all are stored
    (with the candles kept as the ticks are stored, or not: CANDLES=off; with the consumed offsets
    recorded in PostgreSQL, or not: bench/untracked_bridge.py)."""
    settings = app.config["SETTINGS"]
    with app.app_context():
        for table in ("ticks", "candles_1m", "candles_1h"):
            db.session.execute(text(f"DELETE FROM {table} WHERE symbol LIKE 'I%'"))  # noqa: S608 - fixed names
        add_inactive_symbols(SYMBOLS)
        db.session.commit()
    topic = f"ingest-{uuid.uuid4().hex[:8]}"
    ensure_topic(settings.kafka_bootstrap_servers, topic, settings.kafka_partitions)
    _produce(settings.kafka_bootstrap_servers, topic, count)
    env = stack_env(
        server_env,
        KAFKA_TOPIC=topic,
        KAFKA_CONSUMER_GROUP=f"group-{topic}",
        KAFKA_MAX_POLL_RECORDS=str(max_poll_records),
        CANDLES="on" if candles else "off",
        LOG_LEVEL="WARNING",
    )
    stack = Stack(env, logs)
    commands = procfile_commands()
    peak: dict[str, float] = {}
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.5):
            for name, proc in list(stack.procs.items()):
                for pid in group_pids(proc.pid):
                    peak[f"{name}:{pid}"] = max(peak.get(f"{name}:{pid}", 0.0), rss_mb([pid]))

    try:
        stack.start("worker", commands["worker"])
        stack.start("bridge", commands["bridge"] if tracked else "python -m bench.untracked_bridge")
        threading.Thread(target=sample, daemon=True).start()
        wait_until(lambda: _stored(app) > 0, 120, "the first stored tick")
        first = time.perf_counter()
        wait_until(lambda: _stored(app) >= count, 1800, f"{count} stored ticks")
        broker = redis.Redis.from_url(settings.celery_broker_url)
        wait_until(lambda: broker.llen("celery") == 0, 600, "the alert checks drained")
        broker.close()
        seconds = time.perf_counter() - first
    finally:
        done.set()
        stack.stop()
    return IngestResult(ticks=count, seconds=seconds, max_rss_mb=peak)
