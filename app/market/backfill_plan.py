"""Which past a backfill loads, in which chunks: pure dates, no I/O.

Each source owns a slice of time, so nothing is counted twice: live ticks from ``until`` (when
this install began to see the symbol) on; 1-minute bars for the days before (``MINUTE_DAYS``,
which Yahoo keeps at 1 m); hourly bars for about two years before those (``HOUR_DAYS``, Yahoo's
limit for 1 h); daily bars before that, back ``years``. Slice edges fall on UTC midnights (but
``until``), so a day's candle is made of one or two whole slices. Chunks are the unit of work and
of resumption: one request to the source, one transaction; newest first, so the ranges people
look at first fill first.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import NamedTuple

MINUTE_DAYS = 7  # Yahoo serves 1 m bars of the last 30 days, at most 8 days a request
HOUR_DAYS = 720  # Yahoo serves 1 h bars of the last 730 days
HOUR_CHUNK_DAYS = 60
DAY_CHUNK_DAYS = 5 * 365
DEFAULT_YEARS = 20


class Chunk(NamedTuple):
    interval: str  # 1m, 1h, 1d
    start: datetime
    stop: datetime


class Segments(NamedTuple):
    """Where each interval's slice begins: [minutes, until), [hours, minutes), [days, hours)."""

    days: datetime
    hours: datetime
    minutes: datetime
    until: datetime


def midnight(at: datetime) -> datetime:
    at = at.astimezone(UTC)
    return datetime(at.year, at.month, at.day, tzinfo=UTC)


def segments(until: datetime, years: int = DEFAULT_YEARS) -> Segments:
    minutes = midnight(until) - timedelta(days=MINUTE_DAYS)
    hours = minutes - timedelta(days=HOUR_DAYS)
    return Segments(hours - timedelta(days=365 * years), hours, minutes, until)


def chunks(until: datetime, years: int = DEFAULT_YEARS) -> list[Chunk]:
    """Every chunk of a backfill up to ``until``, newest first."""
    edge = segments(until, years)
    plan = []
    for interval, start, stop, size in (
        ("1m", edge.minutes, edge.until, timedelta(days=1)),
        ("1h", edge.hours, edge.minutes, timedelta(days=HOUR_CHUNK_DAYS)),
        ("1d", edge.days, edge.hours, timedelta(days=DAY_CHUNK_DAYS)),
    ):
        top = stop
        while top > start:
            # a day of minutes per chunk (the first: from today's midnight to ``until``)
            bottom = max(start, midnight(top - timedelta(microseconds=1)) if interval == "1m" else top - size)
            plan.append(Chunk(interval, bottom, top))
            top = bottom
    return plan
