"""The indicator rules' part of the alert check: each tick's SMA / EMA / RSI, then the candidates.

For every indicator a batch symbol's cross and RSI alerts read (``symbols.alert_indicators``,
"1h:sma:20"), the finished candles before each tick's bucket give the series, and
``indicators.extend`` its value one close further, at the tick's price (the forming candle's close):
the chart's own implementation, at O(1) a tick. The finished closes of a (symbol, timeframe, bucket)
are read once and kept for the rest of that bucket in this process, once the bucket is
``SETTLED_SECONDS`` old (a late batch may still change the bucket before it until then).

Candidates, as for the price rules: one index scan of ix_alerts_active_indicator per (symbol,
indicator) and branch: crosses by armed state when some tick holds or leaves, RSI levels by range
(the armed ones the batch's highest / lowest RSI reaches, the disarmed ones it leaves). The cost
follows the distinct (symbol, indicator) pairs, not the alerts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import text

from app.extensions import db
from app.market.indicators import MEMORY, Spec, extend
from app.market.ticks import Tick
from app.models import CANDLE_TABLES, TIMEFRAMES

SETTLED_SECONDS = 5
# (symbol, "1h:sma:20") -> {tick time: the indicator's value at that tick (None: too few candles)}
Values = dict[tuple[str, str], dict[datetime, Decimal | None]]

_KEYS = text(
    "SELECT symbol, alert_indicators FROM symbols"
    " WHERE symbol = ANY(CAST(:symbols AS text[])) AND alert_indicators <> '{}'"
)
# The finished closes before each (symbol, bucket), newest first, at most depth of them.
_CLOSES = {
    timeframe: text(
        f"""
        SELECT q.symbol, q.bucket, ARRAY(
            SELECT CAST(c.close AS float8) FROM {table} c
            WHERE c.symbol = q.symbol AND c.bucket < q.bucket ORDER BY c.bucket DESC LIMIT q.depth) AS closes
        FROM unnest(CAST(:symbols AS text[]), CAST(:buckets AS timestamptz[]), CAST(:depths AS int[]))
             AS q(symbol, bucket, depth)
        """  # noqa: S608 - the table names are the three constants of CANDLE_TABLES
    )
    for timeframe, table in CANDLE_TABLES.items()
}

_CANDIDATES = text(
    """
    SELECT a.id, a.version, a.symbol, a.rule, a.direction, a.threshold, a.change_percent,
           a.window_seconds, a.frequency, a.cooldown_seconds, a.armed, a.created_at, a.triggered_at,
           a.level, a.timeframe || ':' || a.indicator || ':' || a.period AS key
    FROM unnest(CAST(:symbols AS text[]), CAST(:timeframes AS text[]), CAST(:indicators AS text[]),
                CAST(:periods AS int[]), CAST(:above_holds AS boolean[]), CAST(:above_leaves AS boolean[]),
                CAST(:below_holds AS boolean[]), CAST(:below_leaves AS boolean[]), CAST(:highs AS numeric[]),
                CAST(:lows AS numeric[]))
         AS m(symbol, timeframe, indicator, period, above_holds, above_leaves, below_holds, below_leaves,
              high, low)
    CROSS JOIN LATERAL (
        SELECT * FROM alerts a WHERE a.status = 'active' AND a.rule IN ('cross', 'rsi') AND a.symbol = m.symbol
            AND a.timeframe = m.timeframe AND a.indicator = m.indicator AND a.period = m.period
            AND a.direction = 'above' AND a.armed AND m.above_holds
        UNION ALL
        SELECT * FROM alerts a WHERE a.status = 'active' AND a.rule IN ('cross', 'rsi') AND a.symbol = m.symbol
            AND a.timeframe = m.timeframe AND a.indicator = m.indicator AND a.period = m.period
            AND a.direction = 'above' AND NOT a.armed AND m.above_leaves
        UNION ALL
        SELECT * FROM alerts a WHERE a.status = 'active' AND a.rule IN ('cross', 'rsi') AND a.symbol = m.symbol
            AND a.timeframe = m.timeframe AND a.indicator = m.indicator AND a.period = m.period
            AND a.direction = 'below' AND a.armed AND m.below_holds
        UNION ALL
        SELECT * FROM alerts a WHERE a.status = 'active' AND a.rule IN ('cross', 'rsi') AND a.symbol = m.symbol
            AND a.timeframe = m.timeframe AND a.indicator = m.indicator AND a.period = m.period
            AND a.direction = 'below' AND NOT a.armed AND m.below_leaves
        UNION ALL
        -- RSI levels: above holds when rsi >= level, below when rsi <= level
        SELECT * FROM alerts a WHERE a.status = 'active' AND a.rule IN ('cross', 'rsi') AND a.symbol = m.symbol
            AND a.timeframe = m.timeframe AND a.indicator = 'rsi' AND m.indicator = 'rsi' AND a.period = m.period
            AND a.direction = 'above' AND a.armed AND a.level <= m.high
        UNION ALL
        SELECT * FROM alerts a WHERE a.status = 'active' AND a.rule IN ('cross', 'rsi') AND a.symbol = m.symbol
            AND a.timeframe = m.timeframe AND a.indicator = 'rsi' AND m.indicator = 'rsi' AND a.period = m.period
            AND a.direction = 'above' AND NOT a.armed AND a.level > m.low
        UNION ALL
        SELECT * FROM alerts a WHERE a.status = 'active' AND a.rule IN ('cross', 'rsi') AND a.symbol = m.symbol
            AND a.timeframe = m.timeframe AND a.indicator = 'rsi' AND m.indicator = 'rsi' AND a.period = m.period
            AND a.direction = 'below' AND a.armed AND a.level >= m.low
        UNION ALL
        SELECT * FROM alerts a WHERE a.status = 'active' AND a.rule IN ('cross', 'rsi') AND a.symbol = m.symbol
            AND a.timeframe = m.timeframe AND a.indicator = 'rsi' AND m.indicator = 'rsi' AND a.period = m.period
            AND a.direction = 'below' AND NOT a.armed AND a.level < m.high
    ) a
    WHERE (a.expires_at IS NULL OR a.expires_at > statement_timestamp()) AND a.paused_at IS NULL
      AND (a.snoozed_until IS NULL OR a.snoozed_until <= statement_timestamp())
    """
)


@dataclass(frozen=True)
class _Settled:
    closes: list[float]  # oldest first


_settled: dict[tuple[str, str, datetime], _Settled] = {}  # (symbol, timeframe, bucket): this process's


def parse_key(key: str) -> tuple[str, Spec]:
    timeframe, kind, period = key.split(":")
    return timeframe, Spec(kind, int(period))


def depth(spec: Spec) -> int:
    """Finished closes an indicator's next value needs: SMA n-1; EMA and RSI their memory too."""
    return spec.period - 1 if spec.kind == "sma" else spec.period * (MEMORY + 1)


