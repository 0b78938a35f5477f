"""``make bench``: the pipeline's hot paths on real embedded servers, compared as ratios in one run.

1. Persist: one bulk INSERT ... ON CONFLICT for a batch vs one statement per tick.
2. Dispatch: one Celery task per batch (what the bridge does) vs one task per tick.
3. Alert check: a 500-tick batch against 100,000 active alerts vs 10, for each mix of rule kinds
   (spread, one symbol, hot).
4. Notify: one batch fires 10,000 alerts toward a local webhook; all delivered exactly once.
   notify-kill: 150 toward a receiver that answers in 1 s, the worker killed -9 mid-send.
5. Fanout: 1,000 /ws clients on the web process as the Procfile starts it, while ticks flow.
6. Latency: the same with 500 active symbols: fetch -> socket, and how much of it is before Redis.
7. Ingest: 200,000 preloaded ticks through bridge + worker, vs one tick per task.
8. History: GET /history/<symbol> (100 points) and every range of /api/history with 10,000,000 raw
   ticks and a year of candles (made in PostgreSQL); pruning a day while batches are stored.
9. Backfill: 500 symbols' past (7 days of 1 m, 2 years of 1 h, 20 years of 1 d) by the backfill
   process while the live path runs: rows/s, its peak RSS, the live path with and without it, ranges.
10. Chart: the page's first draw of a 1Y chart with SMA, EMA and Bollinger bands, in Chromium.
11. Portfolio: the value history over 1y and 30d of 20 positions, from candles and transactions.

Each figure is printed beside its target with PASS or SHORT and appended, dated, to
docs/benchmarks.md. ``BENCH=notify make bench`` runs one (names: persist, dispatch, alerts, notify, notify-kill,
fanout, latency, ingest, history, backfill, chart, portfolio; comma-separated); ``BENCH_EXPLAIN=1`` prints the
alert check's plan.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from celery import Celery

from app import create_app
from app.market.prices import store_ticks
from app.market.ticks import Tick
from app.market.watchlist import sync_symbols
from bench.alerts import NEW_CANDLE, explain, run_alerts
from bench.backfill import run_backfill
from bench.backfill import summary as backfill_summary
from bench.chart_render import run_chart_render
from bench.chart_render import summary as chart_summary
from bench.fanout import Views, run_fanout, summary
from bench.history import run_history, storage_per_symbol_year
from bench.history import summary as history_summary
from bench.ingest import run_ingest
from bench.notify import run_notify
from bench.portfolio import SYMBOLS as PORTFOLIO_SYMBOLS
from bench.portfolio import run_portfolio
from bench.report import RUNS_FILE, Figure, append_runs, print_figures
from config.settings import PROJECT_ROOT, load_settings
from devstack.processes import running_stack, running_web
from devstack.servers import embedded_servers, free_port

BATCH = 500
ROUNDS = 5
NOTIFY_ALERTS = 10_000
ALERTS_LARGE = 100_000
BENCHMARKS = (
    "persist", "dispatch", "alerts", "notify", "notify-kill", "fanout", "latency", "ingest", "backfill", "chart",
    "portfolio", "history",
)  # fmt: skip
BACKFILL_SYMBOLS = [f"B{n:03d}-USD" for n in range(int(os.environ.get("BENCH_BACKFILL_SYMBOLS", "500")))]
# 20,000 raw ticks (11 h at 2 s) for each of 500 symbols: 10,000,000 rows. A year of minute candles
# for HISTORY_CANDLE_SYMBOLS of them (500 makes 263 million rows: about an hour to build here).
HISTORY_RAW_PER_SYMBOL = 20_000
HISTORY_CANDLE_SYMBOLS = int(os.environ.get("BENCH_CANDLE_SYMBOLS", "20"))
HISTORY_REQUESTS = 200
LATENCY_SYMBOLS = [f"L{n:03d}-USD" for n in range(500)]
LATENCY_SHOWN = 20  # symbols a page shows (cards in view): 500 distinct screens of 20


def latency_view(number: int) -> tuple[list[str], list[str]]:
    """Client ``number``'s screen: 20 consecutive symbols from its own start; it keeps the rest."""
    start = number % len(LATENCY_SYMBOLS)
    shows = [LATENCY_SYMBOLS[(start + k) % len(LATENCY_SYMBOLS)] for k in range(LATENCY_SHOWN)]
    return shows, [s for s in LATENCY_SYMBOLS if s not in set(shows)]


