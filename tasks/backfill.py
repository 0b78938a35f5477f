"""The history backfill, from beat: a few seconds of chunks at a time, in its own worker.

Beat sends ``backfill_step`` every BACKFILL_STEP_SECONDS to the ``backfill`` queue, which only
the backfill process consumes (one at a time: ``--concurrency 1``), so loading years of bars
never takes a slot from the live path. A step plans a job for every watched symbol that has
none, then loads chunks, newest first, for up to STEP_BUDGET_SECONDS. It is polite: one request
at a time, BACKFILL_PAUSE_SECONDS between two to a real source, and a source that throttles
rests under the same backoff as the live fetch (and is left alone until then).
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

import redis
from celery import shared_task
from flask import current_app
from sqlalchemy import func, select

from app.extensions import db
from app.market import backfill
from app.market.sources import PriceSource, SourceError, Throttled
from app.market.sources.backoff import Backoff
from app.market.sources.chosen import routes
from app.market.sources.routes import Watched
from app.models import Backfill, Symbol
from app.pipeline.pubsub import record_stage, tell_pages
from app.services import redis_client
from config.settings import Settings

log = logging.getLogger(__name__)
BACKFILL_TASK = "tasks.backfill.backfill_step"
BACKFILL_QUEUE = "backfill"
BACKFILL_STEP_SECONDS = 5.0
STEP_BUDGET_SECONDS = 20.0
MAX_CHUNK_FAILURES = 3  # a chunk the source keeps failing is recorded empty after this many tries
STEP_LOCK = 0x5354_4246  # pg_advisory_lock key of a backfill step ('STBF')
FAILURES_KEY = "stockticker:backfill:failures"  # hash: "symbol interval start" -> failed tries


def source_for(symbol: str, quote_type: str | None, calendar: str | None) -> PriceSource:
    """The source the live fetch asks for this symbol (crypto may have an exchange of its own)."""
    return routes([Watched(symbol, quote_type, calendar)])[0].source


def _source_of(row: Symbol) -> str:
    return source_for(row.symbol, row.quote_type, row.calendar).name


@shared_task(name=BACKFILL_TASK, soft_time_limit=STEP_BUDGET_SECONDS + 60, time_limit=STEP_BUDGET_SECONDS + 90)
def backfill_step() -> int:
    """Plan what is missing and load chunks for a while; returns the bars stored."""
    settings = current_app.config["SETTINGS"]
    if not settings.backfill:
        return 0
    client = redis_client()
    # One stream of requests at a time, however many backfill processes run. A session lock of
    # PostgreSQL's, on a connection of its own: a process killed mid-step lets go with its socket.
    with db.engine.connect() as holder:
        if not holder.scalar(select(func.pg_try_advisory_lock(STEP_LOCK))):
            return 0
        try:
            return _step(client, settings)
        finally:
            holder.scalar(select(func.pg_advisory_unlock(STEP_LOCK)))
            holder.commit()


def _step(client: redis.Redis, settings: Settings) -> int:
    planned = backfill.plan_missing(_source_of, datetime.now(UTC), settings.backfill_years)
    if planned:
        log.info("history backfill planned for %s", ", ".join(planned))
    stored = _load(client, settings.backfill_years, settings.backfill_pause_seconds)
    jobs = backfill.progress()
    record_stage(
        client, "backfill", rows=stored, running=sum(j["state"] != "done" for j in jobs),
        done=sum(j["state"] == "done" for j in jobs),
    )  # fmt: skip
    return stored


def _load(client: redis.Redis, years: int, pause: float) -> int:
    """Chunks, job after job, until the step's time is up or nothing is left that may be asked."""
    deadline, stored, resting = time.monotonic() + STEP_BUDGET_SECONDS, 0, set()
    while time.monotonic() < deadline:
        job = next((j for j in backfill.unfinished() if j.source not in resting), None)
        if job is None:
            return stored
        symbol = db.session.get(Symbol, job.symbol)
        source = source_for(job.symbol, symbol.quote_type if symbol else None, symbol.calendar if symbol else None)
        backoff = Backoff(client, source.name)
        if backoff.resting() is not None:
            resting.add(job.source)
            continue
        chunk = backfill.next_chunk(job, years)
        if chunk is None:
            backfill.note(job.symbol, "done", None)
            continue
        try:
            bars = source.history(job.symbol, chunk.interval, chunk.start, chunk.stop, backfill.known(job))
        except Throttled as exc:
            rest = backoff.throttled(str(exc))
            log.warning(
                "history backfill: %s throttled us (%s); resting %d s", source.name, exc, rest.retry_in(time.time())
            )
            backfill.note(job.symbol, "resting", str(exc))
            resting.add(job.source)
            continue
        except SourceError as exc:
            tries = int(client.hincrby(FAILURES_KEY, f"{job.symbol} {chunk.interval} {chunk.start.isoformat()}"))
            if tries < MAX_CHUNK_FAILURES:
                log.warning("history backfill of %s (%s from %s) failed, will retry: %s", job.symbol, chunk.interval,
                            chunk.start.date(), exc)  # fmt: skip
                backfill.note(job.symbol, "running", str(exc))
                resting.add(job.source)  # the next step tries again
                continue
            log.error("history backfill of %s: %s bars from %s failed %d times; left empty: %s", job.symbol,
                      chunk.interval, chunk.start.date(), tries, exc)  # fmt: skip
            bars = []
        stored += backfill.write_chunk(job, chunk, bars)
        _tell(client, job.symbol)
        if pause and source.name != "simulated":
            time.sleep(pause)
    return stored


def _tell(client: redis.Redis, symbol: str) -> None:
    """The pages' cards show the job's progress ("loading history: 43 %")."""
    job = db.session.get(Backfill, symbol)
    if job is not None:
        db.session.refresh(job)
        tell_pages(client, {"type": "history", **backfill.progress_json(job)})
