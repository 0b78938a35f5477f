"""History benchmark: GET /history/<symbol> (the live chart's last N points) on the web process as
the Procfile starts it, with millions of rows in ``ticks``.

The rows are made inside PostgreSQL (INSERT ... SELECT over generate_series: no row crosses the
wire), in chunks of symbols so no transaction grows without bound. Requests go to symbols picked
at random, so the answer is not one cached page of the index.
"""

from __future__ import annotations

import random
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import func, select, text

from app.extensions import db
from app.models import Tick as TickRow
from app.partitions import ensure_partitions
from bench.data import add_inactive_symbols
from bench.fanout import percentile

SYMBOLS = [f"H{n:03d}-USD" for n in range(500)]
CHUNK_SYMBOLS = 25
START = datetime(2026, 1, 1, tzinfo=UTC)


@dataclass
class HistoryResult:
    rows: int
    load_seconds: float
    requests: int
    p50_ms: float
    p99_ms: float


def load_ticks(app: Flask, symbols: Sequence[str], per_symbol: int) -> float:
    """Give each symbol ``per_symbol`` ticks 2 s apart (a random walk); returns seconds taken."""
    started = time.perf_counter()
    with app.app_context():
        add_inactive_symbols(symbols)
        last = START + timedelta(seconds=2 * (per_symbol - 1))
        ensure_partitions(START.date() + timedelta(days=n) for n in range((last.date() - START.date()).days + 1))
        db.session.commit()
        for first in range(0, len(symbols), CHUNK_SYMBOLS):
            db.session.execute(
                text(
                    """
                    INSERT INTO ticks (symbol, price, observed_at, received_at, source)
                    SELECT s.symbol,
                           round((100 + s.n + 20 * sin(g / 500.0) + random())::numeric, 2),
                           CAST(:start AS timestamptz) + g * interval '2 seconds',
                           CAST(:start AS timestamptz) + g * interval '2 seconds' + interval '150 milliseconds',
                           'simulated'
                    FROM unnest(CAST(:symbols AS text[])) WITH ORDINALITY AS s(symbol, n),
                         generate_series(0, :per_symbol - 1) AS g
                    ON CONFLICT DO NOTHING
                    """
                ),
                {"start": START, "symbols": list(symbols[first : first + CHUNK_SYMBOLS]), "per_symbol": per_symbol},
            )
            db.session.commit()
        db.session.execute(text("ANALYZE ticks"))
        db.session.commit()
    return time.perf_counter() - started


def tick_count(app: Flask) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(TickRow))
        db.session.rollback()
    return int(count)


def time_history(base_url: str, symbols: Sequence[str], requests: int, points: int = 100) -> list[float]:
    """Seconds per GET /history/<symbol>?points=N, each answer checked for N points."""
    chooser = random.Random(7)  # noqa: S311 - picks benchmark symbols, not secrets
    latencies = []
    for _ in range(requests):
        symbol = chooser.choice(symbols)
        started = time.perf_counter()
        with urllib.request.urlopen(f"{base_url}/history/{symbol}?points={points}", timeout=10) as response:  # noqa: S310
            body = response.read()
        latencies.append(time.perf_counter() - started)
        if body.count(b'"observed_at"') != points:
            raise RuntimeError(f"/history/{symbol} did not answer {points} points")
    return latencies


def run_history(app: Flask, base_url: str, rows: int, requests: int) -> HistoryResult:
    """Load ``rows`` ticks over SYMBOLS (unless already there), then time ``requests`` requests."""
    per_symbol = rows // len(SYMBOLS)
    load = load_ticks(app, SYMBOLS, per_symbol)
    latencies = time_history(base_url, SYMBOLS, requests)
    return HistoryResult(
        rows=tick_count(app),
        load_seconds=load,
        requests=requests,
        p50_ms=percentile(latencies, 0.5) * 1000,
        p99_ms=percentile(latencies, 0.99) * 1000,
    )
