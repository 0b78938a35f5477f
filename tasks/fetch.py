"""Stage 1: the fetch task. Beat runs it every FETCH_INTERVAL_SECONDS.

One batched call to the price source for every active symbol, one Kafka message
per tick. A failing source is logged and counted, never raised into beat; a run
that finds the previous one still going skips instead of piling up.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import redis
from celery import shared_task
from flask import current_app
from kafka.errors import KafkaError
from sqlalchemy.exc import SQLAlchemyError

from app.market import hours
from app.market.prices import active_symbols, last_prices
from app.market.sources import Throttled
from app.market.sources.backoff import Backoff, source_state
from app.market.sources.chosen import price_source, routes
from app.market.sources.routes import Route
from app.market.ticks import Tick
from app.pipeline.pubsub import count_stage, record_stage, tell_markets, tell_pages
from app.portfolio.holdings import also_fetched
from app.services import outage_reason, redis_client
from tasks.producer import produce_ticks

log = logging.getLogger(__name__)
FETCH_LOCK = "stockticker:fetch:lock"


def clock() -> datetime:
    """Now, as the fetch judges markets and stamps quotes (tests set a weekend)."""
    return datetime.now(UTC)


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
            symbols = active_symbols(also_fetched(settings.base_currency))
        except SQLAlchemyError as exc:  # PostgreSQL away: the next run tries again
            reason = outage_reason(exc)
            log.error("fetch skipped: the symbols could not be read from PostgreSQL: %s", reason)
            count_stage(client, "fetch", "failures")
            record_stage(client, "fetch", last_error=f"postgresql: {reason}")
            return 0
        now = clock()
        markets = hours.sessions(symbols, now)
        tell_markets(client, {symbol: session.as_json() for symbol, session in markets.items()})
        settle = getattr(price_source(), "close_settle", timedelta(0))
        asked, first = hours.to_ask(symbols, markets, now, settle, last_prices)
        planned = routes(asked)
        if not planned:  # every watched market is closed (or nothing is watched): nothing to ask
            record_stage(client, "fetch", ticks=0, source=price_source().name, sources=[], last_error=None)
            return 0
        ticks = _as_of_close([tick for route in planned for tick in _ask(client, route, now)], markets, first)
        if not ticks:
            return 0
        try:
            produce_ticks(settings, ticks)
        except KafkaError as exc:
            log.error("could not produce %d ticks to Kafka topic %r: %s", len(ticks), settings.kafka_topic, exc)
            count_stage(client, "fetch", "produce_failures")
            record_stage(client, "fetch", last_error=f"kafka: {exc}")
            return 0
        answered = sorted({t.source for t in ticks})
        figures: dict[str, Any] = {"ticks": len(ticks), "source": price_source().name, "sources": answered}
        if all(route.source.name in answered for route in planned):
            figures["last_error"] = None  # every source answered (else the failure stays to be seen)
        record_stage(client, "fetch", **figures)
        return len(ticks)
    finally:
        if lock.owned():
            lock.release()


def _as_of_close(ticks: list[Tick], markets: Mapping[str, hours.Session], first: set[str]) -> list[Tick]:
    """A closed market's ticks as of its close (``hours.as_of_close``); post-market ones left out."""
    kept = []
    for tick in ticks:
        at = hours.as_of_close(tick.observed_at, markets.get(tick.symbol), tick.symbol in first)
        if at is not None:
            kept.append(replace(tick, observed_at=at))
    return kept


def _ask(client: redis.Redis, route: Route, now: datetime) -> list[Tick]:
    """The route's ticks: from its source unless that one rests or fails, then from its fallback.
    A failure is logged and counted, never raised into beat."""
    source, backoff = route.source, Backoff(client, route.source.name)
    resting = backoff.resting()
    if resting is not None:  # said once when it began (below); every skip would be noise
        log.debug("fetch skipped: %s is %s", source.name, resting.describe(time.time()))
        count_stage(client, "fetch", "rate_limited_skips")
        return _ask(client, route.fallback, now) if route.fallback else []
    try:
        quotes = source.fetch(route.symbols, now)
    except Throttled as exc:
        stand_in = route.fallback.source.name if route.fallback else None
        rest = backoff.throttled(str(exc), stand_in)
        instead = f"; {', '.join(route.fallback.symbols)} from {stand_in} meanwhile" if route.fallback else ""
        log.warning(
            "%s throttled us (%s): resting %d s before asking again (%d in a row)%s",
            source.name, exc, rest.retry_in(time.time()), rest.attempts, instead,
        )  # fmt: skip
        count_stage(client, "fetch", "failures")
        # source: the main one, whose rest /api/status reports (a fetch may end here with no ticks)
        record_stage(client, "fetch", source=price_source().name, last_error=f"{source.name}: {exc}")
        tell_pages(client, source_state(source.name, rest))
        return _ask(client, route.fallback, now) if route.fallback else []
    except Exception as exc:  # any source failure: log, count, try again next interval
        log.error("fetch from %s failed for %s: %s", source.name, ",".join(route.symbols), exc)
        count_stage(client, "fetch", "failures")
        record_stage(client, "fetch", last_error=f"{source.name}: {exc}")
        return _ask(client, route.fallback, now) if route.fallback else []
    if backoff.recovered():
        log.info("%s answers again: fetching every interval", source.name)
        tell_pages(client, source_state(source.name, None))
    received_at = datetime.now(UTC)  # when the source answered: freshness and latency count from here
    return [Tick(q.symbol, q.price, q.observed_at, received_at, source.name, q.volume) for q in quotes]
