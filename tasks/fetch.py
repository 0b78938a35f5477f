"""Stage 1: the fetch task. Beat runs it every FETCH_INTERVAL_SECONDS.

One batched call to the price source for every active symbol, one Kafka message
per tick. A failing source is logged and counted, never raised into beat; a run
that finds the previous one still going skips instead of piling up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime

import redis
from celery import shared_task
from flask import current_app
from kafka.errors import KafkaError
from sqlalchemy.exc import SQLAlchemyError

from app.market.prices import active_symbols, last_prices
from app.market.ticks import Tick
from app.pipeline.pubsub import AUTO_SOURCE_KEY, count_stage, record_stage
from app.services import outage_reason, redis_client
from tasks.producer import produce_ticks
from tasks.sources import PriceSource, select_source

log = logging.getLogger(__name__)
FETCH_LOCK = "stockticker:fetch:lock"
SIMULATOR_STATE = "stockticker:simulator"
_source: PriceSource | None = None


class RedisWalkState:
    """The simulator's walk in a Redis hash, so every worker process continues the same walk."""

    def __init__(self, client: redis.Redis, key: str) -> None:
        self.client, self.key = client, key

    def get_many(self, symbols: Sequence[str]) -> dict[str, str]:
        values = self.client.hmget(self.key, list(symbols)) if symbols else []
        return {s: v.decode() for s, v in zip(symbols, values, strict=True) if v is not None}

    def set_many(self, points: Mapping[str, str]) -> None:
        self.client.hset(self.key, mapping=dict(points))


def decide_once(decide: Callable[[], str]) -> str:
    """The stack's one answer for PRICE_SOURCE=auto: the first worker process to ask decides
    and records it in Redis; `flask setup` clears it when the stack (re)starts."""
    client = redis_client()
    chosen = client.get(AUTO_SOURCE_KEY)
    if chosen is None:
        client.set(AUTO_SOURCE_KEY, decide(), nx=True)
        chosen = client.get(AUTO_SOURCE_KEY)
    return chosen.decode()


def price_source() -> PriceSource:
    """This process's source, chosen on its first fetch."""
    global _source
    if _source is None:
        settings = current_app.config["SETTINGS"]
        _source = select_source(
            settings.price_source,
            seed=settings.simulator_seed,
            interval_seconds=settings.fetch_interval_seconds,
            yfinance_timeout=settings.yfinance_timeout_seconds,
            simulator_state=RedisWalkState(redis_client(), SIMULATOR_STATE),
            last_known=last_prices,
            probe_symbols=settings.symbols,
            decide_once=decide_once,
        )
    return _source


@shared_task(name="tasks.fetch.fetch_prices", soft_time_limit=60, time_limit=90)
def fetch_prices() -> int:
    """Fetch every active symbol once and produce the ticks; returns how many."""
    settings = current_app.config["SETTINGS"]
    client = redis_client()
    lock = client.lock(FETCH_LOCK, timeout=settings.yfinance_timeout_seconds + 30, blocking=False)
    if not lock.acquire():
        log.info("fetch skipped: the previous fetch is still running")
        count_stage(client, "fetch", "skipped")
        return 0
    try:
        try:
            symbols = active_symbols()
        except SQLAlchemyError as exc:  # PostgreSQL away: the next run tries again
            reason = outage_reason(exc)
            log.error("fetch skipped: the symbols could not be read from PostgreSQL: %s", reason)
            count_stage(client, "fetch", "failures")
            record_stage(client, "fetch", last_error=f"postgresql: {reason}")
            return 0
        source = price_source()
        try:
            quotes = source.fetch(symbols, datetime.now(UTC))
        except Exception as exc:  # any source failure: log, count, try again next interval
            log.error("fetch from %s failed for %s: %s", source.name, ",".join(symbols), exc)
            count_stage(client, "fetch", "failures")
            record_stage(client, "fetch", last_error=f"{source.name}: {exc}")
            return 0
        received_at = datetime.now(UTC)  # when the source answered: freshness and latency count from here
        ticks = [Tick(q.symbol, q.price, q.observed_at, received_at, source.name) for q in quotes]
        try:
            produce_ticks(settings, ticks)
        except KafkaError as exc:
            log.error("could not produce %d ticks to Kafka topic %r: %s", len(ticks), settings.kafka_topic, exc)
            count_stage(client, "fetch", "produce_failures")
            record_stage(client, "fetch", last_error=f"kafka: {exc}")
            return 0
        record_stage(client, "fetch", ticks=len(ticks), source=source.name, last_error=None)
        return len(ticks)
    finally:
        if lock.owned():
            lock.release()
