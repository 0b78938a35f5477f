"""Backfill benchmark: the history of many symbols loaded by the backfill process, as the
Procfile starts it, while the live path runs on the same symbols.

The past comes from the simulator (PRICE_SOURCE=simulated): the same bars a recorded answer
would give, 1 m for 7 days, 1 h for two years and 1 d back BACKFILL_YEARS, without a network;
parsing Yahoo's JSON is not in the figure. Measured in one run:

- rows per second into the candle tables (bars stored / time from the first chunk to the last),
  and the backfill process's peak RSS (VmHWM of its processes);
- the live path with and without the backfill: fetch -> socket p50 (``clients`` /ws clients for
  ``window`` seconds, as the fanout benchmark measures it) and the persist statement's p99 (a
  500-tick batch stored every 0.25 s by a probe, on symbols of its own);
- every range of GET /api/history through gunicorn over the backfilled tables.
"""

from __future__ import annotations

import json
import random
import statistics
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from flask import Flask
from sqlalchemy import text

from app.extensions import db
from app.market.prices import store_ticks
from app.market.ticks import Tick
from bench.data import add_inactive_symbols
from bench.fanout import group_pids, percentile, rss_mb, run_fanout
from bench.history import RANGES
from devstack.processes import running_stack
from devstack.run import procfile_commands
from devstack.servers import wait_until

PROBE_SYMBOLS = [f"P{n:03d}-USD" for n in range(500)]


@dataclass
class BackfillResult:
    symbols: int
    rows: int = 0
    seconds: float = 0.0
    peak_rss_mb: float = 0.0
    rows_by_table: dict[str, int] = field(default_factory=dict)
    delivery_p50_ms: dict[str, float] = field(default_factory=dict)  # "without", "during"
    persist_p99_ms: dict[str, float] = field(default_factory=dict)
    range_p50_ms: dict[str, float] = field(default_factory=dict)
    range_points: dict[str, int] = field(default_factory=dict)
    range_sources: dict[str, str] = field(default_factory=dict)

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


def _persist_probe(app: Flask, stop: threading.Event, samples: list[float]) -> None:
    """A 500-tick batch (one tick per probe symbol) every 0.25 s; seconds per statement."""
    with app.app_context():
        n = 0
        while not stop.is_set():
            at = datetime.now(UTC)
            batch = [Tick(s, Decimal(100 + (n + i) % 7), at, at, "simulated") for i, s in enumerate(PROBE_SYMBOLS)]
            started = time.perf_counter()
            store_ticks(batch)
            samples.append(time.perf_counter() - started)
            n += 1
            stop.wait(0.25)


def _live_window(app: Flask, stack, clients: int, seconds: float) -> tuple[float, float]:
    """(fetch -> socket p50 ms, persist p99 ms) over one window."""
    stop, samples = threading.Event(), []
    probe = threading.Thread(target=_persist_probe, args=(app, stop, samples))
    probe.start()
    try:
        fanout = run_fanout(stack, clients, seconds)
    finally:
        stop.set()
        probe.join()
    return fanout.delivery_p50_ms, percentile(samples, 0.99) * 1000


def _peak_rss_mb(pgid: int) -> float:
    return rss_mb(group_pids(pgid), "VmHWM")


def _progress() -> tuple[int, int, int]:
    """(jobs done, jobs, bars stored) as the backfill table says now."""
    db.session.rollback()  # a fresh snapshot
    row = db.session.execute(
        text("SELECT count(*) FILTER (WHERE state = 'done'), count(*), coalesce(sum(rows), 0) FROM backfills")
    ).one()
    return int(row[0]), int(row[1]), int(row[2])


def _time_ranges(base_url: str, symbols: list[str], requests: int, result: BackfillResult) -> None:
    chooser = random.Random(11)  # noqa: S311 - picks benchmark symbols, not secrets
    for name in RANGES:
        latencies = []
        for _ in range(requests):
            url = f"{base_url}/api/history/{chooser.choice(symbols)}?range={name}"
            started = time.perf_counter()
            with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - our own URL
                body = response.read()
            latencies.append(time.perf_counter() - started)
        answer = json.loads(body)
        result.range_p50_ms[name] = statistics.median(latencies) * 1000
        result.range_points[name] = len(answer["points"])
        result.range_sources[name] = answer["source"]


def run_backfill(
    app: Flask, env: dict[str, str], logs: Path, symbols: list[str], clients: int = 50, window: float = 15,
    requests: int = 50, timeout: float = 3600,
) -> BackfillResult:  # fmt: skip
    """Backfill ``symbols`` (watched, simulated) through the backfill process while the stack runs."""
    from app.market.watchlist import sync_symbols

    result = BackfillResult(len(symbols))
    with app.app_context():
        add_inactive_symbols(PROBE_SYMBOLS)
        db.session.commit()
        sync_symbols(symbols)
        db.session.execute(text("TRUNCATE backfills, backfill_chunks"))
        db.session.commit()
    with running_stack(env, logs, LOG_LEVEL="WARNING", SYMBOLS=",".join(symbols)) as stack:
        with app.app_context():
            result.delivery_p50_ms["without"], result.persist_p99_ms["without"] = _live_window(
                app, stack, clients, window
            )
            stack.start("backfill", procfile_commands()["backfill"])
            started = time.monotonic()
            wait_until(lambda: _progress()[2] > 0, 120, "the backfill's first chunk")
            first_chunk = time.monotonic()
            result.delivery_p50_ms["during"], result.persist_p99_ms["during"] = _live_window(
                app, stack, clients, window
            )
            peak = 0.0

            def finished() -> bool:
                nonlocal peak
                peak = max(peak, _peak_rss_mb(stack.procs["backfill"].pid))
                done, jobs, _ = _progress()
                return jobs == len(symbols) and done == jobs

            wait_until(finished, timeout, f"the backfill of {len(symbols)} symbols")
            result.seconds = time.monotonic() - min(started, first_chunk)
            result.peak_rss_mb = peak
            result.rows = _progress()[2]
            for table in ("candles_1m", "candles_1h", "candles_1d"):
                result.rows_by_table[table] = int(db.session.scalar(text(f"SELECT count(*) FROM {table}")))  # noqa: S608
            db.session.execute(text("ANALYZE candles_1m; ANALYZE candles_1h; ANALYZE candles_1d"))
            db.session.commit()
        _time_ranges(stack.base_url, symbols, requests, result)
    return result


def summary(result: BackfillResult) -> str:
    return (
        f"backfill: {result.symbols} symbols, {result.rows:,} bars in {result.seconds:.0f} s "
        f"({result.rows_per_second:,.0f} rows/s), backfill process peak RSS {result.peak_rss_mb:.0f} MB; "
        f"fetch -> socket p50 {result.delivery_p50_ms.get('without', 0):.0f} ms without, "
        f"{result.delivery_p50_ms.get('during', 0):.0f} ms during; persist p99 "
        f"{result.persist_p99_ms.get('without', 0):.1f} ms without, {result.persist_p99_ms.get('during', 0):.1f} ms "
        f"during; ranges p50 "
        + ", ".join(
            f"{k} {v:.1f} ms ({result.range_points[k]} pts, {result.range_sources[k]})"
            for k, v in result.range_p50_ms.items()
        )  # fmt: skip
    )