def bucket_of(moment: datetime, timeframe: str) -> datetime:
    seconds = TIMEFRAMES[timeframe]
    epoch = int(moment.timestamp()) // seconds * seconds
    return datetime.fromtimestamp(epoch, UTC)


def values(by_symbol: dict[str, list[Tick]]) -> Values:
    """Each tick's value of every indicator its symbol's cross and RSI alerts read."""
    keys = {row.symbol: row.alert_indicators for row in db.session.execute(_KEYS, {"symbols": list(by_symbol)})}
    if not keys:
        return {}
    wanted: dict[tuple[str, str, datetime], int] = defaultdict(int)  # (symbol, timeframe, bucket) -> depth
    for symbol, symbol_keys in keys.items():
        for key in symbol_keys:
            timeframe, spec = parse_key(key)
            for t in by_symbol[symbol]:
                at = (symbol, timeframe, bucket_of(t.observed_at, timeframe))
                wanted[at] = max(wanted[at], depth(spec))
    closes = _closes(wanted)
    answer: Values = {}
    for symbol, symbol_keys in keys.items():
        for key in symbol_keys:
            timeframe, spec = parse_key(key)
            per_bucket: dict[datetime, Any] = {}
            answer[symbol, key] = {}
            for t in by_symbol[symbol]:
                bucket = bucket_of(t.observed_at, timeframe)
                if bucket not in per_bucket:
                    per_bucket[bucket] = extend(spec, closes[symbol, timeframe, bucket])
                value = per_bucket[bucket](float(t.price))
                answer[symbol, key][t.observed_at] = None if value is None else Decimal(repr(value))
    return answer


def _closes(wanted: dict[tuple[str, str, datetime], int]) -> dict[tuple[str, str, datetime], list[float]]:
    """The finished closes before each bucket, from this process's copy or read in one statement a
    timeframe."""
    now = datetime.now(UTC)
    found = {at: kept.closes for at, n in wanted.items() if (kept := _settled.get(at)) and len(kept.closes) >= n}
    missing = [at for at in wanted if at not in found]
    for timeframe, query in _CLOSES.items():
        ask = [at for at in missing if at[1] == timeframe]
        if not ask:
            continue
        rows = db.session.execute(
            query,
            {"symbols": [a[0] for a in ask], "buckets": [a[2] for a in ask], "depths": [wanted[a] for a in ask]},
        )
        for row in rows:
            at = (row.symbol, timeframe, row.bucket)
            found[at] = list(reversed(row.closes))
            if now - row.bucket >= timedelta(seconds=SETTLED_SECONDS):
                _settled[at] = _Settled(found[at])
    _forget_old(now)
    return found


def _forget_old(now: datetime) -> None:
    """Drop closes of buckets two of their own lengths old: no tick of a live batch is in them."""
    for at in [at for at in _settled if now - at[2] > timedelta(seconds=2 * TIMEFRAMES[at[1]])]:
        del _settled[at]


def candidates(by_symbol: dict[str, list[Tick]], found: Values) -> Sequence[Any]:
    """The cross and RSI alerts the batch can fire or re-arm."""
    if not found:
        return []
    columns: dict[str, list[Any]] = defaultdict(list)
    for (symbol, key), at in found.items():
        timeframe, spec = parse_key(key)
        pairs = [(t.price, at[t.observed_at]) for t in by_symbol[symbol]]
        known = [v for _, v in pairs if v is not None]
        cross = spec.kind != "rsi"  # the price against a moving average; else RSI against levels
        for name, value in (
            ("symbols", symbol), ("timeframes", timeframe), ("indicators", spec.kind), ("periods", spec.period),
            ("above_holds", cross and any(v is not None and p >= v for p, v in pairs)),
            ("above_leaves", cross and any(v is not None and p < v for p, v in pairs)),
            ("below_holds", cross and any(v is not None and p <= v for p, v in pairs)),
            ("below_leaves", cross and any(v is not None and p > v for p, v in pairs)),
            ("highs", None if cross else max(known, default=None)),
            ("lows", None if cross else min(known, default=None)),
        ):  # fmt: skip
            columns[name].append(value)
    return db.session.execute(_CANDIDATES, columns).all()
