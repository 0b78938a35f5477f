"""Candles: 1-minute, 1-hour and 1-day OHLC and volume of the raw ticks, kept as the ticks are
stored, and of the bars a history backfill loads (``bars_sql``).

The persist statement folds exactly the ticks it newly inserted (its RETURNING rows) into both
tables in the same statement: a re-delivered batch inserts no tick and so changes no candle, and
a late or out-of-order tick lands in its own bucket. Merging is order-free: ``open`` belongs to
the smallest (observed_at, price), ``close`` to the largest, so any arrival order of the same
ticks gives the same candle (tests/integration/test_candles.py checks that against the raw ticks).

All three are maintained on insert rather than rolled up by a beat task: the same merge, no lag,
no bookkeeping of which hours changed, and ~one more upsert per symbol per batch and table.
``volume`` adds up like ``ticks``: a tick carries what was traded since the source's previous
figure, a bar what was traded in it.
``rebuild`` recomputes them from raw ticks (after a restore, a bulk import with CANDLES=off, or an
upgrade), in chunks of one symbol-day, while the pipeline runs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import text

from app.extensions import db
from app.market.partitions import day_start

log = logging.getLogger(__name__)
ORIGIN = "TIMESTAMPTZ '2000-01-01 00:00:00+00'"  # buckets align to UTC minutes, hours, days
# Each table and its bucket, finest first: a candle of one is folded into every coarser one.
TABLES = {"candles_1m": "1 minute", "candles_1h": "1 hour", "candles_1d": "1 day"}
INTERVALS = {"1m": "candles_1m", "1h": "candles_1h", "1d": "candles_1d"}  # a source's bar -> its table

# Candles of a set of ticks named `src` (symbol, price, observed_at, volume).
_MINUTES_OF = f"""
    SELECT symbol, date_bin('1 minute', observed_at, {ORIGIN}) AS bucket,
           (array_agg(price ORDER BY observed_at, price))[1] AS open, max(price) AS high, min(price) AS low,
           (array_agg(price ORDER BY observed_at DESC, price DESC))[1] AS close,
           min(observed_at) AS first_at, max(observed_at) AS last_at, count(*)::int AS ticks,
           coalesce(sum(volume), 0) AS volume
    FROM {{src}} GROUP BY 1, 2
"""
# Coarser candles ({{size}}) of a set of candles named `src`.
_ROLLUP = f"""
    SELECT symbol, date_bin('{{size}}', bucket, {ORIGIN}) AS bucket,
           (array_agg(open ORDER BY first_at, open))[1] AS open, max(high) AS high, min(low) AS low,
           (array_agg(close ORDER BY last_at DESC, close DESC))[1] AS close,
           min(first_at) AS first_at, max(last_at) AS last_at, sum(ticks)::int AS ticks, sum(volume) AS volume
    FROM {{src}} GROUP BY 1, 2
"""
_MERGE = """
    ON CONFLICT (symbol, bucket) DO UPDATE SET
        open = CASE WHEN (excluded.first_at, excluded.open) < (c.first_at, c.open)
                    THEN excluded.open ELSE c.open END,
        first_at = least(c.first_at, excluded.first_at),
        high = greatest(c.high, excluded.high),
        low = least(c.low, excluded.low),
        close = CASE WHEN (excluded.last_at, excluded.close) > (c.last_at, c.close)
                     THEN excluded.close ELSE c.close END,
        last_at = greatest(c.last_at, excluded.last_at),
        ticks = c.ticks + excluded.ticks,
        volume = c.volume + excluded.volume
"""
_REPLACE = """
    ON CONFLICT (symbol, bucket) DO UPDATE SET
        open = excluded.open, high = excluded.high, low = excluded.low, close = excluded.close,
        first_at = excluded.first_at, last_at = excluded.last_at, ticks = excluded.ticks, volume = excluded.volume
