"""The indicator rules' part of the alert check: each tick's SMA / EMA / RSI, then the candidates.

For every indicator a batch symbol's cross and RSI alerts read (``symbols.alert_indicators``,
"1h:sma:20"), the finished candles before each tick's bucket give the series, and
``indicators.extend`` its value one close further, at the tick's price (the forming candle's close):
the chart's own implementation, at O(1) a tick. Each (symbol, indicator, bucket)'s function is made
once and kept for the rest of that bucket in this process, once the bucket is ``SETTLED_SECONDS``
old (a late batch may still change the bucket before it until then) and only if the indicator's
whole depth of finished candles was there (a history still loading is read again next batch).

Candidates, as for the price rules: one index scan of ix_alerts_active_indicator per (symbol,
indicator) and branch: crosses by armed state when some tick holds or leaves, RSI levels by range
(the armed ones the batch's highest / lowest RSI reaches, the disarmed ones it leaves). The cost
follows the distinct (symbol, indicator) pairs, not the alerts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

from sqlalchemy import text

from app.extensions import db
from app.market.indicators import Spec, extend, lookback
from app.market.ticks import Tick
from app.models import CANDLE_TABLES, TIMEFRAMES
from app.sql_arrays import literal

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


# (symbol, "1h:sma:20", bucket) -> the indicator one close after that bucket's finished candles,
# kept by this process once the bucket is settled (its finished candles no longer change)
_settled: dict[tuple[str, str, datetime], Callable[[float], float | None]] = {}


@cache
def parse_key(key: str) -> tuple[str, Spec]:
    timeframe, kind, period = key.split(":")
    return timeframe, Spec(kind, int(period))


def depth(spec: Spec) -> int:
    """Finished closes an indicator's next value needs: the chart's lookback, and for EMA and RSI
    the period that seeds them on top of it (SMA's lookback, n-1, is all it needs)."""
    return lookback(spec) + (0 if spec.kind == "sma" else spec.period)


def bucket_of(moment: datetime, timeframe: str) -> datetime:
    seconds = TIMEFRAMES[timeframe]
    epoch = int(moment.timestamp()) // seconds * seconds
    return datetime.fromtimestamp(epoch, UTC)


def values(by_symbol: dict[str, list[Tick]]) -> Values:
    """Each tick's value of every indicator its symbol's cross and RSI alerts read."""
    keys = {row.symbol: row.alert_indicators for row in db.session.execute(_KEYS, {"symbols": literal(by_symbol)})}
    if not keys:
        return {}
    needed: dict[tuple[str, str, datetime], Spec] = {}  # (symbol, key, bucket) -> spec, not kept yet
    for symbol, symbol_keys in keys.items():
        for key in symbol_keys:
            timeframe, spec = parse_key(key)
            for t in by_symbol[symbol]:
                at = (symbol, key, bucket_of(t.observed_at, timeframe))
                if at not in _settled:
                    needed[at] = spec
    functions = dict(_settled) | _extend(needed)
    answer: Values = {}
    for symbol, symbol_keys in keys.items():
        for key in symbol_keys:
            timeframe = parse_key(key)[0]
            at_tick: dict[datetime, Decimal | None] = {}
            for t in by_symbol[symbol]:
                value = functions[symbol, key, bucket_of(t.observed_at, timeframe)](float(t.price))
                at_tick[t.observed_at] = None if value is None else Decimal(repr(value))
            answer[symbol, key] = at_tick
    return answer


def _extend(needed: dict[tuple[str, str, datetime], Spec]) -> dict[tuple[str, str, datetime], Any]:
    """``indicators.extend`` over the finished closes before each bucket, read in one statement a
    timeframe (as deep as its deepest indicator needs); kept when the bucket is settled."""
    depths: dict[tuple[str, str, datetime], int] = defaultdict(int)  # (symbol, timeframe, bucket)
    for (symbol, key, bucket), spec in needed.items():
        at = (symbol, parse_key(key)[0], bucket)
        depths[at] = max(depths[at], depth(spec))
    closes: dict[tuple[str, str, datetime], list[float]] = {}
    for timeframe, query in _CLOSES.items():
        ask = [at for at in depths if at[1] == timeframe]
        if ask:
            rows = db.session.execute(
                query,
                {"symbols": [a[0] for a in ask], "buckets": [a[2] for a in ask], "depths": [depths[a] for a in ask]},
            )
            closes |= {(row.symbol, timeframe, row.bucket): list(reversed(row.closes)) for row in rows}
    now = datetime.now(UTC)
    made = {}
    for (symbol, key, bucket), spec in needed.items():
        timeframe = parse_key(key)[0]
        # its own depth of them, whatever other indicators read: the same value for every alert
        before = closes[symbol, timeframe, bucket][-depth(spec) :]
        made[symbol, key, bucket] = extend(spec, before)
        # kept only with its whole depth: a symbol whose past is still being loaded (the backfill
        # of a symbol just added) is read again at the next batch, not left short for the bucket
        if len(before) == depth(spec) and now - bucket >= timedelta(seconds=SETTLED_SECONDS):
            _settled[symbol, key, bucket] = made[symbol, key, bucket]
    if made:  # a new bucket began somewhere: the old ones can go
        _forget_old(now)
    return made


def _forget_old(now: datetime) -> None:
    """Drop the buckets two of their own lengths old: no tick of a live batch is in them."""
    for at in [at for at in _settled if now - at[2] > timedelta(seconds=2 * TIMEFRAMES[parse_key(at[1])[0]])]:
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
