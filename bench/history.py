"""History benchmark: GET /history/<symbol> (the live chart's last 100 points) and
GET /api/history/<symbol>?range=... for every range, over millions of raw ticks and a year of
candles; then pruning a day of raw ticks while batches keep being stored.

Data, made inside PostgreSQL (INSERT ... SELECT over generate_series: no row crosses the wire):
raw ticks ending now (2 s apart), 1-minute candles for a year ending now, hourly candles for the
same year, and one old day of raw ticks 10 days back for the pruning run.
"""

from __future__ import annotations

import random
import statistics
import threading
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from flask import Flask
from sqlalchemy import text

from app.extensions import db
from app.market.partitions import drop_partitions_before, ensure_partitions
from app.market.prices import store_ticks
from app.market.ticks import Tick
from bench.data import add_inactive_symbols, candles_sql
from bench.fanout import percentile
from config.settings import Settings

RANGES = ("1h", "24h", "7d", "30d", "1y", "all")
SYMBOLS = [f"H{n:03d}-USD" for n in range(500)]


@dataclass
class HistoryResult:
    rows: dict[str, int]
    load_seconds: float
    bytes_per_row: dict[str, float] = field(default_factory=dict)  # table + indexes, after ANALYZE
    last_points_p50_ms: float = 0.0
    last_points_p99_ms: float = 0.0
    p50_ms: dict[str, float] = field(default_factory=dict)
    points: dict[str, int] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    prune_seconds: float = 0.0
    pruned_rows: int = 0
    insert_p50_before_ms: float = 0.0
    insert_p99_before_ms: float = 0.0
    insert_p99_during_ms: float = 0.0
    insert_max_during_ms: float = 0.0


def _days(start: datetime, end: datetime) -> list:
    return [start.date() + timedelta(days=n) for n in range((end.date() - start.date()).days + 1)]


def _fill(sql: str, params: dict, symbols: Sequence[str], chunk: int) -> None:
    for first in range(0, len(symbols), chunk):
        db.session.execute(text(sql), params | {"symbols": list(symbols[first : first + chunk])})
        db.session.commit()


def load(
    app: Flask, symbols: Sequence[str], raw_per_symbol: int, candle_symbols: int, now: datetime, days: int = 365
) -> dict:
    """Raw ticks ending at ``now``; ``days`` of minute candles for the first ``candle_symbols``
    symbols and of hourly candles for all; one old day (10 days back) of raw ticks."""
    raw_start = now - timedelta(seconds=2 * raw_per_symbol)
    old_day = (now - timedelta(days=10)).replace(hour=0, minute=0, second=0, microsecond=0)
    year_ago = (now - timedelta(days=days)).replace(second=0, microsecond=0)
    with app.app_context():
        add_inactive_symbols(symbols)
        ensure_partitions(_days(raw_start, now) + [old_day.date()])
        walk = "round((100 + s.n + 20 * sin(g / 500.0) + random())::numeric, 2)"
        _fill(
            f"""INSERT INTO ticks (symbol, price, observed_at, received_at, source)
                SELECT s.symbol, {walk}, :start + g * interval '2 seconds', :start + g * interval '2 seconds',
                       'simulated'
                FROM unnest(CAST(:symbols AS text[])) WITH ORDINALITY AS s(symbol, n), generate_series(0, :n - 1) g""",
            {"start": raw_start, "n": raw_per_symbol},
            symbols,
            25,
        )
        # The old day: 10,000 ticks a symbol (every 8.64 s), what pruning will drop.
        _fill(
            f"""INSERT INTO ticks (symbol, price, observed_at, received_at, source)
                SELECT s.symbol, {walk}, :start + g * interval '8.64 seconds', :start + g * interval '8.64 seconds',
                       'simulated'
                FROM unnest(CAST(:symbols AS text[])) WITH ORDINALITY AS s(symbol, n), generate_series(0, 9999) g""",
            {"start": old_day},
            symbols,
            50,
        )
        for table, step, count, chosen in (
            ("candles_1m", "1 minute", days * 1440, symbols[:candle_symbols]),
            ("candles_1h", "1 hour", days * 24, symbols),
            ("candles_1d", "1 day", days, symbols),
        ):
            _fill(
                candles_sql(table),
                {"start": year_ago, "count": count, "step": step, "wave": 500.0},
                chosen,
                {"candles_1m": 5, "candles_1h": 100}.get(table, 500),
            )
        db.session.execute(text("ANALYZE ticks; ANALYZE candles_1m; ANALYZE candles_1h; ANALYZE candles_1d"))
        db.session.commit()
        rows = {
            table: int(db.session.scalar(text(f"SELECT count(*) FROM {table}")))
            for table in ("ticks", "candles_1m", "candles_1h", "candles_1d")
        }
    return rows


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


