"""The benchmarks still run: tiny sizes, no timing asserted (figures belong to `make bench`)."""

from datetime import timedelta

from sqlalchemy import text

from app.extensions import db
from bench.alerts import run_alerts
from bench.history import START, SYMBOLS, run_history
from bench.ingest import run_ingest
from bench.notify import run_notify
from devstack.processes import running_web


def test_notify_benchmark_delivers_every_alert_once(app, settings, server_env, tmp_path):
    result = run_notify(app, settings, server_env, count=25, logs=tmp_path)
    assert (result.alerts, result.received, result.duplicates) == (25, 25, 0)
    assert result.check_seconds > 0 and result.deliver_seconds > 0


def test_alerts_benchmark_runs(ctx):
    calls: list[int] = []

    def once(rounds, run):
        calls.append(rounds)
        run(0)
        return 0.001

    results = run_alerts(once, rounds=1, large=100)
    assert set(results) == {"spread over 500 symbols", "all on one symbol", "hot symbol (batch of one symbol)"}
    assert len(calls) == 6


def test_ingest_benchmark_stores_every_tick(app, server_env, tmp_path):
    result = run_ingest(app, server_env, tmp_path, count=300)
    assert result.ticks == 300 and result.seconds > 0
    assert any(name.startswith("bridge:") for name in result.max_rss_mb)


def test_history_benchmark_loads_rows_and_times_answers(app, server_env, tmp_path):
    with running_web(server_env, tmp_path, LOG_LEVEL="WARNING") as web:
        result = run_history(app, web.base_url, rows=len(SYMBOLS) * 150, requests=20)
    assert (result.rows, result.requests) == (len(SYMBOLS) * 150, 20)
    assert 0 < result.p50_ms <= result.p99_ms
    with app.app_context():
        newest = db.session.execute(
            text("SELECT count(*), max(observed_at) FROM ticks WHERE symbol = 'H007-USD'")
        ).one()  # fmt: skip
    assert newest == (150, START + timedelta(seconds=2 * 149))