INGEST_TICKS = 200_000
INGEST_PER_TICK = 5_000
FANOUT_CLIENTS = 1_000
FANOUT_SECONDS = 20
RUNS = int(os.environ.get("BENCH_RUNS", "3"))  # fanout, latency and ingest: the median of three


def ticks(count: int, offset: int) -> list[Tick]:
    start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=offset)
    now = datetime.now(UTC)
    symbols = ("BTC-USD", "ETH-USD", "DOGE-USD")
    return [
        Tick(symbols[i % 3], Decimal("100") + i, start + timedelta(seconds=i), now, "simulated") for i in range(count)
    ]


def best_of(rounds: int, run: Callable[[int], None], setup: Callable[[], None] | None = None) -> float:
    """Median seconds of ``rounds`` runs (each gets its round number), each after ``setup``, untimed."""
    samples = []
    for n in range(rounds):
        if setup is not None:
            setup()
        started = time.perf_counter()
        run(n)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def selected() -> tuple[str, ...]:
    names = tuple(n.strip() for n in os.environ.get("BENCH", "").split(",") if n.strip()) or BENCHMARKS
    unknown = set(names) - set(BENCHMARKS)
    if unknown:
        raise SystemExit(f"BENCH names unknown benchmarks {sorted(unknown)}; choose from {', '.join(BENCHMARKS)}")
    return names


def main() -> None:
    chosen = selected()
    # The servers' data (gigabytes after the history benchmark) goes with the run.
    with tempfile.TemporaryDirectory(prefix="stockticker-bench-") as folder:
        run(chosen, Path(folder))