"""


def _fold(src: str, tables: list[str], binned: bool = False) -> str:
    """CTEs merging the candles ``src`` into ``tables``, finest first, each coarser one rolled up
    from the one before (``binned``: ``src`` is on the first table's grid already); rows in
    (symbol, bucket) order so two statements lock shared candles in the same order."""
    parts, previous = [], src
    for i, table in enumerate(tables):
        rolled = src if binned and i == 0 else f"{table}_rows"
        if rolled != src:
            parts.append(f"{rolled} AS ({_ROLLUP.format(size=TABLES[table], src=previous)})")
        merge = f"INSERT INTO {table} AS c SELECT * FROM {rolled} ORDER BY symbol, bucket {_MERGE}"
        parts.append(f"{table}_merged AS ({merge})")
        previous = rolled
    return ",\n".join(parts)


def insert_ticks_sql(candles: bool) -> str:
    """The persist statement: insert a batch given as arrays; RETURNING what was new.

    With ``candles``, the new rows are folded into both candle tables in the same statement. Rows
    go in (symbol, bucket) order so two concurrent batches lock shared candles in the same order.
    """
    insert = """
        INSERT INTO ticks (symbol, price, observed_at, received_at, source, volume)
        SELECT * FROM unnest(CAST(:symbols AS text[]), CAST(:prices AS numeric[]), CAST(:observed AS timestamptz[]),
                             CAST(:received AS timestamptz[]), CAST(:sources AS text[]), CAST(:volumes AS numeric[]))
        ON CONFLICT ON CONSTRAINT uq_ticks_symbol_observed_source DO NOTHING
        RETURNING symbol, price, observed_at, source, volume
    """
    if not candles:
        return insert
    return f"""
        WITH new AS ({insert}),
        minute AS ({_MINUTES_OF.format(src="new")}),
        {_fold("minute", list(TABLES), binned=True)}
        SELECT symbol, price, observed_at, source FROM new
    """


def bars_sql(interval: str) -> str:
    """The statement that folds one symbol's bars of ``interval`` (1m, 1h, 1d; given as arrays of
    start, end, open, high, low, close, volume) into that interval's table and every coarser one.

    A bar counts as prices from its start (its open) to just before its end (its close), so it
    merges with live ticks and other bars by the same order-free rule as ticks do. Bars that do
    not start on our grid (Yahoo's hourly bars of a New York stock start at :30) go to the bucket
    they start in. ``ticks`` stays 0: no raw tick was seen.
    """
    tables = list(TABLES)[list(TABLES).index(INTERVALS[interval]) :]
    return f"""
        WITH bars AS (
            SELECT CAST(:symbol AS text) AS symbol, b.start AS bucket, b.open, b.high, b.low, b.close,
                   b.start AS first_at, b.stop - interval '1 microsecond' AS last_at, 0 AS ticks, b.volume
            FROM unnest(CAST(:starts AS timestamptz[]), CAST(:stops AS timestamptz[]), CAST(:opens AS numeric[]),
                        CAST(:highs AS numeric[]), CAST(:lows AS numeric[]), CAST(:closes AS numeric[]),
                        CAST(:volumes AS numeric[])) AS b(start, stop, open, high, low, close, volume)
        ),
        {_fold("bars", tables)}
        SELECT count(*) FROM bars
    """


_DAY_OF = "(SELECT * FROM {table} WHERE symbol = :symbol AND bucket >= :start AND bucket < :end) AS day"
# One symbol-day recomputed: its minutes from its raw ticks, then its hours from its minutes
# and the day from its hours (so minutes and hours a backfill loaded stay counted). The table
# lock (SHARE ROW EXCLUSIVE: readers go on, the persist statement's candle upsert waits) is
# taken before the statements' snapshots, so a batch is either seen here or merged after.
_REBUILD_DAY = (
    f"""
    WITH raw AS (
        SELECT symbol, price, observed_at, volume FROM ticks
        WHERE symbol = :symbol AND observed_at >= :start AND observed_at < :end
    )
    INSERT INTO candles_1m AS c SELECT * FROM ({_MINUTES_OF.format(src="raw")}) AS m {_REPLACE}
    """,
    f"""
    INSERT INTO candles_1h AS c {_ROLLUP.format(size="1 hour", src=_DAY_OF.format(table="candles_1m"))} {_REPLACE}
    """,
    f"""
    INSERT INTO candles_1d AS c {_ROLLUP.format(size="1 day", src=_DAY_OF.format(table="candles_1h"))} {_REPLACE}
    """,
)


def rebuild(
    symbol: str | None = None, since: datetime | None = None, progress: Callable[[str, date], None] | None = None
) -> int:
    """Recompute candles from raw ticks for ``symbol`` (or all) from ``since`` (or the first
    tick), one symbol-day per transaction; buckets with no raw ticks (pruned) keep their candle.
    Returns the number of symbol-days done."""
    symbols = [symbol] if symbol else list(db.session.scalars(text("SELECT symbol FROM symbols ORDER BY symbol")))
    next_tick = text(
        "SELECT min(observed_at) FROM ticks WHERE symbol = :s AND observed_at >= coalesce(CAST(:after AS timestamptz), "
        "'-infinity')"
    )
    done = 0
    for name in symbols:
        after = since
        # Day by day, jumping over days without ticks (one index probe each).
        while (first := db.session.scalar(next_tick, {"s": name, "after": after})) is not None:
            day = first.astimezone(UTC).date()
            db.session.execute(text(f"LOCK TABLE {', '.join(TABLES)} IN SHARE ROW EXCLUSIVE MODE"))
            bounds = {"symbol": name, "start": day_start(day), "end": day_start(day + timedelta(days=1))}
            for statement in _REBUILD_DAY:
                db.session.execute(text(statement), bounds)
            db.session.commit()
            done += 1
            if progress:
                progress(name, day)
            after = day_start(day + timedelta(days=1))
    return done


def prune_minutes(cutoff: datetime, batch: int = 10_000) -> int:
    """Delete 1-minute candles older than ``cutoff`` in short transactions of ``batch`` rows (no
    long lock, no table rewrite: the space is reused once autovacuum has been). Returns rows deleted."""
    deleted = 0
    while True:
        count = db.session.execute(
            text(
                "DELETE FROM candles_1m WHERE ctid = ANY(ARRAY("
                "SELECT ctid FROM candles_1m WHERE bucket < :cutoff LIMIT :batch))"
            ),
            {"cutoff": cutoff, "batch": batch},
        ).rowcount
        db.session.commit()
        deleted += count
        if count < batch:
            return deleted


def missing() -> bool:
    """Ticks stored but no candle at all: an install that predates candles, or one restored."""
    query = "SELECT EXISTS (SELECT 1 FROM ticks) AND NOT EXISTS (SELECT 1 FROM candles_1m)"
    return bool(db.session.scalar(text(query)))
