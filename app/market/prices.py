"""Ticks in PostgreSQL: idempotent bulk insert, latest prices, history."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select, text
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.market.candles import ORIGIN, insert_ticks_sql
from app.market.partitions import ensure_partitions
from app.market.sources.routes import Watched
from app.market.ticks import Tick
from app.models import Symbol
from app.models import Tick as TickRow
from app.pipeline import progress
from app.pipeline.progress import Span
from app.sql_arrays import literal

log = logging.getLogger(__name__)


# One statement text for every batch size: arrays in, no per-batch SQL compilation (which was a
# third of the persist task's time with a 500-row VALUES list).
_INSERT = {candles: text(insert_ticks_sql(candles)) for candles in (True, False)}
_known_days: set[date] = set()  # days this process has seen a partition for
NO_PARTITION = "23514"  # check_violation: "no partition of relation found for row"


def store_ticks(ticks: Sequence[Tick], candles: bool = True, spans: Sequence[Span] = ()) -> list[Tick]:
    """Insert the ticks in one statement (folding them into the candles unless ``candles`` is
    False) and record ``spans`` (the Kafka records they came from) in the same transaction;
    returns only the ticks not stored before.

    A re-delivered tick hits the (symbol, observed_at, source) key and is skipped,
    so replaying a Kafka batch never stores a row twice (nor counts it twice in a candle).
    """
    ticks = _of_known_symbols(ticks)
    inserted = _insert(ticks, candles) if ticks else set()
    progress.record("persist", spans)
    db.session.commit()
    return [t for t in ticks if (t.symbol, t.observed_at, t.source) in inserted]


def _of_known_symbols(ticks: Sequence[Tick]) -> Sequence[Tick]:
    if not ticks:
        return ticks
    known_symbols = set(db.session.scalars(select(Symbol.symbol).where(Symbol.symbol.in_({t.symbol for t in ticks}))))
    unknown = {t.symbol for t in ticks} - known_symbols
    if unknown:
        log.warning("dropping ticks of symbols not in the symbols table: %s", sorted(unknown))
        return [t for t in ticks if t.symbol in known_symbols]
    return ticks


def _insert(ticks: Sequence[Tick], candles: bool) -> set[tuple[str, Any, str]]:
    """Run the persist statement (without committing); the (symbol, observed_at, source) it inserted."""
    arrays = {
        "symbols": literal(t.symbol for t in ticks),
        "prices": literal(t.price for t in ticks),
        "observed": literal(t.observed_at for t in ticks),
        "received": literal(t.received_at for t in ticks),
        "sources": literal(t.source for t in ticks),
        "volumes": literal(t.volume for t in ticks),
    }
    days = {t.observed_at.astimezone(UTC).date() for t in ticks}
    if not days <= _known_days:
        ensure_partitions(days)
        _known_days.update(days)
    try:
        rows = db.session.execute(_INSERT[candles], arrays)
    except IntegrityError as exc:  # a day dropped since we looked (a very late tick): make it again
        db.session.rollback()
        if getattr(exc.orig, "pgcode", None) != NO_PARTITION:
            raise
        _known_days.clear()
        ensure_partitions(days)
        _known_days.update(days)
        rows = db.session.execute(_INSERT[candles], arrays)
    return {(row.symbol, row.observed_at, row.source) for row in rows}


def tick_json(tick: Any) -> dict[str, Any]:
    """A tick (or a row with its columns) as the API and the relay show it. received_at is when
    we got it: the page's freshness is measured from it, not from the source's clock."""
    return {
        "symbol": tick.symbol,
        "price": float(tick.price),
        "observed_at": tick.observed_at.isoformat(),
        "received_at": tick.received_at.isoformat(),
        "source": tick.source,
    }


def latest_prices() -> list[dict[str, Any]]:
    """The newest tick and the one before it for each active symbol, and the price 24 h ago (see
    ``latest_rows``), as the API shows them."""
    return [
        tick_json(r)
        | {
            "previous_price": None if r.previous_price is None else float(r.previous_price),
            "price_24h_ago": None if r.price_24h_ago is None else float(r.price_24h_ago),
            # when that price was: 24 h back, or later while the history is younger than a day
            "price_24h_ago_at": None if r.price_24h_ago_at is None else r.price_24h_ago_at.isoformat(),
            "change_24h_percent": None
            if r.price_24h_ago is None
            else round(float((r.price - r.price_24h_ago) / r.price_24h_ago * 100), 4),
        }
        for r in latest_rows()
    ]


def latest_rows(symbols: Sequence[str] | None = None) -> Sequence[Any]:
    """Each active symbol's (or each of ``symbols``') newest tick, the price before it, and the
    price 24 h ago: the close of the minute candle 24 h back (if there is one within the hour
    before that), else the open of the oldest minute within the last 24 h, with its time
    (``price_24h_ago_at``). Decimals, as stored. Index probes only."""
    chosen = "s.active" if symbols is None else "s.symbol = ANY(CAST(:symbols AS text[]))"
    return db.session.execute(
        text(
            """
            SELECT s.symbol, t.price, t.observed_at, t.received_at, t.source, t.previous_price,
                   d.price AS price_24h_ago, d.at AS price_24h_ago_at
            FROM symbols s
            CROSS JOIN LATERAL (
                SELECT price, observed_at, received_at, source,
                       lead(price) OVER (ORDER BY observed_at DESC) AS previous_price
                FROM (SELECT price, observed_at, received_at, source FROM ticks
                      WHERE ticks.symbol = s.symbol
                      ORDER BY observed_at DESC LIMIT 2) newest
                ORDER BY observed_at DESC LIMIT 1
            ) t
            LEFT JOIN LATERAL (
                (SELECT close AS price, last_at AS at, 1 AS pref FROM candles_1m c
                 WHERE c.symbol = s.symbol AND c.bucket <= statement_timestamp() - interval '24 hours'
                   AND c.bucket > statement_timestamp() - interval '25 hours'
                 ORDER BY c.bucket DESC LIMIT 1)
                UNION ALL
                (SELECT open, first_at, 2 FROM candles_1m c
                 WHERE c.symbol = s.symbol AND c.bucket > statement_timestamp() - interval '24 hours'
                 ORDER BY c.bucket LIMIT 1)
                ORDER BY pref LIMIT 1
            ) d ON true
            WHERE {chosen}
            ORDER BY s.position, s.symbol
            """.replace("{chosen}", chosen)
        ),
        {"symbols": list(symbols or [])},
    ).all()


def sparklines(hours: int = 24, bucket_minutes: int = 30) -> dict[str, list[list[Any]]]:
    """Each active symbol's closes over the last ``hours``, one per ``bucket_minutes`` (from the
    minute candles): [[bucket start, close], ...] oldest first, for the cards' small charts."""
    rows = db.session.execute(
        text(
            f"""
            SELECT c.symbol, date_bin(CAST(:bucket AS interval), c.bucket, {ORIGIN}) AS bucket_start,
                   (array_agg(c.close ORDER BY c.bucket DESC))[1] AS close
            FROM symbols s JOIN candles_1m c ON c.symbol = s.symbol
            WHERE s.active AND c.bucket >= statement_timestamp() - CAST(:span AS interval)
            GROUP BY 1, 2 ORDER BY 1, 2
            """
        ),
        {"bucket": timedelta(minutes=bucket_minutes), "span": timedelta(hours=hours)},
    )
    lines: dict[str, list[list[Any]]] = {}
    for row in rows:
        lines.setdefault(row.symbol, []).append([row.bucket_start.isoformat(), float(row.close)])
    return lines


