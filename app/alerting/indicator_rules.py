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

Bands, so that the check's gate (alerts._GATE) can pass a symbol by without any of that: within
a candle, where the price stands against an average turns at one price (SMA(n): the close equal to
its own mean, S/(n-1) of the other n-1 closes; EMA: the EMA before), and RSI rises with the price,
so each level turns at one price too (``indicators.Next.turn``). ``record_bands`` keeps in the
symbol's row the lowest turn a rise could change an alert at (the levels of armed above and
disarmed below alerts, ``symbols.indicator_levels``) and the highest a fall could, a hair inside,
with the span of time whose candles they are for.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import text

from app.alerting import symbol_locks
from app.extensions import db
from app.market.indicators import Next, Spec, extend, lookback
from app.market.ticks import Tick
from app.models import CANDLE_TABLES, TIMEFRAMES
from app.sql_arrays import literal

SETTLED_SECONDS = 5
# (symbol, "1h:sma:20") -> {tick time: the indicator's value at that tick (None: too few candles)}
Values = dict[tuple[str, str], dict[datetime, Decimal | None]]
# (symbol, "1h:sma:20") -> [rising level, falling level] (symbols.indicator_levels)
Levels = dict[tuple[str, str], list[float | None]]

_LEVELS = text(
    "SELECT symbol, indicator_levels, indicator_from, indicator_until FROM symbols"
    " WHERE symbol = ANY(CAST(:symbols AS text[])) AND indicator_levels <> '{}'"
)
_SET_BANDS = text(
    """
    UPDATE symbols s SET indicator_up = b.up, indicator_down = b.down, indicator_from = b.start,
                         indicator_until = b.until
    FROM unnest(CAST(:symbols AS text[]), CAST(:ups AS numeric[]), CAST(:downs AS numeric[]),
                CAST(:starts AS timestamptz[]), CAST(:untils AS timestamptz[])) AS b(symbol, up, down, start, until)
    WHERE s.symbol = b.symbol
    """
)
# How far inside a turn a band stands, of the price (a look, never a miss: the check's own float
# arithmetic stays on the band's side of it), and wider ones to try if the check's function says
# a price at the band is already over the turn.
MARGINS = (1e-6, 1e-4, 1e-2)
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
_settled: dict[tuple[str, str, datetime], Next] = {}


@cache
def parse_key(key: str) -> tuple[str, Spec]:
    timeframe, kind, period = key.split(":")
    return timeframe, Spec(kind, int(period))


def depth(spec: Spec) -> int:
    """Finished closes an indicator's next value needs: the chart's lookback, and for EMA and RSI
    the period that seeds them on top of it (SMA's lookback, n-1, is all it needs)."""
    return lookback(spec) + (0 if spec.kind == "sma" else spec.period)


@lru_cache(maxsize=16384)  # a batch asks for each tick's bucket per indicator, several times
def bucket_of(moment: datetime, timeframe: str) -> datetime:
    seconds = TIMEFRAMES[timeframe]
    epoch = int(moment.timestamp()) // seconds * seconds
    return datetime.fromtimestamp(epoch, UTC)


def values(by_symbol: dict[str, list[Tick]]) -> tuple[Values, Levels]:
    """Each tick's value of every indicator its symbol's cross and RSI alerts read, and their
    levels (``symbols.indicator_levels``)."""
    rows = db.session.execute(_LEVELS, {"symbols": literal(by_symbol)})
    levels: Levels = {(row.symbol, key): pair for row in rows for key, pair in row.indicator_levels.items()}
    keys: dict[str, list[str]] = defaultdict(list)
    for symbol, key in levels:
        keys[symbol].append(key)
    if not keys:
        return {}, {}
    needed: dict[tuple[str, str, datetime], Spec] = {}  # (symbol, key, bucket) -> spec, not kept yet
    for symbol, symbol_keys in keys.items():
        for key in symbol_keys:
            timeframe, spec = parse_key(key)
            for t in by_symbol[symbol]:
                at = (symbol, key, bucket_of(t.observed_at, timeframe))
                if at not in _settled:
                    needed[at] = spec
    latest = max(t.observed_at for ticks in by_symbol.values() for t in ticks)
    functions = dict(_settled) | _extend(needed, latest)
    answer: Values = {}
    for symbol, symbol_keys in keys.items():
        for key in symbol_keys:
            timeframe = parse_key(key)[0]
            at_tick: dict[datetime, Decimal | None] = {}
            for t in by_symbol[symbol]:
                value = functions[symbol, key, bucket_of(t.observed_at, timeframe)](float(t.price))
                at_tick[t.observed_at] = None if value is None else Decimal(repr(value))
            answer[symbol, key] = at_tick
    return answer, levels


def _extend(needed: dict[tuple[str, str, datetime], Spec], latest: datetime) -> dict[tuple[str, str, datetime], Next]:
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
        _forget_old(latest)
    return made


def forget_settled(timeframe: str) -> None:
    """Drop the kept functions of ``timeframe``'s indicators: the next check reads their closes
    again, as at the turn of their candle (the benchmark's)."""
    for at in [at for at in _settled if parse_key(at[1])[0] == timeframe]:
        del _settled[at]


def _forget_old(latest: datetime) -> None:
    """Drop the buckets two of their own lengths before the batch's latest tick: no tick of the
    batches to come is in them (live, or a catch-up going through the log's past in order)."""
    for at in [at for at in _settled if latest - at[2] > timedelta(seconds=2 * TIMEFRAMES[parse_key(at[1])[0]])]:
        del _settled[at]


