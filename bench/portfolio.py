"""Portfolio benchmark: GET /api/portfolio/history over 1y (and 30d) for 20 positions, through the web
process as the Procfile starts it. Each symbol has a year of daily candles and 30 days of hourly
ones (made in PostgreSQL) and ten transactions over the year (six buys, four sells); the value is
computed from those on every request, nothing cached or stored twice."""

from __future__ import annotations

import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import text

from app.extensions import db
from bench.data import add_inactive_symbols, candles_sql
from bench.fanout import percentile

SYMBOLS = [f"P{n:02d}-USD" for n in range(20)]
RANGES = ("1y", "30d")


@dataclass
class PortfolioResult:
    transactions: int = 0
    p50_ms: dict[str, float] = field(default_factory=dict)
    p99_ms: dict[str, float] = field(default_factory=dict)
    points: dict[str, int] = field(default_factory=dict)


def load(app: Flask, now: datetime) -> int:
    """The candles and the transactions; returns how many transactions."""
    year_ago = (now - timedelta(days=365)).replace(minute=0, second=0, microsecond=0)
    with app.app_context():
        add_inactive_symbols(SYMBOLS)
        for table, step, count, start in (
            ("candles_1d", "1 day", 366, year_ago.replace(hour=0)),
            ("candles_1h", "1 hour", 30 * 24, now.replace(minute=0, second=0, microsecond=0) - timedelta(days=30)),
        ):
            db.session.execute(
                text(candles_sql(table)),
                {"symbols": SYMBOLS, "start": start, "count": count, "step": step, "wave": 50.0},
            )
        # Every 36 days: buy 10, buy 10, sell 5, ... (six buys, four sells): never more sold than held.
        db.session.execute(
            text(
                """INSERT INTO transactions (symbol, side, quantity, price, fees, traded_at)
                   SELECT s.symbol, CASE WHEN k IN (2, 4, 6, 8) THEN 'sell' ELSE 'buy' END,
                          CASE WHEN k IN (2, 4, 6, 8) THEN 5 ELSE 10 END, 100 + k, 1,
                          :start + (k * 36) * interval '1 day'
                   FROM unnest(CAST(:symbols AS text[])) AS s(symbol), generate_series(0, 9) k"""
            ),
            {"symbols": SYMBOLS, "start": year_ago},
        )
        db.session.execute(text("ANALYZE candles_1d; ANALYZE candles_1h; ANALYZE transactions"))
        db.session.commit()
        return int(db.session.scalar(text("SELECT count(*) FROM transactions")))


def run_portfolio(app: Flask, base_url: str, requests: int) -> PortfolioResult:
    result = PortfolioResult(transactions=load(app, datetime.now(UTC)))
    for name in RANGES:
        latencies = []
        for _ in range(requests):
            started = time.perf_counter()
            with urllib.request.urlopen(f"{base_url}/api/portfolio/history?range={name}", timeout=10) as response:  # noqa: S310
                body = response.read()
            latencies.append(time.perf_counter() - started)
        result.points[name] = body.count(b'"t":')
        result.p50_ms[name] = percentile(latencies, 0.5) * 1000
        result.p99_ms[name] = percentile(latencies, 0.99) * 1000
    return result
