"""Data the benchmarks make for themselves."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import text

from app.extensions import db


def add_inactive_symbols(symbols: Sequence[str]) -> None:
    """Symbols for benchmark ticks and alerts; inactive, so no fetch ever asks a source for them."""
    db.session.execute(
        text("INSERT INTO symbols (symbol, active) SELECT unnest(CAST(:s AS text[])), false ON CONFLICT DO NOTHING"),
        {"s": list(symbols)},
    )


def candles_sql(table: str) -> str:
    """One row per symbol and step from ``:start``, ``:count`` of them, ``:step`` apart: a price that
    waves around 100 + the symbol's number (``:wave`` steps a radian), for ``table`` (candles_1m/1h/1d)."""
    return f"""INSERT INTO {table} (symbol, bucket, open, high, low, close, first_at, last_at, ticks)
        SELECT s.symbol, b, p, p + 1, p - 1, p + 0.5, b, b, 30
        FROM unnest(CAST(:symbols AS text[])) WITH ORDINALITY AS s(symbol, n),
             generate_series(0, :count - 1) g,
             LATERAL (SELECT :start + g * CAST(:step AS interval) AS b,
                             round((100 + s.n + 20 * sin(g / CAST(:wave AS float8)))::numeric, 2) AS p) v
        ON CONFLICT DO NOTHING"""  # noqa: S608 - our own table names
