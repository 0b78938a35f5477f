"""History over a range: raw ticks or 1-minute, 1-hour or 1-day candles, merged in SQL to fit
max_points.

The bucket is the smallest step of BUCKET_LADDER that keeps the answer within ``max_points``
buckets; the source is the finest table that both has that resolution and still holds the whole
range under its retention (raw ticks for buckets under a minute, 1-minute candles under an hour,
hourly candles under a day, daily candles beyond). Buckets are aligned to UTC (date_bin from 2000-01-01), so a bucket's
start does not move while a chart stays open.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text

from app.extensions import db
from app.market import indicators
from app.market.candles import ORIGIN
from app.web.errors import UNPROCESSABLE, ApiError
from app.web.validation import parse_instant, parse_whole

RANGES = {"1h": 3600, "24h": 86_400, "7d": 7 * 86_400, "30d": 30 * 86_400, "1y": 365 * 86_400, "all": None}
DEFAULT_RANGE = "24h"
DEFAULT_MAX_POINTS = 500
MAX_POINTS = 2000
BUCKET_LADDER = (
    2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400, 172_800, 604_800,
)  # fmt: skip
DAY = 86_400
_ORIGIN_AT = datetime(2000, 1, 1, tzinfo=UTC)  # candles.ORIGIN as a datetime: the buckets' grid


@dataclass(frozen=True)
class Span:
    start: datetime
    end: datetime
    label: str | None  # the named range, or None for from/to
    max_points: int


@dataclass(frozen=True)
class Plan:
    bucket_seconds: int
    source: str  # ticks, candles_1m, candles_1h or candles_1d


# Ranges that end at a closed market's last close, not now: its last session, not an empty grid.
SESSION_RANGES = ("1h",)


def parse_span(args: Mapping[str, str], now: datetime, closed_at: datetime | None = None) -> Span:
    """``range`` (default 24h) or ``from`` [+ ``to``, default now]; ``max_points``. 400s name the field.
    ``closed_at``: the symbol's market is closed since then; a SESSION_RANGES range ends there."""
    max_points = _max_points(args.get("max_points"))
    label = args.get("range")
    if label is not None and ("from" in args or "to" in args):
        raise ApiError(UNPROCESSABLE, "give either range or from/to, not both", "range")
    if "from" in args or "to" in args:
        if "from" not in args:
            raise ApiError(UNPROCESSABLE, "from is required with to", "from")
        start = parse_instant(args["from"], "from")
        end = parse_instant(args["to"], "to") if "to" in args else now
        if start >= end:
            raise ApiError(UNPROCESSABLE, "from must be before to", "from")
        return Span(start, end, None, max_points)
    label = DEFAULT_RANGE if label is None else label
    if label not in RANGES:
        raise ApiError(400, f"range must be one of {', '.join(RANGES)}", "range")
    seconds = RANGES[label]
    end = closed_at if closed_at is not None and label in SESSION_RANGES else now
    start = end - timedelta(seconds=seconds) if seconds else datetime(2000, 1, 1, tzinfo=UTC)  # all: from the first
    return Span(start, end, label, max_points)


def _max_points(raw: str | None) -> int:
    return parse_whole(raw, "max_points", DEFAULT_MAX_POINTS, 2, MAX_POINTS)


def plan(span: Span, now: datetime, raw_days: int, minute_days: int) -> Plan:
    """Bucket and source for ``span``. A date_bin grid of step b touches at most floor(span/b)+1
    buckets, so b >= span/(max_points-1) keeps within max_points."""
    need = (span.end - span.start).total_seconds() / (span.max_points - 1)
    bucket = next((b for b in BUCKET_LADDER if b >= need), math.ceil(need / DAY) * DAY)
    if bucket < 60 and span.start >= now - timedelta(days=raw_days):
        return Plan(bucket, "ticks")
    if bucket < 3600 and span.start >= now - timedelta(days=minute_days):
        return Plan(max(bucket, 60), "candles_1m")
    if bucket < DAY:
        return Plan(max(bucket, 3600), "candles_1h")
    return Plan(bucket, "candles_1d")


