"""Stage 1: the fetch task. Beat runs it every FETCH_INTERVAL_SECONDS.

One batched call to the price source for every active symbol, one Kafka message
per tick. A failing source is logged and counted, never raised into beat; a run
that finds the previous one still going skips instead of piling up.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from celery import shared_task
from flask import current_app
from kafka.errors import KafkaError
from sqlalchemy.exc import SQLAlchemyError

from app.market.prices import active_symbols
from app.market.sources import Throttled
from app.market.sources.backoff import Backoff, source_state
from app.market.sources.chosen import price_source
from app.market.ticks import Tick
from app.pipeline.pubsub import count_stage, record_stage, tell_pages
from app.services import outage_reason, redis_client
from tasks.producer import produce_ticks

log = logging.getLogger(__name__)
FETCH_LOCK = "stockticker:fetch:lock"


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
        backoff = Backoff(client, source.name)
        resting = backoff.resting()
        if resting is not None:  # said once when it began (below); every skip would be noise
            log.debug("fetch skipped: %s is %s", source.name, resting.describe(time.time()))
            count_stage(client, "fetch", "rate_limited_skips")
            return 0
        try:
            quotes = source.fetch(symbols, datetime.now(UTC))
        except Throttled as exc:
            rest = backoff.throttled(str(exc))
            log.warning(
                "%s throttled us (%s): resting %d s before asking again (%d in a row)",
                source.name, exc, rest.retry_in(time.time()), rest.attempts,
            )  # fmt: skip
            count_stage(client, "fetch", "failures")
            record_stage(client, "fetch", source=source.name, last_error=f"{source.name}: {exc}")
            tell_pages(client, source_state(source.name, rest))
            return 0
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
        if backoff.recovered():
            log.info("%s answers again: fetching every interval", source.name)
            tell_pages(client, source_state(source.name, None))
        return len(ticks)
    finally:
        if lock.owned():
            lock.release()