def last_prices(symbols: Sequence[str]) -> dict[str, Decimal]:
    """The newest stored price of each of ``symbols`` that has one (one index probe each)."""
    rows = db.session.execute(
        text(
            """
            SELECT s.symbol, t.price
            FROM unnest(CAST(:symbols AS text[])) AS s(symbol)
            CROSS JOIN LATERAL (SELECT price FROM ticks WHERE ticks.symbol = s.symbol
                                ORDER BY observed_at DESC LIMIT 1) t
            """
        ),
        {"symbols": list(symbols)},
    )
    return {r.symbol: r.price for r in rows}


def history(symbol: str, points: int) -> list[dict[str, Any]]:
    """The last ``points`` ticks of a symbol, oldest first."""
    newest = (
        select(TickRow.symbol, TickRow.price, TickRow.observed_at, TickRow.received_at, TickRow.source)
        .where(TickRow.symbol == symbol)
        .order_by(TickRow.observed_at.desc())
        .limit(points)
        .subquery()
    )
    rows = db.session.execute(select(newest).order_by(newest.c.observed_at))
    return [tick_json(r) for r in rows]


def symbol_exists(symbol: str) -> bool:
    return db.session.scalar(select(func.count()).where(Symbol.symbol == symbol)) == 1


def all_symbols() -> set[str]:
    """Every symbol in the table, active or not (ticks of a just-removed symbol are still its own)."""
    return set(db.session.scalars(select(Symbol.symbol)))


def active_symbols(also: Sequence[str] = ()) -> list[Watched]:
    """The watchlist in its order, then ``also`` (the symbols fetched for the holdings), with each
    symbol's quote type and calendar (null until described)."""
    columns = (Symbol.symbol, Symbol.quote_type, Symbol.calendar)
    chosen = or_(Symbol.active, Symbol.symbol.in_(also)) if also else Symbol.active
    order = (Symbol.active.desc(), Symbol.position, Symbol.symbol)
    return [Watched(*row) for row in db.session.execute(select(*columns).where(chosen).order_by(*order))]
