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