def time_ranges(base_url: str, symbols: Sequence[str], requests: int) -> tuple[dict, dict, dict]:
    """p50 ms, points and source per range, over ``requests`` requests to random symbols each."""
    chooser = random.Random(11)  # noqa: S311 - picks benchmark symbols, not secrets
    p50, points, sources = {}, {}, {}
    for name in RANGES:
        latencies = []
        for _ in range(requests):
            symbol = chooser.choice(symbols)
            started = time.perf_counter()
            with urllib.request.urlopen(f"{base_url}/api/history/{symbol}?range={name}", timeout=10) as response:  # noqa: S310
                body = response.read()
            latencies.append(time.perf_counter() - started)
            points[name] = body.count(b'"close"')
            sources[name] = body.split(b'"source":"', 1)[1].split(b'"', 1)[0].decode()
        p50[name] = statistics.median(latencies) * 1000
    return p50, points, sources


def prune_while_storing(app: Flask, symbols: Sequence[str], now: datetime) -> tuple[float, list[float], list[float]]:
    """Drop the old day while another connection stores a 500-tick batch every 100 ms: seconds
    the prune took, and insert latencies (s) before and during it."""
    before: list[float] = []
    during: list[float] = []
    pruning = threading.Event()
    stop = threading.Event()

    def store() -> None:
        n = 0
        with app.app_context():
            while not stop.is_set():
                at = now + timedelta(seconds=n)
                batch = [Tick(s, Decimal("100.5"), at, at, "simulated") for s in symbols[:500]]
                started = time.perf_counter()
                store_ticks(batch)
                (during if pruning.is_set() else before).append(time.perf_counter() - started)
                n += 1
                time.sleep(0.1)

    writer = threading.Thread(target=store, daemon=True)
    writer.start()
    time.sleep(3)
    pruning.set()
    started = time.perf_counter()
    with app.app_context():
        drop_partitions_before(now - timedelta(days=7))
    seconds = time.perf_counter() - started
    time.sleep(1)
    stop.set()
    writer.join(30)
    return seconds, before, during


def summary(result: HistoryResult) -> str:
    ranges = ", ".join(
        f"{name} {result.p50_ms[name]:.1f} ms ({result.points[name]} points, {result.sources[name]})" for name in RANGES
    )
    return f"ranges p50: {ranges}; rows {result.rows}"


def insert_figures(before: list[float], during: list[float]) -> dict[str, float]:
    return {
        "insert_p50_before_ms": percentile(before, 0.5) * 1000,
        "insert_p99_before_ms": percentile(before, 0.99) * 1000,
        "insert_p99_during_ms": percentile(during, 0.99) * 1000,
        "insert_max_during_ms": max(during, default=float("nan")) * 1000,
    }


def run_history(
    app: Flask,
    base_url: str,
    raw_per_symbol: int,
    candle_symbols: int,
    requests: int,
    symbols: Sequence[str] = SYMBOLS,
    days: int = 365,
) -> HistoryResult:
    """Load the data (see the module docstring), time both endpoints, then prune while storing."""
    now = datetime.now(UTC)
    started = time.perf_counter()
    rows = load(app, symbols, raw_per_symbol, candle_symbols, now, days)
    result = HistoryResult(rows=rows, load_seconds=time.perf_counter() - started)
    with app.app_context():
        for table in rows:
            size = db.session.scalar(
                text(
                    "SELECT coalesce((SELECT sum(pg_total_relation_size(relid)) "
                    "FROM pg_partition_tree(CAST(:t AS regclass))), pg_total_relation_size(CAST(:t AS regclass)))"
                ),
                {"t": table},
            )
            result.bytes_per_row[table] = float(size) / max(rows[table], 1)
    last = time_history(base_url, symbols, requests)
    result.last_points_p50_ms, result.last_points_p99_ms = percentile(last, 0.5) * 1000, percentile(last, 0.99) * 1000
    result.p50_ms, result.points, result.sources = time_ranges(base_url, symbols[:candle_symbols], requests)
    cutoff = now - timedelta(days=7)
    with app.app_context():
        old = db.session.scalar(text("SELECT count(*) FROM ticks WHERE observed_at < :t"), {"t": cutoff})
        result.pruned_rows = int(old)
    result.prune_seconds, before, during = prune_while_storing(app, symbols, now + timedelta(hours=1))
    for name, value in insert_figures(before, during).items():
        setattr(result, name, value)
    return result


def storage_per_symbol_year(bytes_per_row: dict[str, float], settings: Settings) -> float:
    """Bytes one symbol holds after a year at the 2 s cadence: RAW_RETENTION_DAYS of raw ticks,
    CANDLES_1M_RETENTION_DAYS of minute candles and a year of hourly and daily ones (those are kept)."""
    per_day = 86_400 / settings.fetch_interval_seconds
    return (
        settings.raw_retention_days * per_day * bytes_per_row["ticks"]
        + settings.candles_1m_retention_days * 1440 * bytes_per_row["candles_1m"]
        + 365 * 24 * bytes_per_row["candles_1h"]
        + 365 * bytes_per_row.get("candles_1d", 0)
    )
