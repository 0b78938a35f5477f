"""Loading a symbol's past from its source into the candle tables, chunk by chunk.

The merge rule: each source owns a slice of time (app/market/backfill_plan.py). Live ticks own
everything from ``until``, the moment this install began to see the symbol (its first stored
price, or when the backfill was planned if it had none); bars only come from before it. So a
backfill never overwrites what live ticks built, and a bucket that straddles ``until`` (today's
hour and day) is the order-free merge of its backfilled part and its live part, counted once:
the same merge as two batches of ticks (app/market/candles.py).

Each chunk is one transaction: its candles, its row in ``backfill_chunks`` and the job's progress.
A chunk already recorded is skipped, so a re-run adds nothing and a killed worker resumes at the
first chunk it had not committed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text

from app.extensions import db
from app.market.backfill_plan import Chunk, chunks
from app.market.candles import bars_sql
from app.market.sources import Bar, Known
from app.models import Backfill, BackfillChunk, Symbol

_BARS = {interval: text(bars_sql(interval)) for interval in ("1m", "1h", "1d")}
# The live slice's first price and its time: the first stored tick, else the first candle
# (ticks are dropped after RAW_RETENTION_DAYS; candles are kept).
_FIRST_SEEN = text(
    """
    SELECT coalesce(t.observed_at, d.first_at) AS at, coalesce(t.price, d.open) AS price
    FROM (SELECT 1) AS one
    LEFT JOIN LATERAL (SELECT observed_at, price FROM ticks WHERE symbol = :s ORDER BY observed_at LIMIT 1) t ON true
    LEFT JOIN LATERAL (SELECT first_at, open FROM candles_1d WHERE symbol = :s ORDER BY bucket LIMIT 1) d ON true
    """
)


def plan_missing(source_of: Callable[[Symbol], str], now: datetime, years: int) -> list[str]:
    """A job for every watched symbol that has none yet; returns the symbols planned."""
    planned = []
    planned_before = select(Backfill.symbol).where(Backfill.symbol == Symbol.symbol).exists()
    missing = select(Symbol).where(Symbol.active, ~planned_before)
    for row in db.session.scalars(missing).all():
        first = db.session.execute(_FIRST_SEEN, {"s": row.symbol}).one()
        until = min(now, first.at) if first.at is not None else now
        db.session.add(
            Backfill(
                symbol=row.symbol,
                source=source_of(row),
                until=until,
                first_price=first.price,
                chunks_total=len(chunks(until, years)),
            )
        )
        planned.append(row.symbol)
    db.session.commit()
    return planned


def unfinished() -> list[Backfill]:
    """Jobs still to do of watched symbols, oldest first (a symbol added first gets its past first);
    a symbol removed meanwhile waits until it is watched again."""
    watched = select(Symbol.symbol).where(Symbol.active)
    query = (
        select(Backfill)
        .where(Backfill.state.not_in(("done", "failed")), Backfill.symbol.in_(watched))
        .order_by(Backfill.created_at)
    )
    return list(db.session.scalars(query))


def next_chunk(job: Backfill, years: int) -> Chunk | None:
    """The newest chunk of ``job`` not done yet, None when all are."""
    query = select(BackfillChunk.interval, BackfillChunk.start).where(BackfillChunk.symbol == job.symbol)
    done = {(interval, start) for interval, start in db.session.execute(query)}
    return next((c for c in chunks(job.until, years) if (c.interval, c.start) not in done), None)


def known(job: Backfill) -> Known:
    calendar = db.session.scalar(select(Symbol.calendar).where(Symbol.symbol == job.symbol))
    return Known(calendar, job.until, job.first_price)


def write_chunk(job: Backfill, chunk: Chunk, bars: Sequence[Bar]) -> int:
    """Store one chunk's bars, mark it done and count the job's progress, in one transaction.
    Returns the bars stored: 0 if another worker had done the chunk already."""
    symbol = job.symbol
    db.session.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"backfill:{symbol}"))))
    marked = db.session.execute(
        text(
            "INSERT INTO backfill_chunks (symbol, interval, start, rows) VALUES (:s, :i, :start, :rows) "
            "ON CONFLICT DO NOTHING RETURNING 1"
        ),
        {"s": symbol, "i": chunk.interval, "start": chunk.start, "rows": len(bars)},
    ).first()
    if marked is None:
        db.session.rollback()
        return 0
    if bars:
        db.session.execute(_BARS[chunk.interval], _arrays(symbol, bars))
    db.session.execute(
        text(
            """
            UPDATE backfills SET
                chunks_done = (SELECT count(*) FROM backfill_chunks WHERE symbol = :s),
                rows = rows + :rows, error = NULL, updated_at = now(),
                state = CASE WHEN (SELECT count(*) FROM backfill_chunks WHERE symbol = :s) >= chunks_total
                             THEN 'done' ELSE 'running' END
            WHERE symbol = :s
            """
        ),
        {"s": symbol, "rows": len(bars)},
    )
    db.session.commit()
    return len(bars)


def _arrays(symbol: str, bars: Sequence[Bar]) -> dict[str, Any]:
    return {
        "symbol": symbol,
        "starts": [b.start for b in bars],
        "stops": [b.stop for b in bars],
        "opens": [b.open for b in bars],
        "highs": [b.high for b in bars],
        "lows": [b.low for b in bars],
        "closes": [b.close for b in bars],
        "volumes": [b.volume for b in bars],
    }


def note(symbol: str, state: str, error: str | None) -> None:
    """A job's state and last error (a source resting or failing), for the card and /api/status."""
    db.session.execute(
        text("UPDATE backfills SET state = :state, error = :error, updated_at = now() WHERE symbol = :s"),
        {"s": symbol, "state": state, "error": error},
    )
    db.session.commit()


def progress_json(job: Backfill) -> dict[str, Any]:
    return {
        "symbol": job.symbol,
        "state": job.state,
        "source": job.source,
        "until": job.until.isoformat(),
        "percent": 100 if job.state == "done" else int(100 * job.chunks_done / max(job.chunks_total, 1)),
        "rows": int(job.rows),
        "error": job.error,
    }


def progress() -> list[dict[str, Any]]:
    """Every job's progress (/api/status, the cards)."""
    return [progress_json(job) for job in db.session.scalars(select(Backfill).order_by(Backfill.created_at))]