def run(chosen: tuple[str, ...], data_dir: Path) -> None:
    env = {"DATA_DIR": str(data_dir), "EMBEDDED_REDIS_PORT": str(free_port()), "EMBEDDED_KAFKA_PORT": str(free_port())}
    figures: list[Figure] = []
    lines: list[str] = []

    def add(benchmark: str, name: str, value: float, unit: str, target: float | None = None, higher: bool = True):
        figures.append(Figure(benchmark, name, value, unit, target, higher, os.getloadavg()[0]))

    with embedded_servers(load_settings(env)) as servers:
        settings = load_settings(env | servers.env | {"LOG_LEVEL": "WARNING"})
        app = create_app(settings)
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            sync_symbols(settings.symbols)

            if "persist" in chosen:
                bulk = best_of(ROUNDS, lambda n: store_ticks(ticks(BATCH, n)))
                single = best_of(ROUNDS, lambda n: [store_ticks([t]) for t in ticks(BATCH, 100 + n)])
                add("persist", f"persist {BATCH} ticks, one statement", BATCH / bulk, "ticks/s")
                add("persist", f"persist {BATCH} ticks, one statement each", BATCH / single, "ticks/s")
                add("persist", "bulk vs per-tick statements", single / bulk, "x")

            if "dispatch" in chosen:
                celery = Celery("bench", broker=settings.redis_url)
                messages = [t.to_message() for t in ticks(BATCH, 200)]
                per_batch = best_of(ROUNDS, lambda n: celery.send_task("bench.noop", (messages,)))
                per_tick = best_of(ROUNDS, lambda n: [celery.send_task("bench.noop", ([m],)) for m in messages])
                add("dispatch", f"dispatch {BATCH} ticks as one task", BATCH / per_batch, "ticks/s")
                add("dispatch", f"dispatch {BATCH} ticks as one task each", BATCH / per_tick, "ticks/s")
                add("dispatch", "per-batch vs per-tick tasks", per_tick / per_batch, "x")
                celery.close()

            if "alerts" in chosen:
                for (kind, shape), (small, large) in run_alerts(best_of, ROUNDS * 2, ALERTS_LARGE).items():
                    add("alerts", f"alert check, {kind}, 10 alerts, {shape}", small * 1000, "ms")
                    add("alerts", f"alert check, {kind}, {ALERTS_LARGE:,} alerts, {shape}", large * 1000, "ms")
                    if shape != NEW_CANDLE:  # a minute's first batches: how much more, no target
                        add("alerts", f"{kind}: {ALERTS_LARGE:,} vs 10 alerts, {shape}", large / small, "x", 2,
                            higher=False)  # fmt: skip
                if os.environ.get("BENCH_EXPLAIN"):
                    print(explain(ALERTS_LARGE, hot=False), explain(ALERTS_LARGE, hot=True), sep="\n\n")

        if "notify" in chosen:
            result = run_notify(app, settings, env | servers.env, NOTIFY_ALERTS, data_dir)
            add("notify", f"{result.alerts:,} fired alerts delivered once", result.received - result.duplicates,
                "deliveries", result.alerts)  # fmt: skip
            add("notify", "duplicates", result.duplicates, "deliveries", 0, higher=False)
            add("notify", "alert-check task (fires and queues)", result.check_seconds, "s")
            add("notify", "all delivered after the tick", result.deliver_seconds, "s")

        if "notify-kill" in chosen:
            # The issue-19 probe: a slow receiver (1 s), the worker killed -9 0.04 s after the first
            # message reached it; 4 of 150 went twice. Copies can go twice (sent, not yet recorded):
            # each carries its delivery's Idempotency-Key, so a receiver that keeps keys gets one.
            killed = run_notify(app, settings, env | servers.env, 150, data_dir, receiver_delay=1.0, kill_after=0.04)
            add("notify-kill", "alerts received (of 150)", killed.received - killed.duplicates, "alerts", 150)
            add("notify-kill", "copies sent twice", killed.duplicates, "copies", higher=False)
            add("notify-kill", "copies twice once seen keys are dropped", killed.duplicates_by_key, "copies", 0,
                higher=False)  # fmt: skip

        def fanout_runs(views: Views | None = None, **changes: str) -> Callable[[str], float]:
            """RUNS fresh stacks with FANOUT_CLIENTS sockets each; the median of a result field."""
            runs = []
            for _ in range(RUNS):
                with running_stack(env | servers.env, data_dir, LOG_LEVEL="WARNING", **changes) as stack:
                    runs.append(run_fanout(stack, FANOUT_CLIENTS, FANOUT_SECONDS, views))
                lines.append(summary(runs[-1]))
            return lambda field: statistics.median(getattr(r, field) for r in runs)

        if "fanout" in chosen:
            med = fanout_runs()
            add("fanout", f"clients that got every tick (of {FANOUT_CLIENTS:,})", med("complete"), "clients",
                FANOUT_CLIENTS)  # fmt: skip
            add("fanout", "delivery p99", med("delivery_p99_ms"), "ms", 80, higher=False)
            add("fanout", "delivery p50", med("delivery_p50_ms"), "ms", 30, higher=False)
            add("fanout", "plain HTTP p99 meanwhile", med("http_p99_ms"), "ms", 100, higher=False)
            add("fanout", f"web RSS with {FANOUT_CLIENTS:,} sockets", med("web_rss_mb"), "MB", 300, higher=False)

        if "latency" in chosen:
            with app.app_context():
                sync_symbols(LATENCY_SYMBOLS)  # what `flask setup` does with this SYMBOLS
            # (name, how each client subscribes, p50 and p99 targets): pages showing 20 symbols
            # each (500 distinct screens), pages showing all 500, and clients that never subscribe
            for name, views, p50, p99 in (
                (f"each shows {LATENCY_SHOWN}", latency_view, 60, 150),
                (f"each shows all {len(LATENCY_SYMBOLS)}", lambda n: (LATENCY_SYMBOLS, []), 150, 300),
                ("none subscribes", None, 150, 300),
            ):
                med = fanout_runs(views, SYMBOLS=",".join(LATENCY_SYMBOLS))
                add("latency", f"{name}: clients that got every tick they show (of {FANOUT_CLIENTS:,})",
                    med("complete"), "clients", FANOUT_CLIENTS)  # fmt: skip
                add("latency", f"{name}: fetch -> socket p50", med("delivery_p50_ms"), "ms", p50, higher=False)
                add("latency", f"{name}: fetch -> socket p99", med("delivery_p99_ms"), "ms", p99, higher=False)
                add("latency", f"{name}: of which fetch -> Redis PUBLISH p50", med("published_p50_ms"), "ms")
                add("latency", f"{name}: plain HTTP p99 meanwhile", med("http_p99_ms"), "ms", 100, higher=False)
                add("latency", f"{name}: bytes to the clients per fetch", med("bytes_per_fetch") / 1e6, "MB")
                add("latency", f"{name}: web RSS with {FANOUT_CLIENTS:,} sockets", med("web_rss_mb"), "MB", 300,
                    higher=False)  # fmt: skip
            with app.app_context():
                sync_symbols(settings.symbols)

        if "ingest" in chosen:
            batched, bare, untracked = [], [], []
            for _ in range(RUNS):  # interleaved, so a drift in the machine's load hits all alike
                batched.append(run_ingest(app, env | servers.env, data_dir, INGEST_TICKS))
                bare.append(run_ingest(app, env | servers.env, data_dir, INGEST_TICKS, candles=False))
                untracked.append(run_ingest(app, env | servers.env, data_dir, INGEST_TICKS, tracked=False))
            per_tick = run_ingest(app, env | servers.env, data_dir, INGEST_PER_TICK, max_poll_records=1)
            rate = statistics.median(r.rate for r in batched)
            bare_rate = statistics.median(r.rate for r in bare)
            add("ingest", f"ingest {INGEST_TICKS:,} ticks without candles (CANDLES=off)", bare_rate, "ticks/s")
            add("ingest", "throughput the candles cost", (1 - rate / bare_rate) * 100, "%", 15, higher=False)
            untracked_rate = statistics.median(r.rate for r in untracked)
            add("ingest", f"ingest {INGEST_TICKS:,} ticks without offset tracking", untracked_rate, "ticks/s")
            add("ingest", "throughput the offset tracking costs", (1 - rate / untracked_rate) * 100, "%", 10,
                higher=False)  # fmt: skip
            peak = max(v for r in batched for v in r.max_rss_mb.values())
            add("ingest", f"ingest {INGEST_TICKS:,} ticks end to end", rate, "ticks/s", 15_000)
            add("ingest", "batched vs one tick per task", rate / per_tick.rate, "x", 20)
            add("ingest", "largest process RSS during ingest", peak, "MB", 150, higher=False)
            lines.append(
                "ingest peak RSS per process: "
                + ", ".join(f"{k} {v:.0f} MB" for k, v in sorted(batched[0].max_rss_mb.items()))
            )

        if "backfill" in chosen:
            done = run_backfill(app, env | servers.env, data_dir, BACKFILL_SYMBOLS)
            with app.app_context():
                sync_symbols(settings.symbols)
            lines.append(backfill_summary(done))
            add("backfill", f"bars of {done.symbols} symbols' past stored", done.rows, "rows")
            add("backfill", "rows per second into the candle tables", done.rows_per_second, "rows/s")
            add("backfill", "backfill process peak RSS", done.peak_rss_mb, "MB")
            for when in ("without", "during"):
                add("backfill", f"fetch -> socket p50 {when} the backfill", done.delivery_p50_ms[when], "ms")
                add("backfill", f"persist p99 {when} the backfill", done.persist_p99_ms[when], "ms")
            add("backfill", "fetch -> socket p50, during vs without", done.delivery_p50_ms["during"]
                / done.delivery_p50_ms["without"], "x", 1.5, higher=False)  # fmt: skip
            add("backfill", "persist p99, during vs without", done.persist_p99_ms["during"]
                / done.persist_p99_ms["without"], "x", 1.5, higher=False)  # fmt: skip
            for name, p50 in done.range_p50_ms.items():
                add("backfill", f"range {name} p50 ({done.range_points[name]} points, {done.range_sources[name]})",
                    p50, "ms", 20, higher=False)  # fmt: skip

        if "chart" in chosen:
            drawn = run_chart_render(env | servers.env, data_dir)
            lines.append(chart_summary(drawn))
            add("chart", "1Y chart with SMA, EMA and Bollinger drawn, first open", drawn.first_ms, "ms")
            add("chart", f"1Y chart with SMA, EMA and Bollinger drawn p50 ({drawn.points} buckets)", drawn.p50_ms,
                "ms", 300, higher=False)  # fmt: skip

        if "portfolio" in chosen:
            with running_web(env | servers.env, data_dir, LOG_LEVEL="WARNING") as web:
                held = run_portfolio(app, web.base_url, HISTORY_REQUESTS)
            for name in held.p50_ms:
                what = f"value history {name}, {len(PORTFOLIO_SYMBOLS)} positions ({held.points[name]} points)"
                add("portfolio", f"{what} p50", held.p50_ms[name], "ms", 50 if name == "1y" else None, higher=False)
                add("portfolio", f"{what} p99", held.p99_ms[name], "ms")

        if "history" in chosen:  # last: it leaves millions of rows behind
            with running_web(env | servers.env, data_dir, LOG_LEVEL="WARNING") as web:
                history = run_history(
                    app, web.base_url, HISTORY_RAW_PER_SYMBOL, HISTORY_CANDLE_SYMBOLS, HISTORY_REQUESTS
                )
            lines.append(history_summary(history))
            for table, count in history.rows.items():
                add("history", f"rows in {table}", count, "rows")
            add("history", "made in PostgreSQL in", history.load_seconds, "s")
            for table, size in history.bytes_per_row.items():
                add("history", f"bytes per row in {table} (with its indexes)", size, "B")
            per_year = storage_per_symbol_year(history.bytes_per_row, settings)
            add("history", "storage per symbol at the default retention, first year", per_year / 1e6, "MB")
            add("history", "GET /history/<symbol> (100 points) p50", history.last_points_p50_ms, "ms", 20, higher=False)
            add("history", "GET /history/<symbol> (100 points) p99", history.last_points_p99_ms, "ms")
            for name, p50 in history.p50_ms.items():
                add("history", f"range {name} p50 ({history.points[name]} points, {history.sources[name]})", p50, "ms",
                    20, higher=False)  # fmt: skip
            add("history", f"pruning a day of raw ticks ({history.pruned_rows:,} rows)", history.prune_seconds, "s")
            add("history", "500-tick insert p99 before pruning", history.insert_p99_before_ms, "ms")
            add("history", "500-tick insert p99 while pruning", history.insert_p99_during_ms, "ms")
            add("history", "500-tick insert slowest while pruning", history.insert_max_during_ms, "ms")

    print_figures(figures)
    print("\n".join(lines))
    append_runs(figures)
    print(f"rows appended to {RUNS_FILE.relative_to(PROJECT_ROOT)}")


if __name__ == "__main__":
    main()
