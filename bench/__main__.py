"""``make bench``: the pipeline's hot paths on real embedded servers, compared as ratios in one run.

1. Persist: one bulk INSERT ... ON CONFLICT for a batch vs one statement per tick.
2. Dispatch: one Celery task per batch (what the bridge does) vs one task per tick.
3. Alert check: a 500-tick batch against 100,000 active alerts vs 10 (spread, one symbol, hot).
4. Notify: one batch fires 10,000 alerts toward a local webhook; all delivered exactly once.
5. Fanout: 1,000 /ws clients on the web process as the Procfile starts it, while ticks flow.
6. Ingest: 200,000 preloaded ticks through bridge + worker, vs one tick per task.

``BENCH=notify make bench`` runs one (names: persist, dispatch, alerts, notify, fanout; comma-separated).
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
from app.prices import store_ticks, sync_symbols
from app.ticks import Tick
from bench.alerts import explain_hot, run_alerts
from bench.fanout import run_fanout, summary
from bench.ingest import run_ingest
from bench.notify import run_notify
from config.settings import load_settings
from devstack.processes import running_stack
from devstack.servers import embedded_servers, free_port

BATCH = 500
ROUNDS = 5
NOTIFY_ALERTS = 10_000
ALERTS_LARGE = 100_000
BENCHMARKS = ("persist", "dispatch", "alerts", "notify", "fanout", "ingest")
INGEST_TICKS = 200_000
INGEST_PER_TICK = 5_000
FANOUT_CLIENTS = 1_000
FANOUT_SECONDS = 20


def ticks(count: int, offset: int) -> list[Tick]:
    start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=offset)
    now = datetime.now(UTC)
    symbols = ("BTC-USD", "ETH-USD", "DOGE-USD")
    return [
        Tick(symbols[i % 3], Decimal("100") + i, start + timedelta(seconds=i), now, "simulated") for i in range(count)
    ]


def best_of(rounds: int, run: Callable[[int], None]) -> float:
    """Median seconds of ``rounds`` runs (each gets its round number)."""
    samples = []
    for n in range(rounds):
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
    data_dir = Path(tempfile.mkdtemp(prefix="stockticker-bench-"))
    env = {"DATA_DIR": str(data_dir), "EMBEDDED_REDIS_PORT": str(free_port()), "EMBEDDED_KAFKA_PORT": str(free_port())}
    lines: list[str] = []
    with embedded_servers(load_settings(env)) as servers:
        settings = load_settings(env | servers.env | {"LOG_LEVEL": "WARNING"})
        app = create_app(settings)
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            sync_symbols(settings.symbols)
            rows: list[tuple[str, float, str]] = []

            if "persist" in chosen:
                bulk = best_of(ROUNDS, lambda n: store_ticks(ticks(BATCH, n)))
                single = best_of(ROUNDS, lambda n: [store_ticks([t]) for t in ticks(BATCH, 100 + n)])
                rows.append((f"persist {BATCH} ticks, one bulk statement", BATCH / bulk, "ticks/s"))
                rows.append((f"persist {BATCH} ticks, one statement each", BATCH / single, "ticks/s"))
                lines.append(f"bulk persist is {single / bulk:.1f}x faster than per-tick statements")

            if "dispatch" in chosen:
                celery = Celery("bench", broker=settings.redis_url)
                messages = [t.to_message() for t in ticks(BATCH, 200)]
                per_batch = best_of(ROUNDS, lambda n: celery.send_task("bench.noop", (messages,)))
                per_tick = best_of(ROUNDS, lambda n: [celery.send_task("bench.noop", ([m],)) for m in messages])
                rows.append((f"dispatch {BATCH} ticks as one task", BATCH / per_batch, "ticks/s"))
                rows.append((f"dispatch {BATCH} ticks as one task each", BATCH / per_tick, "ticks/s"))
                lines.append(f"per-batch dispatch is {per_tick / per_batch:.1f}x faster than per-tick tasks")
                celery.close()

            if "alerts" in chosen:
                for shape, (small, large) in run_alerts(best_of, ROUNDS * 2, ALERTS_LARGE).items():
                    rows.append((f"alert check of {BATCH} ticks, 10 alerts, {shape}", small * 1000, "ms"))
                    rows.append((f"alert check of {BATCH} ticks, {ALERTS_LARGE:,} alerts, {shape}", large * 1000, "ms"))
                    lines.append(
                        f"alerts, {shape}: {ALERTS_LARGE:,} active alerts cost {large / small:.2f}x 10 (target <= 2x)"
                    )
                if os.environ.get("BENCH_EXPLAIN"):
                    print(explain_hot(ALERTS_LARGE))

        if "notify" in chosen:
            result = run_notify(app, settings, env | servers.env, NOTIFY_ALERTS, data_dir)
            rows.append((f"deliver {result.alerts:,} fired alerts to a webhook", result.alerts / result.deliver_seconds,
                         "deliveries/s"))  # fmt: skip
            lines.append(
                f"notify: {result.received:,} of {result.alerts:,} received, {result.duplicates} duplicates; "
                f"alert-check task {result.check_seconds:.2f} s (fires and queues), "
                f"all delivered {result.deliver_seconds:.1f} s after the tick"
            )

        if "fanout" in chosen:
            with running_stack(env | servers.env, data_dir, LOG_LEVEL="WARNING") as stack:
                fanout = run_fanout(stack.base_url, FANOUT_CLIENTS, FANOUT_SECONDS, stack.procs["web"].pid)
            rows.append((f"fanout to {fanout.clients:,} sockets, delivery p99", fanout.delivery_p99_ms, "ms"))
            lines.append(summary(fanout))

        if "ingest" in chosen:
            batched = run_ingest(app, env | servers.env, data_dir, INGEST_TICKS)
            per_tick = run_ingest(app, env | servers.env, data_dir, INGEST_PER_TICK, max_poll_records=1)
            rows.append((f"ingest {INGEST_TICKS:,} ticks, batches of up to 500", batched.rate, "ticks/s"))
            rows.append((f"ingest {INGEST_PER_TICK:,} ticks, one tick per task", per_tick.rate, "ticks/s"))
            lines.append(
                f"ingest: {batched.rate:,.0f} ticks/s (target >= 15,000), {batched.rate / per_tick.rate:.1f}x one tick "
                f"per task (target >= 20x); peak RSS per process: "
                + ", ".join(f"{k} {v:.0f} MB" for k, v in sorted(batched.max_rss_mb.items()))
            )

    width = max(len(name) for name, _, _ in rows)
    for name, value, unit in rows:
        print(f"{name:<{width}}  {value:>12,.0f} {unit}")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