# One statement per source, the bucket a parameter: date_bin merges the rows of each bucket.
_QUERIES = {
    "ticks": f"""
        SELECT date_bin(CAST(:bucket AS interval), observed_at, {ORIGIN}) AS bucket_start,
               (array_agg(price ORDER BY observed_at, price))[1] AS open, max(price) AS high, min(price) AS low,
               (array_agg(price ORDER BY observed_at DESC, price DESC))[1] AS close, count(*) AS ticks,
               coalesce(sum(volume), 0) AS volume
        FROM ticks WHERE symbol = :symbol AND observed_at >= :start AND observed_at < :end
        GROUP BY 1 ORDER BY 1
    """,
    **{
        table: f"""
            SELECT date_bin(CAST(:bucket AS interval), bucket, {ORIGIN}) AS bucket_start,
                   (array_agg(open ORDER BY bucket))[1] AS open, max(high) AS high, min(low) AS low,
                   (array_agg(close ORDER BY bucket DESC))[1] AS close, sum(ticks) AS ticks, sum(volume) AS volume
            FROM {table} WHERE symbol = :symbol AND bucket >= :start AND bucket < :end
            GROUP BY 1 ORDER BY 1
        """
        for table in ("candles_1m", "candles_1h", "candles_1d")
    },
}


def first_seen(symbol: str) -> datetime | None:
    """The start of a symbol's history: its first daily candle (kept forever), else its first tick."""
    return db.session.scalar(
        text(
            "SELECT coalesce((SELECT min(bucket) FROM candles_1d WHERE symbol = :s), "
            "(SELECT min(observed_at) FROM ticks WHERE symbol = :s))"
        ),
        {"s": symbol},
    )


def history_range(
    symbol: str, span: Span, now: datetime, raw_days: int, minute_days: int, specs: Sequence[indicators.Spec] = ()
) -> dict[str, Any]:
    """The answer of GET /api/history/<symbol>: OHLC per bucket, oldest first, and each asked
    indicator's series on the same buckets."""
    if span.label == "all":
        first = first_seen(symbol)
        span = Span(first or now, now, span.label, span.max_points)
    chosen = plan(span, now, raw_days, minute_days) if span.start < span.end else Plan(BUCKET_LADDER[0], "ticks")
    rows = _buckets(chosen, symbol, span.start, span.end)
    points = [
        {
            "t": row.bucket_start.isoformat(),
            "open": float(row.open),
            "high": float(row.high),
            "low": float(row.low),
            "close": float(row.close),
            "ticks": int(row.ticks),
            "volume": float(row.volume),
        }
        for row in rows
    ]
    return {
        "symbol": symbol,
        "range": span.label,
        "from": span.start.isoformat(),
        "to": span.end.isoformat(),
        "max_points": span.max_points,
        "bucket_seconds": chosen.bucket_seconds,
        "source": chosen.source,
        "points": points,
        "indicators": _indicators(chosen, symbol, span.start, [p["close"] for p in points], specs),
        "backfill": backfilled(symbol),
    }


def _buckets(chosen: Plan, symbol: str, start: datetime, end: datetime) -> list[Any]:
    return list(
        db.session.execute(
            text(_QUERIES[chosen.source]),
            {"bucket": timedelta(seconds=chosen.bucket_seconds), "symbol": symbol, "start": start, "end": end},
        )
    )


def _indicators(
    chosen: Plan, symbol: str, start: datetime, closes: list[float], specs: Sequence[indicators.Spec]
) -> dict[str, Any]:
    """Each spec over the shown closes, warmed up on the buckets before them: whole buckets of the
    same grid and table up to the first shown bucket's start, so the shown ones are unchanged."""
    if not specs:
        return {}
    bucket = timedelta(seconds=chosen.bucket_seconds)
    first = _ORIGIN_AT + (start - _ORIGIN_AT) // bucket * bucket
    warm = max(indicators.lookback(spec) for spec in specs)
    before = [float(row.close) for row in _buckets(chosen, symbol, first - warm * bucket, first)] if warm else []
    shown = len(before)
    answer: dict[str, Any] = {}
    for spec in specs:
        series = indicators.compute(spec, before + closes)
        if isinstance(series, dict):
            answer[spec.key] = {name: values[shown:] for name, values in series.items()}
        else:
            answer[spec.key] = series[shown:]
    return answer


def backfilled(symbol: str) -> dict[str, Any] | None:
    """Where the symbol's past before this install came from (the page labels a simulated one)."""
    row = db.session.execute(
        text("SELECT source, until, state FROM backfills WHERE symbol = :s"), {"s": symbol}
    ).first()
    return None if row is None else {"source": row.source, "until": row.until.isoformat(), "state": row.state}
