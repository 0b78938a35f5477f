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

import msgspec
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


# One statement per source, the bucket a parameter: date_bin merges the rows of each bucket. The
# open and the close come from one array in (time, price) order, so the aggregate reads the rows
# as the GROUP BY's sort leaves them (a second, descending array sorted each bucket again: +20 %).
_QUERIES = {
    "ticks": f"""
        SELECT date_bin(CAST(:bucket AS interval), observed_at, {ORIGIN}) AS t,
               (array_agg(price ORDER BY observed_at, price))[1]::float8 AS open, max(price)::float8 AS high,
               min(price)::float8 AS low, (array_agg(price ORDER BY observed_at, price))[count(*)]::float8 AS close,
               count(*) AS ticks, coalesce(sum(volume), 0)::float8 AS volume
        FROM ticks WHERE symbol = :symbol AND observed_at >= :start AND observed_at < :end
        GROUP BY 1
    """,
    **{
        table: f"""
            SELECT date_bin(CAST(:bucket AS interval), bucket, {ORIGIN}) AS t,
                   (array_agg(open ORDER BY bucket))[1]::float8 AS open, max(high)::float8 AS high,
                   min(low)::float8 AS low, (array_agg(close ORDER BY bucket))[count(*)]::float8 AS close,
                   sum(ticks)::bigint AS ticks, sum(volume)::float8 AS volume
            FROM {table} WHERE symbol = :symbol AND bucket >= :start AND bucket < :end
            GROUP BY 1
        """
        for table in ("candles_1m", "candles_1h", "candles_1d")
    },
}
# The answer's points as PostgreSQL writes them: JSON text made next to the rows, passed through
# as it is (building and encoding 500 dicts in Python was most of a range's time in the web).
_AS_JSON = "SELECT coalesce(json_agg(p ORDER BY p.t), '[]')::text FROM ({rows}) AS p"


@dataclass(frozen=True)
class Known:
    """What a range needs to know of its symbol besides the buckets, read in one statement."""

    backfill: dict[str, Any] | None  # where its past before this install came from (simulated: said on the chart)
    first: datetime | None  # the start of its history, when asked for (``all``)


_KNOWN = """
    SELECT b.source, b.until, b.state, {first} AS first
    FROM symbols s LEFT JOIN backfills b ON b.symbol = s.symbol
    WHERE s.symbol = :s
"""
# The start of a symbol's history: its first daily candle (kept forever), else its first tick.
_FIRST = """coalesce((SELECT min(bucket) FROM candles_1d WHERE symbol = s.symbol),
                      (SELECT min(observed_at) FROM ticks WHERE symbol = s.symbol))"""


def known(symbol: str, first: bool = False) -> Known | None:
    """The symbol's backfill and (``first``) where its history starts; None if it is not in the table."""
    row = db.session.execute(text(_KNOWN.format(first=_FIRST if first else "NULL")), {"s": symbol}).first()
    if row is None:
        return None
    if row.source is None:
        return Known(None, row.first)
    return Known({"source": row.source, "until": row.until.isoformat(), "state": row.state}, row.first)


def history_range(
    symbol: str, span: Span, now: datetime, raw_days: int, minute_days: int, specs: Sequence[indicators.Spec] = ()
) -> dict[str, Any] | None:
    """The answer of GET /api/history/<symbol>: OHLC per bucket, oldest first, and each asked
    indicator's series on the same buckets; None for a symbol not in the table."""
    about = known(symbol, first=span.label == "all")
    if about is None:
        return None
    if span.label == "all":
        span = Span(about.first or now, now, span.label, span.max_points)
    chosen = plan(span, now, raw_days, minute_days) if span.start < span.end else Plan(BUCKET_LADDER[0], "ticks")
    points = _points_json(chosen, symbol, span.start, span.end)
    shown = msgspec.json.decode(points) if specs else []
    return {
        "symbol": symbol,
        "range": span.label,
        "from": span.start.isoformat(),
        "to": span.end.isoformat(),
        "max_points": span.max_points,
        "bucket_seconds": chosen.bucket_seconds,
        "source": chosen.source,
        "points": msgspec.Raw(points),
        "indicators": _indicators(chosen, symbol, shown, specs),
        "backfill": about.backfill,
    }


def _params(chosen: Plan, symbol: str, start: datetime, end: datetime) -> dict[str, Any]:
    return {"bucket": timedelta(seconds=chosen.bucket_seconds), "symbol": symbol, "start": start, "end": end}


def _points_json(chosen: Plan, symbol: str, start: datetime, end: datetime) -> bytes:
    """The buckets as a JSON array of {t, open, high, low, close, ticks, volume}, oldest first."""
    query = _AS_JSON.format(rows=_QUERIES[chosen.source])
    return db.session.scalar(text(query), _params(chosen, symbol, start, end)).encode()


def _closes(chosen: Plan, symbol: str, start: datetime, end: datetime) -> list[float]:
    query = f"SELECT close FROM ({_QUERIES[chosen.source]}) AS p ORDER BY t"  # noqa: S608 - our own text
    return list(db.session.scalars(text(query), _params(chosen, symbol, start, end)))


def _indicators(
    chosen: Plan, symbol: str, shown: list[dict[str, Any]], specs: Sequence[indicators.Spec]
) -> dict[str, Any]:
    """Each spec over the shown buckets' closes, warmed up on the buckets before them: whole buckets
    of the same grid and table up to the first shown one, so the shown values are unchanged. (Up to
    the first shown, not the range's start: when the range starts late in a bucket that holds no
    row then, that bucket is left out of the answer but belongs to the warm-up.)"""
    if not specs:
        return {}
    closes = [point["close"] for point in shown]
    warm = max(indicators.lookback(spec) for spec in specs)
    before: list[float] = []
    if shown and warm:
        first, bucket = datetime.fromisoformat(shown[0]["t"]), timedelta(seconds=chosen.bucket_seconds)
        before = _closes(chosen, symbol, first - warm * bucket, first)
    answer: dict[str, Any] = {}
    for spec in specs:
        series = indicators.compute(spec, before + closes)
        if isinstance(series, dict):
            answer[spec.key] = {name: values[len(before) :] for name, values in series.items()}
        else:
            answer[spec.key] = series[len(before) :]
    return answer
