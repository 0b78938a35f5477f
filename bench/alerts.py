"""Alert-check benchmark: one check of a 500-tick batch with 10 vs 100,000 active alerts, none of
them crossed, for each mix of rule kinds and three shapes: spread over 500 symbols, all on one
symbol, and a hot symbol (the whole batch is that symbol's ticks). The check must cost about the
same whatever the number of alerts: ≤ 2x.

Every symbol has a stored price of 100 every 10 minutes over the last 8 days (the change rules'
references) and 250 finished candles on each timeframe; the batch moves prices by 0.01 % to 0.5 %,
which no alert's threshold, percentage or level reaches, and crosses no average it did not cross in
the first check.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import text

from app.alerting import indicator_rules
from app.alerting.alerts import _CANDIDATES, check_ticks
from app.alerting.indicator_rules import SETTLED_SECONDS, bucket_of
from app.extensions import db
from app.market.partitions import ensure_partitions
from app.market.ticks import Tick
from app.models import CANDLE_TABLES, TIMEFRAMES
from bench.data import add_inactive_symbols

SYMBOLS = [f"B{n:03d}-USD" for n in range(500)]
BATCH = 500
PRICE = Decimal(100)
# The page's windows (the form's choices): the change check looks up one reference per window.
WINDOWS = (300, 900, 3600, 4 * 3600, 86400, 7 * 86400)
HISTORY = timedelta(days=8)  # a stored price every 10 minutes over the longest window and a day
HISTORY_STEP = timedelta(minutes=10)

# Alert n of a mix: with r = (n / 500 + n) % 5 (every symbol gets every kind), a change rule when
# r < :change_fifths, an indicator rule when r < :change_fifths + :indicator_fifths, else half
# above the price and half below; a third of the price rules every_time (armed).
# Change rules: 1 % to 41 %, up / down / either, over the page's windows. Indicator rules: half
# crosses (every_time, each its own cooldown: no two alike), half RSI levels (above: 60 to 95,
# below: 5 to 40), over CROSSES and RSIS.
_MAKE_ALERTS = text(
    """
    INSERT INTO alerts (symbol, rule, direction, threshold, change_percent, window_seconds, indicator, period,
                        timeframe, level, frequency, cooldown_seconds, armed)
    SELECT (CAST(:symbols AS text[]))[1 + (n % :spread)], k.rule,
           CASE k.rule WHEN 'change' THEN (ARRAY['up', 'down', 'either'])[1 + (n / 7) % 3]
                       WHEN 'cross' THEN (ARRAY['above', 'below'])[1 + (n / 7) % 2]
                       WHEN 'rsi' THEN (ARRAY['above', 'below'])[1 + (n / 7) % 2] ELSE k.rule END,
           CASE k.rule WHEN 'above' THEN 200 + n * 0.01 WHEN 'below' THEN 50 - n * 0.0004 END,
           CASE k.rule WHEN 'change' THEN 1 + n * 0.0004 END,
           CASE k.rule WHEN 'change' THEN (CAST(:windows AS int[]))[1 + (n / 3) % 6] END,
           CASE k.rule WHEN 'cross' THEN split_part(k.spec, ':', 2) WHEN 'rsi' THEN 'rsi' END,
           CASE WHEN k.rule IN ('cross', 'rsi') THEN CAST(split_part(k.spec, ':', 3) AS int) END,
           CASE WHEN k.rule IN ('cross', 'rsi') THEN split_part(k.spec, ':', 1) END,
           CASE WHEN k.rule = 'rsi' AND (n / 7) % 2 = 0 THEN 60 + n % 350000 * 0.0001
                WHEN k.rule = 'rsi' THEN 5 + n % 350000 * 0.0001 END,
           CASE WHEN k.rule = 'cross' OR n % 3 = 0 THEN 'every_time' ELSE 'once' END,
           CASE WHEN k.rule = 'cross' THEN 60 + n WHEN n % 3 = 0 THEN 60 ELSE 0 END,
           k.rule <> 'cross'
    FROM generate_series(0, :count - 1) AS n
    CROSS JOIN LATERAL (SELECT (n / 500 + n) % 5 AS r) f
    CROSS JOIN LATERAL (
        SELECT CASE WHEN f.r < :change_fifths THEN 'change'
                    WHEN f.r < :change_fifths + :indicator_fifths AND (n / 5) % 2 = 0 THEN 'cross'
                    WHEN f.r < :change_fifths + :indicator_fifths THEN 'rsi'
                    WHEN n % 2 = 0 THEN 'above' ELSE 'below' END AS rule,
               CASE WHEN (n / 5) % 2 = 0 THEN (CAST(:crosses AS text[]))[1 + (n / 11) % 3]
                    ELSE (CAST(:rsis AS text[]))[1 + (n / 11) % 3] END AS spec) k
    """
)
# The indicators the indicator rules read: every timeframe, both averages, RSI.
CROSSES = ["1m:sma:20", "1h:ema:20", "1d:sma:50"]
RSIS = ["1m:rsi:14", "1h:rsi:14", "1d:rsi:7"]
CANDLES = 250  # finished candles a symbol has on each timeframe (EMA(20) reads 220)

_MAKE_HISTORY = text(
    """
    INSERT INTO ticks (symbol, price, observed_at, received_at, source)
    SELECT s, 100, t, t, 'simulated'
    FROM unnest(CAST(:symbols AS text[])) AS s, unnest(CAST(:times AS timestamptz[])) AS t
    ON CONFLICT DO NOTHING
    """
)
# Closes alternating 100 and 101: averages near 100.5, RSI near 50, which no level here reaches.
_MAKE_CANDLES = {
    table: text(
        f"""
        INSERT INTO {table} (symbol, bucket, open, high, low, close, first_at, last_at, ticks)
        SELECT s, v.b, v.c, v.c, v.c, v.c, v.b, v.b, 1
        FROM unnest(CAST(:symbols AS text[])) AS s,
             generate_series(1, :count) AS i,
             LATERAL (SELECT CAST(:current AS timestamptz) - i * make_interval(secs => :seconds) AS b,
                             100 + i % 2 AS c) v
        ON CONFLICT DO NOTHING
        """  # noqa: S608 - the three candle tables' names
    )
    for table in CANDLE_TABLES.values()
}

KINDS = {  # name: how many fifths of the alerts are change rules, how many indicator rules
    "above/below": (0, 0),
    "change": (5, 0),
    "indicator": (0, 5),
    "mixed, 20 % change": (1, 0),
    "mixed, every kind": (1, 1),
}

NEW_CANDLE = "spread over 500 symbols, a minute's first settled batch (bands made again)"
SHAPES = {  # name: (alerts spread over how many symbols, batch of one hot symbol)
    "spread over 500 symbols": (500, False),
    "all on one symbol": (1, False),
    "hot symbol (batch of one symbol)": (1, True),
}


def _history() -> None:
    now = datetime.now(UTC)
    times = [now - HISTORY + n * HISTORY_STEP for n in range(HISTORY // HISTORY_STEP)]
    ensure_partitions({t.date() for t in times} | {now.date()})
    db.session.execute(_MAKE_HISTORY, {"symbols": SYMBOLS, "times": times})
    for timeframe, table in CANDLE_TABLES.items():  # the bench's own candles, whatever was there
        current = bucket_of(now, timeframe)
        db.session.execute(text(f"DELETE FROM {table} WHERE symbol = ANY(:s)"), {"s": SYMBOLS})  # noqa: S608
        db.session.execute(
            _MAKE_CANDLES[table],
            {"symbols": SYMBOLS, "count": CANDLES, "current": current, "seconds": TIMEFRAMES[timeframe]},
        )
    db.session.commit()


def _setup(count: int, spread: int, fifths: tuple[int, int]) -> None:
    db.session.execute(text("TRUNCATE alerts CASCADE"))
    db.session.execute(
        _MAKE_ALERTS,
        {
            "symbols": SYMBOLS, "spread": spread, "count": count, "change_fifths": fifths[0],
            "indicator_fifths": fifths[1], "windows": list(WINDOWS), "crosses": CROSSES, "rsis": RSIS,
        },
    )  # fmt: skip
    db.session.commit()
    _vacuum()


def _vacuum() -> None:
    """The tables as autovacuum leaves them: statistics (of the symbols' alert lookups too, which
    the setup just rewrote), a visibility map for the index-only scans, and no dead versions of
    alerts the first check re-armed (each would cost a heap visit)."""
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE alerts, symbols"))


def _batch(hot: bool) -> list[Tick]:
    """A batch of now, at least SETTLED_SECONDS into its minute and ending in it: its indicators'
    candles settle at its first check (a candle's first batches are timed apart, ``_new_candle``;
    a batch reaching into the next minute is looked at whole, as its bands are for one)."""
    clock = datetime.now(UTC)
    into = clock.second + clock.microsecond / 1e6
    if into < SETTLED_SECONDS + 1:
        time.sleep(SETTLED_SECONDS + 1 - into)
    elif into > 58:
        time.sleep(60 - into + SETTLED_SECONDS + 1)
    now = datetime.now(UTC)
    symbols = [SYMBOLS[0]] * BATCH if hot else SYMBOLS[:BATCH]
    return [
        Tick(s, PRICE + Decimal(i % 50 + 1) / 100, now + timedelta(milliseconds=i), now, "simulated")
        for i, s in enumerate(symbols)
    ]


def run_alerts(best_of: Callable[..., float], rounds: int, large: int) -> dict[tuple[str, str], tuple[float, float]]:
    """{(kind, shape): (seconds with 10 alerts, seconds with ``large``)}, and for the kinds with
    indicator rules spread over the symbols, {(kind, NEW_CANDLE): ...}; nothing may fire."""
    add_inactive_symbols(SYMBOLS)
    _history()
    results = {}
    for kind, fifths in KINDS.items():
        for shape, (spread, hot) in SHAPES.items():
            timings, new_candle = [], []
            for count in (10, large):
                _setup(count, min(spread, count), fifths)
                batch = _batch(hot)
                fired = check_ticks(batch).fired
                if fired:
                    raise RuntimeError(f"{len(fired)} alerts fired: the benchmark's thresholds are off")
                _vacuum()
                timings.append(best_of(rounds, lambda n, batch=batch: check_ticks(batch)))
                if fifths[1] and not hot and spread > 1:
                    new_candle.append(best_of(rounds, lambda n, batch=batch: check_ticks(batch), setup=_new_candle))
            results[kind, shape] = (timings[0], timings[1])
            if new_candle:
                results[kind, NEW_CANDLE] = (new_candle[0], new_candle[1])
    return results


def _new_candle() -> None:
    """Make the next check find a new minute candle, as a minute's first settled batch does: the
    minute indicators' closes read again, every symbol's bands made again."""
    indicator_rules.forget_settled("1m")
    db.session.execute(text("UPDATE symbols SET indicator_from = NULL WHERE indicator_levels <> '{}'"))
    db.session.commit()


def explain(large: int, hot: bool) -> str:
    """EXPLAIN ANALYZE of the candidates query for the mixed kind with ``large`` alerts, spread over
    500 symbols or on the batch's one hot symbol."""
    _setup(large, 1 if hot else 500, KINDS["mixed, every kind"])
    batch = _batch(hot)
    rows = db.session.execute(
        text("EXPLAIN (ANALYZE, COSTS OFF) " + _CANDIDATES.text),
        {
            "symbols": [t.symbol for t in batch],
            "prices": [t.price for t in batch],
            "observed": [t.observed_at for t in batch],
        },
    )
    plan = "\n".join(r[0] for r in rows)
    db.session.rollback()
    return plan