def candidates(by_symbol: dict[str, list[Tick]], found: Values, levels: Levels) -> Sequence[Any]:
    """The cross and RSI alerts the batch can fire or re-arm: none of an indicator none of whose
    values reaches its levels (the price over the average, RSI over the rising level: an armed
    above or disarmed below alert; the other way round for the falling one), the others read."""
    columns: dict[str, list[Any]] = defaultdict(list)
    for (symbol, key), at in found.items():
        timeframe, spec = parse_key(key)
        pairs = [(t.price, at[t.observed_at]) for t in by_symbol[symbol]]
        known = [v for _, v in pairs if v is not None]
        cross = spec.kind != "rsi"  # the price against a moving average; else RSI against levels
        above_holds = cross and any(v is not None and p >= v for p, v in pairs)
        below_holds = cross and any(v is not None and p <= v for p, v in pairs)
        high, low = (None, None) if cross else (max(known, default=None), min(known, default=None))
        rise, fall = levels[symbol, key]
        reaches_rise = rise is not None and (above_holds if cross else high is not None and high >= rise)
        reaches_fall = fall is not None and (below_holds if cross else low is not None and low <= fall)
        if not (reaches_rise or reaches_fall):
            continue
        for name, value in (
            ("symbols", symbol), ("timeframes", timeframe), ("indicators", spec.kind), ("periods", spec.period),
            ("above_holds", above_holds),
            ("above_leaves", cross and any(v is not None and p < v for p, v in pairs)),
            ("below_holds", below_holds),
            ("below_leaves", cross and any(v is not None and p > v for p, v in pairs)),
            ("highs", high), ("lows", low),
        ):  # fmt: skip
            columns[name].append(value)
    return db.session.execute(_CANDIDATES, columns).all() if columns else []


def record_bands(by_symbol: dict[str, list[Tick]]) -> None:
    """Keep in each symbol's row the prices between which no tick changes one of its cross or RSI
    alerts, while its indicators' candles are those of its last tick here (the gate passes such
    batches by). Called by the check after its apply (whose trigger sets the levels), in its
    transaction, for the symbols it read indicators of; only from settled functions with their
    whole depth (else the symbol stays looked at: a bucket's first seconds, a history loading)."""
    if not by_symbol:
        return
    last = {symbol: max(t.observed_at for t in ticks) for symbol, ticks in by_symbol.items()}
    stale = [
        row.symbol
        for row in db.session.execute(_LEVELS, {"symbols": literal(by_symbol)})
        if (row.indicator_from, row.indicator_until) != _span(row.indicator_levels, last[row.symbol])
    ]
    if not stale:
        return
    columns: dict[str, list[Any]] = defaultdict(list)
    held = symbol_locks.lock_free(stale)  # the others: a create, edit or check clears or sets them itself
    for row in db.session.execute(_LEVELS, {"symbols": literal(held)}):  # as they are now
        made = _bands(row.symbol, row.indicator_levels, last[row.symbol])
        if made is not None:
            for name, value in zip(("symbols", "ups", "downs", "starts", "untils"), (row.symbol, *made), strict=True):
                columns[name].append(value)
    if columns:
        db.session.execute(_SET_BANDS, {name: literal(values) for name, values in columns.items()})


def _span(levels: dict[str, list[float | None]], moment: datetime) -> tuple[datetime, datetime]:
    """From when to when every indicator's candles are those of ``moment``: the latest of their
    current buckets' starts, the earliest of their ends."""
    buckets = [(bucket_of(moment, timeframe), TIMEFRAMES[timeframe]) for timeframe, _ in map(parse_key, levels)]
    return max(b for b, _ in buckets), min(b + timedelta(seconds=length) for b, length in buckets)


def _bands(
    symbol: str, levels: dict[str, list[float | None]], moment: datetime
) -> tuple[float | None, float | None, datetime, datetime] | None:
    """(up, down, from, until): a rise to ``up`` or a fall to ``down`` may change an alert (None:
    no alert changes that way), for ticks from ``from`` to ``until``; None when not every indicator
    has its settled function for ``moment``'s candle."""
    ups: list[float] = []
    downs: list[float] = []
    for key, (rise, fall) in levels.items():
        timeframe, spec = parse_key(key)
        function = _settled.get((symbol, key, bucket_of(moment, timeframe)))
        if function is None:
            return None
        for level, up, found in ((rise, True, ups), (fall, False, downs)):
            if level is not None:
                price = _band(function, spec.kind == "rsi", level, up)
                if price is None:
                    return None
                found.append(price)
    return min(ups, default=None), max(downs, default=None), *_span(levels, moment)


def _band(function: Next, rsi: bool, level: float, up: bool) -> float | None:
    """The price short of where ``function`` turns at ``level``: with ``up``, no price below it is
    at or over the average (RSI at or over the level); else none above it is at or under. Checked
    with the check's own function; None where no margin holds (the symbol is looked at)."""
    turn = function.turn(level)
    if turn is None:
        return None
    if turn <= 0:  # every price is over it: any rise counts (0: always looked at), no fall reaches it
        return 0.0
    for margin in MARGINS:
        price = turn * (1 - margin if up else 1 + margin)
        value = function(price)
        if value is None:
            return None
        over = value - level if rsi else price - value  # > 0: the price is on the turn's upper side
        slack = 1e-9 if rsi else 1e-9 * price
        if (over < -slack) if up else (over > slack):
            return price
    return None
